// A subcommand's arguments: declared options (--name VALUE or --name=VALUE), flags and
// positional arguments. Anything undeclared is a usage error, so a typo never runs.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace plexus::cli {

// Bad arguments: the command prints the message and exits with kExitUsage.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct OptionSpec {
  enum class Kind { flag, value, repeated };
  std::string_view name;  // without the dashes: "url"
  Kind kind = Kind::value;
};

struct ParsedArguments {
  std::map<std::string, std::vector<std::string>, std::less<>> values;
  std::set<std::string, std::less<>> flags;
  std::vector<std::string> positionals;
  bool help = false;  // -h or --help anywhere

  // The option's (last) value; nullopt when not given.
  std::optional<std::string> value(std::string_view name) const;
  // Every value of a repeated option, in order; also splits "a,b" into "a" and "b".
  std::vector<std::string> list(std::string_view name) const;
  bool flag(std::string_view name) const { return flags.contains(name); }
};

// Throws UsageError for an unknown option, a missing or empty value, or a flag given a value.
// "--" ends the options; "-" alone is a positional argument.
ParsedArguments parse_arguments(std::span<const std::string_view> args, std::span<const OptionSpec> specs);

// "90" (seconds), "45s", "30m", "12h", "30d", "2w" -> seconds; nullopt when malformed,
// zero or larger than 100 years.
std::optional<std::int64_t> parse_duration_seconds(std::string_view text);

}  // namespace plexus::cli
