#include "kernel/json/yaml_json.hpp"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <optional>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "kernel/json/pointer_token.hpp"

namespace plexus::yaml_json {
namespace {

using nlohmann::json;

std::string located(const std::string& message, int line, int column) {
  if (line <= 0) return message;
  return "line " + std::to_string(line) + ", column " + std::to_string(column) + ": " + message;
}

struct Position {
  int line = 0, column = 0;
};

Position position_of(const YAML::Mark& mark) {
  if (mark.is_null() || mark.line < 0) return {};
  return {mark.line + 1, mark.column + 1};
}

[[noreturn]] void fail(const YAML::Mark& mark, const std::string& pointer, const std::string& message) {
  const auto at = position_of(mark);
  throw YamlError(message, at.line, at.column, pointer);
}

std::string quoted(const std::string& text) { return "'" + text + "'"; }

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar: return quoted(node.Scalar());
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a mapping";
    default: return "nothing";
  }
}


// ---- scalars: the YAML 1.2 core schema ----------------------------------------------

bool is_true(const std::string& s) { return s == "true" || s == "True" || s == "TRUE"; }
bool is_false(const std::string& s) { return s == "false" || s == "False" || s == "FALSE"; }
bool is_null(const std::string& s) { return s == "null" || s == "Null" || s == "NULL" || s == "~"; }

// [-+]? then decimal, 0x hex or 0o octal digits; nullopt when it is not one, or too
// large for 64 bits (then it may still read as a float).
std::optional<json> integer(const std::string& text) {
  std::size_t i = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) negative = text[i++] == '-';
  int base = 10;
  if (text.compare(i, 2, "0x") == 0) {
    base = 16;
    i += 2;
  } else if (text.compare(i, 2, "0o") == 0) {
    base = 8;
    i += 2;
  }
  if (i == text.size()) return std::nullopt;
  unsigned long long value = 0;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    int digit = -1;
    if (c >= '0' && c <= '9') digit = c - '0';
    if (base == 16 && c >= 'a' && c <= 'f') digit = c - 'a' + 10;
    if (base == 16 && c >= 'A' && c <= 'F') digit = c - 'A' + 10;
    if (digit < 0 || digit >= base) return std::nullopt;
    const auto d = static_cast<unsigned long long>(digit);
    if (value >
        (std::numeric_limits<unsigned long long>::max() - d) / static_cast<unsigned long long>(base)) {
      return std::nullopt;
    }
    value = value * static_cast<unsigned long long>(base) + d;
  }
  constexpr auto max_negative = static_cast<unsigned long long>(std::numeric_limits<long long>::max()) + 1;
  if (negative) {
    if (value > max_negative) return std::nullopt;
    if (value == max_negative) return json(std::numeric_limits<long long>::min());
    return json(-static_cast<long long>(value));
  }
  if (value <= static_cast<unsigned long long>(std::numeric_limits<long long>::max())) {
    return json(static_cast<long long>(value));
  }
  return json(value);
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?, or [-+]?.inf and .nan.
std::optional<double> floating(const std::string& text) {
  std::size_t i = 0;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) ++i;
  const std::string rest = text.substr(i);
  if (rest == ".inf" || rest == ".Inf" || rest == ".INF") {
    return text[0] == '-' ? -std::numeric_limits<double>::infinity()
                          : std::numeric_limits<double>::infinity();
  }
  if (rest == ".nan" || rest == ".NaN" || rest == ".NAN") return std::numeric_limits<double>::quiet_NaN();
  const auto digit = [&](std::size_t at) {
    return at < text.size() && std::isdigit(static_cast<unsigned char>(text[at]));
  };
  std::size_t digits = 0;
  std::size_t j = i;
  while (digit(j)) ++j, ++digits;
  if (j < text.size() && text[j] == '.') {
    ++j;
    while (digit(j)) ++j, ++digits;
  }
  if (digits == 0) return std::nullopt;
  if (j < text.size() && (text[j] == 'e' || text[j] == 'E')) {
    ++j;
    if (j < text.size() && (text[j] == '-' || text[j] == '+')) ++j;
    std::size_t exponent_digits = 0;
    while (digit(j)) ++j, ++exponent_digits;
    if (exponent_digits == 0) return std::nullopt;
  }
  if (j != text.size()) return std::nullopt;
  return std::strtod(text.c_str(), nullptr);
}

json finite(double number, const std::string& text, const YAML::Mark& mark, const std::string& pointer) {
  if (!std::isfinite(number)) {
    fail(mark, pointer, "expected a finite number (JSON has no infinity or NaN), got " + quoted(text));
  }
  return number;
}

// What a plain (untagged, unquoted) scalar means.
json plain(const std::string& text, const YAML::Mark& mark, const std::string& pointer) {
  if (auto number = integer(text)) return *number;
  if (auto number = floating(text)) return finite(*number, text, mark, pointer);
  if (is_true(text)) return true;
  if (is_false(text)) return false;
  if (is_null(text)) return nullptr;
  return text;
}

// True when `text`, written plain, reads back as that same string.
bool reads_as_text(const std::string& text) {
  return !text.empty() && !integer(text) && !floating(text) && !is_true(text) && !is_false(text) &&
         !is_null(text);
}

json scalar(const YAML::Node& node, const std::string& pointer) {
  const std::string& text = node.Scalar();
  const std::string& tag = node.Tag();
  const std::string core = "tag:yaml.org,2002:";
  const auto mark = node.Mark();
  if (tag == "?" || tag.empty()) return plain(text, mark, pointer);
  if (tag == "!" || tag == core + "str") return text;  // quoted, a block scalar, or !!str
  if (tag == core + "null") return nullptr;
  if (tag == core + "bool") {
    if (is_true(text)) return true;
    if (is_false(text)) return false;
    fail(mark, pointer, "expected true or false after !!bool, got " + quoted(text));
  }
  if (tag == core + "int") {
    if (auto number = integer(text)) return *number;
    fail(mark, pointer, "expected an integer after !!int, got " + quoted(text));
  }
  if (tag == core + "float") {
    if (auto number = floating(text)) return finite(*number, text, mark, pointer);
    fail(mark, pointer, "expected a number after !!float, got " + quoted(text));
  }
  fail(mark, pointer, "expected a plain value, got the unsupported tag " + quoted(tag));
}

// ---- YAML -> JSON -------------------------------------------------------------------

class Reader {
 public:
  Reader(const Limits& limits, const PositionSink& positions) : limits_(limits), positions_(positions) {}

  json read(const YAML::Node& node, const std::string& pointer, int depth) {
    if (++count_ > limits_.max_values) {
      fail(node.Mark(), pointer,
           "expected at most " + std::to_string(limits_.max_values) +
               " values, got more (aliases expanding?)");
    }
    if (depth > limits_.max_depth) {
      fail(node.Mark(), pointer,
           "expected at most " + std::to_string(limits_.max_depth) + " levels of nesting, got more");
    }
    switch (node.Type()) {
      case YAML::NodeType::Map: return map(node, pointer, depth);
      case YAML::NodeType::Sequence: {
        json array = json::array();
        std::size_t index = 0;
        for (const YAML::Node& item : node) {
          const auto child = pointer + "/" + std::to_string(index++);
          tell(child, item.Mark());
          array.push_back(read(item, child, depth + 1));
        }
        return array;
      }
      case YAML::NodeType::Scalar: return scalar(node, pointer);
      default: return nullptr;
    }
  }

  void tell(const std::string& pointer, const YAML::Mark& mark) const {
    if (!positions_) return;
    const auto at = position_of(mark);
    positions_(pointer, at.line, at.column);
  }

 private:
  json map(const YAML::Node& node, const std::string& pointer, int depth) {
    json object = json::object();
    std::map<std::string, int> first_lines;
    for (const auto& pair : node) {
      const YAML::Node key = pair.first;
      const YAML::Node value = pair.second;
      if (!key.IsScalar()) fail(key.Mark(), pointer, "expected a string key, got " + describe(key));
      const std::string& name = key.Scalar();
      const auto child = pointer + "/" + plexus::json::pointer_token(name);
      const auto line = position_of(key.Mark()).line;
      if (const auto [first, added] = first_lines.emplace(name, line); !added) {
        fail(key.Mark(), child, "set twice (first on line " + std::to_string(first->second) + ")");
      }
      // A null value's mark is the next token; its key says where it was written.
      tell(child, value.IsNull() ? key.Mark() : value.Mark());
      object[name] = read(value, child, depth + 1);
    }
    return object;
  }

  const Limits& limits_;
  const PositionSink& positions_;
  std::size_t count_ = 0;
};

// ---- JSON -> YAML -------------------------------------------------------------------

// Characters a literal block cannot carry exactly, or that YAML readers may take
// for line breaks (NEL, LS, PS) or a byte order mark.
bool has_unsafe_characters(const std::string& text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c < 0x20 && c != '\n') || c == 0x7f) return true;
    if (c == 0xc2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0x85) return true;
    if (c == 0xe2 && i + 2 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0x80 &&
        (static_cast<unsigned char>(text[i + 2]) == 0xa8 ||
         static_cast<unsigned char>(text[i + 2]) == 0xa9)) {
      return true;
    }
    if (c == 0xef && i + 2 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0xbb &&
        static_cast<unsigned char>(text[i + 2]) == 0xbf) {
      return true;
    }
  }
  return false;
}

// A literal block (|, "clip") reads back as its lines each ending in one line
// break: exact for text that ends in exactly one, whose first line sets the
// indentation (no leading space or blank line) and whose lines carry no trailing
// blanks (which some writers strip).
bool fits_literal_block(const std::string& text) {
  if (text.size() < 2 || text.back() != '\n' || text[text.size() - 2] == '\n') return false;
  if (text.find('\n') == text.size() - 1) return false;  // one line: quoting reads as well
  if (text.front() == ' ' || text.front() == '\n' || has_unsafe_characters(text)) return false;
  return text.find(" \n") == std::string::npos;
}

void emit_string(YAML::Emitter& out, const std::string& text, bool key) {
  if (!key && fits_literal_block(text)) {
    out << YAML::Literal << text;
  } else if (has_unsafe_characters(text)) {
    out << YAML::DoubleQuoted << YAML::EscapeNonAscii << text;
  } else if (!reads_as_text(text) || text.starts_with("---") || text.starts_with("...")) {
    // "007", "true", "1e3" are strings here, not numbers; yaml-cpp leaves document
    // markers plain, which end the document at the start of a line.
    out << YAML::DoubleQuoted << text;
  } else {
    out << text;  // yaml-cpp quotes what it must (": ", "#", leading "-", ...)
  }
}

void emit(YAML::Emitter& out, const json& value) {
  switch (value.type()) {
    case json::value_t::object:
      if (value.empty()) out << YAML::Flow;
      out << YAML::BeginMap;
      for (const auto& [name, item] : value.items()) {
        out << YAML::Key;
        emit_string(out, name, true);
        out << YAML::Value;
        emit(out, item);
      }
      out << YAML::EndMap;
      return;
    case json::value_t::array:
      if (value.empty()) out << YAML::Flow;
      out << YAML::BeginSeq;
      for (const auto& item : value) emit(out, item);
      out << YAML::EndSeq;
      return;
    case json::value_t::string: emit_string(out, value.get_ref<const std::string&>(), false); return;
    case json::value_t::null: out << YAML::Null; return;
    default: out << value.dump(); return;  // booleans and numbers, in JSON's exact spelling
  }
}

}  // namespace

YamlError::YamlError(std::string message, int line, int column, std::string pointer)
    : std::runtime_error(located(message, line, column)),
      message_(std::move(message)),
      line_(line),
      column_(column),
      pointer_(std::move(pointer)) {}

json parse(std::string_view text, const Limits& limits) {
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& error) {
    std::string message = error.msg;
    if (message == "bad file") message = "nesting too deep, or unreadable input";
    fail(error.mark, "", "invalid YAML: " + message);
  }
  if (documents.size() > 1) fail(documents[1].Mark(), "", "expected one YAML document, got several");
  if (documents.empty()) return nullptr;
  return to_json(documents.front(), limits);
}

json to_json(const YAML::Node& node, const Limits& limits, const PositionSink& positions) {
  Reader reader(limits, positions);
  reader.tell("", node.Mark());
  return reader.read(node, "", 0);
}

std::string to_yaml(const json& value) {
  YAML::Emitter out;
  emit(out, value);
  std::string text = out.c_str();
  if (!text.empty() && text.back() != '\n') text += '\n';
  return text;
}

}  // namespace plexus::yaml_json
