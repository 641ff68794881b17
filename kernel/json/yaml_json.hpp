// YAML <-> JSON, the one converter the kernel uses (plugin manifests' config,
// resource bundles). Plain scalars follow the YAML 1.2 core schema: "yes", "no",
// "on" and "off" are strings; "true", "42", "0x1F", "1e3", "~" are not. to_yaml
// writes what to_json reads back as the same JSON value.
#pragma once

#include <cstddef>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>
#include <yaml-cpp/node/node.h>

namespace plexus::yaml_json {

// A YAML document that is not valid YAML, or not expressible as JSON. line and
// column are 1-based (0 when unknown); pointer is the JSON pointer of the value at
// fault ("" for the document itself). what() is "line L, column C: message".
class YamlError : public std::runtime_error {
 public:
  YamlError(std::string message, int line, int column, std::string pointer);
  const std::string& message() const { return message_; }
  int line() const { return line_; }
  int column() const { return column_; }
  const std::string& pointer() const { return pointer_; }

 private:
  std::string message_;
  int line_;
  int column_;
  std::string pointer_;
};

// Guards against alias bombs ("billion laughs") and stack exhaustion.
struct Limits {
  int max_depth = 64;
  std::size_t max_values = 100000;
};

// Told where each value was written (1-based), by JSON pointer; a null value's
// position is its key's, since the value itself has none.
using PositionSink = std::function<void(const std::string& pointer, int line, int column)>;

// One YAML document as JSON; empty text (or only comments) is null.
nlohmann::json parse(std::string_view text, const Limits& limits = {});
// A node yaml-cpp already parsed. Map keys must be scalars and appear once.
nlohmann::json to_json(const YAML::Node& node, const Limits& limits = {}, const PositionSink& positions = {});

// Block-style YAML. Strings that would read back as something else ("007", "true",
// "null") are quoted; multi-line strings are literal blocks (|) when that keeps them
// exact, double-quoted otherwise.
std::string to_yaml(const nlohmann::json& value);

}  // namespace plexus::yaml_json
