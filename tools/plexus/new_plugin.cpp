// plexus new-plugin NAME [DIR]: a new plugin project from the SDK's hello example,
// ready to build out of tree against an installed SDK.
#include <filesystem>
#include <fstream>
#include <ostream>
#include <string>
#include <system_error>

#include "tools/plexus/command.hpp"
#include "tools/plexus/scaffold.hpp"

namespace plexus::cli {
namespace {

void print_help(std::ostream& out) {
  out << R"(usage: plexus new-plugin NAME [DIR]

Creates a plugin project in DIR (default ./NAME) from the SDK's hello example:
  DIR/CMakeLists.txt    a standalone build: find_package(PlexusSDK), plexus_add_plugin(NAME ...)
  DIR/NAME.cpp          the plugin: GET /api/v1/NAME, an SSE stream, a counter metric
  DIR/NAME.yaml         its manifest (enabled: false), for the kernel's manifests directory
  DIR/README.md         how to build, install and enable it

NAME is lowercase letters, digits and '-', starting with a letter (at most 63).
DIR must not exist or be empty. Nothing is written when either check fails.
)";
}

bool write_file(const std::filesystem::path& path, const std::string& text, std::string& error) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  if (!file) {
    error = "cannot create " + path.string();
    return false;
  }
  file.write(text.data(), static_cast<std::streamsize>(text.size()));
  file.close();
  if (!file) {
    error = "cannot write " + path.string();
    return false;
  }
  return true;
}

}  // namespace

int run_new_plugin(const Context& context, std::span<const std::string_view> args) {
  for (auto arg : args) {
    if (arg == "-h" || arg == "--help") {
      print_help(context.out);
      return kExitOk;
    }
  }
  for (auto arg : args) {
    if (arg.starts_with("-")) {
      context.err << "plexus new-plugin: unknown option '" << arg << "'\n";
      return kExitUsage;
    }
  }
  if (args.empty() || args.size() > 2) {
    context.err << "usage: plexus new-plugin NAME [DIR]   ('plexus new-plugin --help' explains)\n";
    return kExitUsage;
  }
  const std::string_view name = args[0];
  if (auto problem = invalid_plugin_name(name)) {
    context.err << "plexus new-plugin: invalid plugin name '" << name << "': " << *problem
                << " (e.g. disk-usage)\n";
    return kExitUsage;
  }
  const std::filesystem::path dir(args.size() == 2 ? args[1] : name);

  std::error_code ec;
  const auto status = std::filesystem::status(dir, ec);
  if (std::filesystem::exists(status)) {
    if (!std::filesystem::is_directory(status)) {
      context.err << "plexus new-plugin: " << dir.string() << " exists and is not a directory\n";
      return kExitFailure;
    }
    if (!std::filesystem::is_empty(dir, ec) || ec) {
      context.err << "plexus new-plugin: " << dir.string()
                  << (ec ? " cannot be read" : " already exists and is not empty")
                  << "; choose a new or empty directory\n";
      return kExitFailure;
    }
  }

  const auto names = plugin_names(name);
  const auto files = scaffold(names);
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    context.err << "plexus new-plugin: cannot create " << dir.string() << ": " << ec.message() << "\n";
    return kExitFailure;
  }
  for (const auto& file : files) {
    std::string error;
    if (!write_file(dir / file.path, file.text, error)) {
      context.err << "plexus new-plugin: " << error << "\n";
      return kExitFailure;
    }
  }

  const std::string d = dir.string();
  context.out << "Created plugin '" << names.name << "' in " << d << ":\n";
  for (const auto& file : files) context.out << "  " << (dir / file.path).string() << "\n";
  context.out << "\nNext:\n"
              << "  cmake -S " << d << " -B " << d << "/build -DCMAKE_PREFIX_PATH=<SDK prefix>\n"
              << "  cmake --build " << d << "/build\n"
              << "  cp " << d << "/build/libplexus_" << names.snake << ".so <plugin dir>/\n"
              << "  cp " << d << "/" << names.name << ".yaml <manifests dir>/   (then set enabled: true)\n"
              << "See docs/plugin-authors.md.\n";
  return kExitOk;
}

}  // namespace plexus::cli
