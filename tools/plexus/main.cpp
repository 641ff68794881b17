// plexus: the command-line client. Subcommands live in the table below: a new one is a
// run_* function in its own file, declared in command.hpp, and one line here.
#include <algorithm>
#include <array>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

#include "plexus/abi.h"
#include "plexus/plugin.hpp"
#include "tools/plexus/command.hpp"

namespace plexus::cli {
namespace {

constexpr std::array kCommands = {
    Command{"login", "--url URL --username NAME [...]", "sign in to a plexusd and save the session", &run_login},
    Command{"logout", "[--url URL]", "end the saved session", &run_logout},
    Command{"user", "add|list|passwd|disable|enable ...", "manage users (REST)", &run_user},
    Command{"apikey", "create|list|revoke ...", "manage API keys (REST)", &run_apikey},
    Command{"audit", "verify --config FILE [--data-dir DIR]", "check the audit log's hash chain (offline)",
            &run_audit},
    Command{"new-plugin", "NAME [DIR]", "create a plugin project from the SDK template (offline)",
            &run_new_plugin},
};

const Command* find_command(std::string_view name) {
  for (const auto& command : kCommands) {
    if (command.name == name) return &command;
  }
  return nullptr;
}

void print_version(std::ostream& out) {
  out << "plexus " << PLEXUS_VERSION << " (plugin SDK " << PLEXUS_SDK_VERSION << ", ABI " << PLEXUS_ABI_MAJOR
      << "." << PLEXUS_ABI_MINOR << ")\n";
}

void print_usage(std::ostream& out) {
  out << "usage: plexus [--help] [--version] COMMAND [ARGS...]\n\ncommands:\n";
  std::size_t width = 0;
  for (const auto& command : kCommands)
    width = std::max(width, command.name.size() + 1 + command.synopsis.size());
  for (const auto& command : kCommands) {
    std::string head = std::string(command.name) + " " + std::string(command.synopsis);
    head.resize(width, ' ');
    out << "  " << head << "  " << command.summary << "\n";
  }
  out << "\nREST commands talk to plexusd at --url (default: the server of the saved session) with the\n"
         "session 'plexus login' saved. 'plexus COMMAND --help' describes one command.\n"
         "Exit status: 0 success, 1 failure, 2 usage error.\n";
}

int run(std::span<const std::string_view> args) {
  const Context context{std::cout, std::cerr, std::cin, ::isatty(STDIN_FILENO) == 1};
  if (args.empty()) {
    print_usage(std::cerr);
    return kExitUsage;
  }
  const std::string_view first = args.front();
  if (first == "-h" || first == "--help") {
    print_usage(std::cout);
    return kExitOk;
  }
  if (first == "-V" || first == "--version") {
    print_version(std::cout);
    return kExitOk;
  }
  if (first == "help") {
    if (args.size() == 1) {
      print_usage(std::cout);
      return kExitOk;
    }
    if (const auto* command = find_command(args[1])) {
      const std::array<std::string_view, 1> help{"--help"};
      return command->run(context, help);
    }
    std::cerr << "plexus: unknown command '" << args[1] << "'; 'plexus --help' lists them\n";
    return kExitUsage;
  }
  if (first.starts_with("-")) {
    std::cerr << "plexus: unknown option '" << first << "'; 'plexus --help' lists the options\n";
    return kExitUsage;
  }
  const auto* command = find_command(first);
  if (command == nullptr) {
    std::cerr << "plexus: unknown command '" << first << "'; 'plexus --help' lists them\n";
    return kExitUsage;
  }
  return command->run(context, args.subspan(1));
}

}  // namespace
}  // namespace plexus::cli

int main(int argc, char** argv) {
  try {
    const std::vector<std::string_view> args(argv + 1, argv + argc);
    return plexus::cli::run(args);
  } catch (const std::exception& e) {
    std::cerr << "plexus: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "plexus: unexpected error\n";
  }
  return plexus::cli::kExitFailure;
}
