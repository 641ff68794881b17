// Turns what an operator wrote (a YAML node, or the text of an environment
// variable or flag) into a checked Value of a key's type, or a ConfigError
// that says where and why.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "kernel/config/config.hpp"

namespace plexus::config {

// Where a value was written: a file position, "env PLEXUS_HTTP__PORT" or a flag.
struct Source {
  std::string name;
  int line = 0;  // 1-based; 0 when the source has no position
  int column = 0;
};

// A YAML position as a Source (yaml-cpp counts from 0).
Source source_at(const std::string& file, const YAML::Mark& mark);

[[noreturn]] void fail(const Source& source, std::string_view key, const std::string& message);

// What ${env:} and ${file:} references resolve against.
struct References {
  const Environment& env;
  std::filesystem::path base_dir;
};

struct ParsedValue {
  Value value;
  std::vector<std::string> referenced_secrets;
};

// Environment variables and flags: lists are comma separated, maps "name=value,name2=value2".
ParsedValue parse_text(const KeyDef& def, std::string_view text, const Source& source, const References& references);

// YAML: lists are sequences and maps are maps; `source` is the key's position, used
// when the node carries no better one (an empty value).
ParsedValue parse_yaml(const KeyDef& def, const YAML::Node& node, const std::string& file, const Source& source,
                       const References& references);

}  // namespace plexus::config
