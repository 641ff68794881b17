#include "tools/plexus/arguments.hpp"

#include <algorithm>
#include <charconv>

namespace plexus::cli {

std::optional<std::string> ParsedArguments::value(std::string_view name) const {
  auto it = values.find(name);
  if (it == values.end() || it->second.empty()) return std::nullopt;
  return it->second.back();
}

std::vector<std::string> ParsedArguments::list(std::string_view name) const {
  std::vector<std::string> result;
  auto it = values.find(name);
  if (it == values.end()) return result;
  for (const auto& value : it->second) {
    std::string_view rest = value;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      const auto item = rest.substr(0, comma);
      if (!item.empty()) result.emplace_back(item);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return result;
}

ParsedArguments parse_arguments(std::span<const std::string_view> args, std::span<const OptionSpec> specs) {
  ParsedArguments parsed;
  bool options_ended = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (options_ended || arg == "-" || !arg.starts_with("-")) {
      parsed.positionals.emplace_back(arg);
      continue;
    }
    if (arg == "--") {
      options_ended = true;
      continue;
    }
    if (arg == "-h" || arg == "--help") {
      parsed.help = true;
      continue;
    }
    if (!arg.starts_with("--")) throw UsageError("unknown option '" + std::string(arg) + "'");
    std::string_view name = arg.substr(2);
    std::optional<std::string_view> inline_value;
    if (const auto equals = name.find('='); equals != std::string_view::npos) {
      inline_value = name.substr(equals + 1);
      name = name.substr(0, equals);
    }
    const auto spec =
        std::find_if(specs.begin(), specs.end(), [&](const OptionSpec& s) { return s.name == name; });
    if (spec == specs.end()) throw UsageError("unknown option '--" + std::string(name) + "'");
    if (spec->kind == OptionSpec::Kind::flag) {
      if (inline_value) throw UsageError("option '--" + std::string(name) + "' takes no value");
      parsed.flags.emplace(name);
      continue;
    }
    std::string_view value;
    if (inline_value) {
      value = *inline_value;
    } else {
      if (i + 1 >= args.size()) throw UsageError("option '--" + std::string(name) + "' needs a value");
      value = args[++i];
    }
    if (value.empty()) throw UsageError("option '--" + std::string(name) + "' needs a non-empty value");
    auto& slot = parsed.values[std::string(name)];
    if (spec->kind == OptionSpec::Kind::value) slot.clear();  // the last one wins
    slot.emplace_back(value);
  }
  return parsed;
}

std::optional<std::int64_t> parse_duration_seconds(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::int64_t unit = 1;
  switch (text.back()) {
    case 's': unit = 1; break;
    case 'm': unit = 60; break;
    case 'h': unit = 3600; break;
    case 'd': unit = 86400; break;
    case 'w': unit = 7 * 86400; break;
    default: unit = 0; break;
  }
  const std::string_view digits = unit == 0 ? text : text.substr(0, text.size() - 1);
  if (unit == 0) unit = 1;
  std::int64_t count = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), count);
  if (digits.empty() || error != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
  constexpr std::int64_t kMaxSeconds = 100LL * 366 * 86400;
  if (count <= 0 || count > kMaxSeconds / unit) return std::nullopt;
  return count * unit;
}

}  // namespace plexus::cli
