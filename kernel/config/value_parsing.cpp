#include "kernel/config/value_parsing.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "kernel/config/secret_references.hpp"
#include "kernel/config/units.hpp"

namespace plexus::config {
namespace {

std::string_view trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n";
  std::size_t first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

std::vector<std::string_view> split_commas(std::string_view text) {
  std::vector<std::string_view> items;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = std::min(text.find(',', start), text.size());
    if (std::string_view item = trim(text.substr(start, comma - start)); !item.empty()) items.push_back(item);
    start = comma + 1;
  }
  return items;
}

std::string expectation(Type type) {
  switch (type) {
    case Type::boolean: return "expected true or false";
    case Type::integer: return "expected an integer";
    case Type::number: return "expected a number";
    case Type::string: return "expected a string";
    case Type::duration: return "expected a duration such as 250ms, 30s, 5m, 2h or 1d (a bare number means seconds)";
    case Type::size: return "expected a size such as 512, 16KiB, 8MiB, 1GiB or 10MB (a bare number means bytes)";
    case Type::string_list: return "expected a list of strings";
    case Type::string_map: return "expected a map of names to strings";
  }
  return "unexpected type";
}

using Formatter = std::string (*)(std::int64_t);

std::string format_integer(std::int64_t value) { return std::to_string(value); }

std::string join(const std::vector<std::string>& items) {
  std::string joined;
  for (const std::string& item : items) joined += (joined.empty() ? "" : ", ") + item;
  return joined;
}

// Checks one key's value as it is read, collecting what secret references resolved to.
class ValueParser {
 public:
  ValueParser(const KeyDef& def, const References& references) : def_(def), references_(references) {}

  Value scalar(std::string_view text, const Source& source) {
    std::string_view trimmed = trim(text);
    switch (def_.type) {
      case Type::boolean: return boolean(trimmed, source);
      case Type::integer: return integer(trimmed, source);
      case Type::number: return number(trimmed, source);
      case Type::duration: return with_units(parse_duration_ms(trimmed), format_duration, trimmed, source);
      case Type::size: return with_units(parse_size_bytes(trimmed), format_size, trimmed, source);
      case Type::string: return string_item(text, source);
      case Type::string_list:
      case Type::string_map: break;  // their callers split them into string items
    }
    throw std::logic_error("config key '" + def_.path + "' is not a scalar");
  }

  // A string, a list item or a map value: references resolved, choices checked.
  std::string string_item(std::string_view text, const Source& source) {
    ResolvedText resolved;
    try {
      resolved = resolve_references(text, references_.env, references_.base_dir);
    } catch (const ReferenceError& error) {
      fail(source, def_.path, error.what());
    }
    bool from_reference = !resolved.secrets.empty();
    for (std::string& secret : resolved.secrets) secrets_.push_back(std::move(secret));
    if (!def_.choices.empty() && std::ranges::find(def_.choices, resolved.text) == def_.choices.end()) {
      fail(source, def_.path,
           "expected one of: " + join(def_.choices) + "; got " + shown(resolved.text, from_reference));
    }
    return resolved.text;
  }

  // How a bad value is quoted in an error: never the text of a secret.
  std::string shown(std::string_view text, bool from_reference = false) const {
    if (def_.secret || from_reference) return "a hidden value";
    return "'" + std::string(text) + "'";
  }

  [[noreturn]] void fail_expected(const Source& source, const std::string& got) const {
    fail(source, def_.path, expectation(def_.type) + ", got " + got);
  }

  std::vector<std::string> take_secrets() { return std::move(secrets_); }

 private:
  bool boolean(std::string_view text, const Source& source) const {
    // YAML 1.2 spellings only: yes/no/on/off are too easy to write by accident.
    if (text == "true" || text == "True" || text == "TRUE") return true;
    if (text == "false" || text == "False" || text == "FALSE") return false;
    fail_expected(source, shown(text));
  }

  std::int64_t integer(std::string_view text, const Source& source) const {
    std::int64_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error == std::errc::result_out_of_range) fail(source, def_.path, shown(text) + " is out of range");
    if (error != std::errc{} || end != text.data() + text.size()) fail_expected(source, shown(text));
    check_range(value, format_integer, text, source);
    return value;
  }

  double number(std::string_view text, const Source& source) const {
    double value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size() || !std::isfinite(value)) {
      fail_expected(source, shown(text));
    }
    check_range(value, format_integer, text, source);
    return value;
  }

  std::int64_t with_units(std::optional<std::int64_t> parsed, Formatter format, std::string_view text,
                          const Source& source) const {
    if (!parsed) fail_expected(source, shown(text));
    check_range(*parsed, format, text, source);
    return *parsed;
  }

  // Bounds are written the way the key is written: "at least 1KiB", not "at least 1024".
  template <typename Number>
  void check_range(Number value, Formatter format, std::string_view text, const Source& source) const {
    bool too_small = def_.min && value < static_cast<Number>(*def_.min);
    bool too_large = def_.max && value > static_cast<Number>(*def_.max);
    if (!too_small && !too_large) return;
    std::string rule = def_.min && def_.max ? "must be between " + format(*def_.min) + " and " + format(*def_.max)
                       : def_.min           ? "must be at least " + format(*def_.min)
                                            : "must be at most " + format(*def_.max);
    fail(source, def_.path, rule + ", got " + shown(text));
  }

  const KeyDef& def_;
  const References& references_;
  std::vector<std::string> secrets_;
};

std::string describe(const YAML::Node& node, const ValueParser& parser) {
  if (node.IsMap()) return "a map (nested keys)";
  if (node.IsSequence()) return "a list";
  if (node.IsNull()) return "an empty value";
  return parser.shown(node.Scalar());
}

}  // namespace

Source source_at(const std::string& file, const YAML::Mark& mark) {
  if (mark.line < 0) return Source{file};
  return Source{file, mark.line + 1, mark.column + 1};
}

void fail(const Source& source, std::string_view key, const std::string& message) {
  throw ConfigError(source.name, source.line, source.column, std::string(key), message);
}

ParsedValue parse_text(const KeyDef& def, std::string_view text, const Source& source, const References& references) {
  ValueParser parser(def, references);
  Value value;
  if (def.type == Type::string_list) {
    std::vector<std::string> items;
    for (std::string_view item : split_commas(text)) items.push_back(parser.string_item(item, source));
    value = std::move(items);
  } else if (def.type == Type::string_map) {
    std::map<std::string, std::string> entries;
    for (std::string_view pair : split_commas(text)) {
      std::size_t equals = pair.find('=');
      std::string name(trim(pair.substr(0, equals)));
      if (equals == std::string_view::npos || name.empty()) {
        fail(source, def.path, "expected name=value pairs separated by commas, got " + parser.shown(pair));
      }
      if (entries.contains(name)) fail(source, def.path, "sets '" + name + "' twice");
      entries[name] = parser.string_item(trim(pair.substr(equals + 1)), source);
    }
    value = std::move(entries);
  } else {
    value = parser.scalar(text, source);
  }
  return {std::move(value), parser.take_secrets()};
}

ParsedValue parse_yaml(const KeyDef& def, const YAML::Node& node, const std::string& file, const Source& source,
                       const References& references) {
  ValueParser parser(def, references);
  // An empty value's mark points past it, at the next line: blame the key instead.
  auto where = [&](const YAML::Node& element) { return element.IsNull() ? source : source_at(file, element.Mark()); };
  Value value;
  if (def.type == Type::string_list) {
    if (!node.IsNull() && !node.IsSequence()) parser.fail_expected(where(node), describe(node, parser));
    std::vector<std::string> items;
    for (const YAML::Node& item : node) {
      if (!item.IsScalar()) fail(where(item), def.path, "list items must be strings, got " + describe(item, parser));
      items.push_back(parser.string_item(item.Scalar(), where(item)));
    }
    value = std::move(items);
  } else if (def.type == Type::string_map) {
    if (!node.IsNull() && !node.IsMap()) parser.fail_expected(where(node), describe(node, parser));
    std::map<std::string, std::string> entries;
    for (const auto& entry : node) {
      const YAML::Node& name_node = entry.first;
      const YAML::Node& value_node = entry.second;
      if (!name_node.IsScalar() || name_node.Scalar().empty()) {
        fail(source_at(file, name_node.Mark()), def.path, "expected a name, got " + describe(name_node, parser));
      }
      const std::string& name = name_node.Scalar();
      if (entries.contains(name)) fail(source_at(file, name_node.Mark()), def.path, "sets '" + name + "' twice");
      if (value_node.IsMap() || value_node.IsSequence()) {
        fail(where(value_node), def.path, "the value of '" + name + "' must be a string, got " + describe(value_node, parser));
      }
      Source value_source = source_at(file, (value_node.IsNull() ? name_node : value_node).Mark());
      entries[name] = parser.string_item(value_node.IsNull() ? "" : value_node.Scalar(), value_source);
    }
    value = std::move(entries);
  } else if (node.IsScalar() || (node.IsNull() && def.type == Type::string)) {
    value = parser.scalar(node.IsNull() ? "" : node.Scalar(), where(node));
  } else {
    parser.fail_expected(where(node), describe(node, parser));
  }
  return {std::move(value), parser.take_secrets()};
}

}  // namespace plexus::config
