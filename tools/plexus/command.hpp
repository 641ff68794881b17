// The `plexus` CLI: one entry per subcommand in main.cpp's table. A subcommand gets
// its own arguments (after its name) and returns the process exit status.
#pragma once

#include <iosfwd>
#include <span>
#include <string_view>

namespace plexus::cli {

// Exit statuses shared by every subcommand.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the command ran and failed
inline constexpr int kExitUsage = 2;    // bad arguments; nothing was done

struct Context {
  std::ostream& out;
  std::ostream& err;
  std::istream& in;
  bool interactive = false;  // standard input is a terminal: passwords are prompted with echo off
};

struct Command {
  std::string_view name;
  std::string_view synopsis;  // arguments, e.g. "NAME [DIR]"
  std::string_view summary;   // one line for `plexus --help`
  int (*run)(const Context& context, std::span<const std::string_view> args);
};

// Subcommands (one file per command group). A group ("user add", "user list") is one
// table entry whose run function dispatches on its first argument.
int run_new_plugin(const Context& context, std::span<const std::string_view> args);
int run_login(const Context& context, std::span<const std::string_view> args);   // login.cpp
int run_logout(const Context& context, std::span<const std::string_view> args);  // login.cpp
int run_user(const Context& context, std::span<const std::string_view> args);    // user.cpp
int run_apikey(const Context& context, std::span<const std::string_view> args);  // apikey.cpp
int run_audit(const Context& context, std::span<const std::string_view> args);   // audit_verify.cpp

}  // namespace plexus::cli
