#include "kernel/plugins/manifest.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <optional>
#include <queue>
#include <set>
#include <sstream>

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>
#include <yaml-cpp/yaml.h>

#include "kernel/config/closest_match.hpp"
#include "kernel/json/pointer_token.hpp"
#include "kernel/json/yaml_json.hpp"

namespace plexus::plugins {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// ---- messages -------------------------------------------------------------------

std::string format_error(const fs::path& file, SourcePosition position, const std::string& key,
                         const std::string& message) {
  std::string out;
  if (!file.empty()) {
    out = file.string();
    if (position.line > 0) out += ":" + std::to_string(position.line) + ":" + std::to_string(position.column);
    out += ": ";
  }
  if (!key.empty()) out += key + ": ";
  return out + message;
}


std::string single_quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string join(const std::vector<std::string>& items, const std::string& separator) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) out += (i == 0 ? "" : separator) + items[i];
  return out;
}

std::string unknown_key_message(std::string_view key, const std::vector<std::string>& known) {
  if (auto guess = config::closest_match(key, known)) return "unknown key (did you mean " + single_quoted(*guess) + "?)";
  return "unknown key (expected one of " + join(known, ", ") + ")";
}

// ---- YAML helpers -----------------------------------------------------------------

SourcePosition position_of(const YAML::Mark& mark) {
  if (mark.is_null() || mark.line < 0) return {};
  return {mark.line + 1, mark.column + 1};
}

std::string describe_node(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null: return "nothing";
    case YAML::NodeType::Scalar: return "'" + node.Scalar() + "'";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a mapping";
    default: return "nothing";
  }
}

// "enabled" follows the YAML 1.2 core schema, as config values do (yaml_json):
// "yes", "no", "on" and "off" are not booleans.
bool is_true(const std::string& s) { return s == "true" || s == "True" || s == "TRUE"; }
bool is_false(const std::string& s) { return s == "false" || s == "False" || s == "FALSE"; }

struct Entry {
  YAML::Node key;
  YAML::Node value;
};

// Reads one manifest; every check throws ManifestError with file, position and key.
class ManifestParser {
 public:
  ManifestParser(fs::path file, fs::path library_dir) : library_dir_(std::move(library_dir)) {
    manifest_.file = std::move(file);
  }

  Manifest parse() {
    const std::string text = read_text();
    std::vector<YAML::Node> documents;
    try {
      documents = YAML::LoadAll(text);
    } catch (const YAML::Exception& e) {
      std::string message = e.msg;
      if (message == "bad file") message = "nesting too deep, or unreadable input";
      fail(position_of(e.mark), "", "invalid YAML: " + message);
    }
    if (documents.size() > 1)
      fail(position_of(documents[1].Mark()), "", "expected one YAML document, got several");
    if (documents.empty() || documents[0].IsNull()) {
      fail({}, "", "expected a manifest with at least 'name' and 'library', got an empty file");
    }
    const YAML::Node& root = documents[0];
    if (!root.IsMap()) {
      fail(position_of(root.Mark()), "",
           "expected a mapping with keys such as 'name:' and 'library:', got " + describe_node(root));
    }
    root_position_ = position_of(root.Mark());
    const auto entries =
        entries_of(root, "", {"name", "library", "version", "enabled", "requires", "permissions", "config"});

    name(entries);
    library(entries);
    version(entries);
    enabled(entries);
    requirements(entries);
    permissions(entries);
    config(entries);
    return std::move(manifest_);
  }

 private:
  [[noreturn]] void fail(SourcePosition position, const std::string& key, const std::string& message) const {
    throw ManifestError(manifest_.file, position, key, message);
  }

  std::string read_text() const {
    std::error_code ec;
    const auto status = fs::status(manifest_.file, ec);
    if (ec) fail({}, "", "cannot read: " + ec.message());
    if (fs::is_directory(status)) fail({}, "", std::string("cannot read: ") + std::strerror(EISDIR));
    if (!fs::is_regular_file(status)) fail({}, "", "expected a regular file, got a special file");
    const auto size = fs::file_size(manifest_.file, ec);
    if (ec) fail({}, "", "cannot read: " + ec.message());
    if (size > max_manifest_size) {
      fail({}, "",
           "expected a manifest of at most " + std::to_string(max_manifest_size) + " bytes, got " +
               std::to_string(size));
    }
    std::ifstream in(manifest_.file, std::ios::binary);
    if (!in) fail({}, "", std::string("cannot read: ") + std::strerror(errno));
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }

  // The keys of a mapping, checked for unknown names and repeats.
  std::map<std::string, Entry> entries_of(const YAML::Node& map, const std::string& prefix,
                                          const std::vector<std::string>& known) const {
    std::map<std::string, Entry> entries;
    for (const auto& pair : map) {
      const YAML::Node key = pair.first;
      if (!key.IsScalar())
        fail(position_of(key.Mark()), prefix, "expected a key name, got " + describe_node(key));
      const std::string& name = key.Scalar();
      std::string path = name;
      if (!prefix.empty()) path.insert(0, prefix + ".");
      if (std::find(known.begin(), known.end(), name) == known.end()) {
        fail(position_of(key.Mark()), path, unknown_key_message(name, known));
      }
      if (auto seen = entries.find(name); seen != entries.end()) {
        fail(position_of(key.Mark()), path,
             "set twice (first on line " + std::to_string(position_of(seen->second.key.Mark()).line) + ")");
      }
      entries.emplace(name, Entry{key, pair.second});
    }
    return entries;
  }

  // Values that are null sit at the next token; their key is the better place.
  static SourcePosition where(const Entry& entry) {
    return position_of(entry.value.IsNull() ? entry.key.Mark() : entry.value.Mark());
  }

  SourcePosition remember(const std::string& path, const Entry& entry) {
    const SourcePosition position = where(entry);
    manifest_.positions[path] = position;
    return position;
  }

  std::string string_value(const Entry& entry, const std::string& path, const std::string& expected) {
    const SourcePosition position = remember(path, entry);
    if (!entry.value.IsScalar())
      fail(position, path, "expected " + expected + ", got " + describe_node(entry.value));
    return entry.value.Scalar();
  }

  void name(const std::map<std::string, Entry>& entries) {
    auto it = entries.find("name");
    if (it == entries.end())
      fail(root_position_, "name", "expected the plugin's name, got none (the key is required)");
    const std::string name = string_value(it->second, "name", "a plugin name");
    if (!valid_plugin_name(name)) {
      fail(where(it->second), "name",
           "expected a plugin name of lower-case letters, digits and '-' starting with a letter "
           "([a-z][a-z0-9-]{0,62}), got " +
               single_quoted(name));
    }
    manifest_.name = name;
  }

  void library(const std::map<std::string, Entry>& entries) {
    auto it = entries.find("library");
    if (it == entries.end()) {
      fail(root_position_, "library", "expected the plugin's library file, got none (the key is required)");
    }
    const std::string library = string_value(it->second, "library", "a library file name");
    if (library.empty())
      fail(where(it->second), "library", "expected a library file name, got an empty string");
    if (library.find('\0') != std::string::npos) {
      fail(where(it->second), "library", "expected a library file name, got a string containing NUL");
    }
    const fs::path path(library);
    manifest_.library = (path.is_absolute() ? path : library_dir_ / path).lexically_normal();
  }

  void version(const std::map<std::string, Entry>& entries) {
    auto it = entries.find("version");
    if (it == entries.end() || it->second.value.IsNull()) return;
    const std::string range =
        string_value(it->second, "version", "a version range such as \">=0.1.0 <1.0.0\"");
    try {
      check_version_range(range);
    } catch (const std::invalid_argument& e) {
      fail(where(it->second), "version", e.what());
    }
    manifest_.version_range = range;
  }

  void enabled(const std::map<std::string, Entry>& entries) {
    auto it = entries.find("enabled");
    if (it == entries.end()) return;
    const SourcePosition position = remember("enabled", it->second);
    const YAML::Node& value = it->second.value;
    if (value.IsScalar() && is_true(value.Scalar())) {
      manifest_.enabled = true;
    } else if (value.IsScalar() && is_false(value.Scalar())) {
      manifest_.enabled = false;
    } else {
      fail(position, "enabled", "expected true or false, got " + describe_node(value));
    }
  }

  // A list of strings; `check` validates each item and returns "" or the problem.
  std::vector<std::string> string_list(const Entry& entry, const std::string& path,
                                       const std::string& example,
                                       const std::function<std::string(const std::string&)>& check) {
    const SourcePosition position = remember(path, entry);
    std::vector<std::string> items;
    if (entry.value.IsNull()) return items;
    if (!entry.value.IsSequence()) {
      fail(position, path, "expected a list such as " + example + ", got " + describe_node(entry.value));
    }
    std::size_t index = 0;
    for (const YAML::Node& item : entry.value) {
      const SourcePosition item_position = position_of(item.Mark());
      manifest_.positions[path + "[" + std::to_string(index++) + "]"] = item_position;
      if (!item.IsScalar())
        fail(item_position, path, "expected a list of strings, got " + describe_node(item) + " in it");
      const std::string& value = item.Scalar();
      if (std::string problem = check(value); !problem.empty()) fail(item_position, path, problem);
      if (std::find(items.begin(), items.end(), value) != items.end()) {
        fail(item_position, path, single_quoted(value) + " is listed twice");
      }
      items.push_back(value);
    }
    return items;
  }

  void requirements(const std::map<std::string, Entry>& entries) {
    auto it = entries.find("requires");
    if (it == entries.end()) return;
    manifest_.requirements =
        string_list(it->second, "requires", "[other-plugin]", [&](const std::string& value) {
          if (!valid_plugin_name(value))
            return "expected plugin names ([a-z][a-z0-9-]{0,62}), got " + single_quoted(value);
          if (value == manifest_.name) return std::string("a plugin cannot require itself");
          return std::string();
        });
  }

  static std::string check_pattern(const std::string& value) {
    if (valid_topic_pattern(value)) return "";
    return "expected dot-separated names where '*' stands for one segment and a final '>' for any number, "
           "such as 'hello.*' or 'hello.>', got " +
           single_quoted(value);
  }

  void permissions(const std::map<std::string, Entry>& entries) {
    manifest_.route_prefix = "/api/v1/" + manifest_.name;
    manifest_.route_prefixes = {manifest_.route_prefix};
    manifest_.event_patterns = {manifest_.name + ".>"};
    manifest_.service_patterns = {manifest_.name + ".>"};
    manifest_.job_patterns = {manifest_.name + ".>"};
    auto it = entries.find("permissions");
    if (it == entries.end()) return;
    const SourcePosition position = remember("permissions", it->second);
    const YAML::Node& value = it->second.value;
    if (value.IsNull()) return;
    if (!value.IsMap()) {
      fail(position, "permissions",
           "expected a mapping with routes, events, services and jobs, got " + describe_node(value));
    }
    const auto permissions = entries_of(value, "permissions", {"routes", "events", "services", "jobs"});
    if (auto routes = permissions.find("routes"); routes != permissions.end()) route_prefixes(routes->second);
    if (auto events = permissions.find("events"); events != permissions.end()) {
      manifest_.event_patterns =
          string_list(events->second, "permissions.events", "[hello.*]", check_pattern);
    }
    if (auto services = permissions.find("services"); services != permissions.end()) {
      manifest_.service_patterns =
          string_list(services->second, "permissions.services", "[hello.*]", check_pattern);
    }
    if (auto jobs = permissions.find("jobs"); jobs != permissions.end()) {
      manifest_.job_patterns = string_list(jobs->second, "permissions.jobs", "[hello.*]", check_pattern);
    }
  }

  // `routes:` is one prefix or a list of them, each checked by check_route_prefix.
  void route_prefixes(const Entry& entry) {
    const std::string path = "permissions.routes";
    const SourcePosition position = remember(path, entry);
    std::vector<std::string> prefixes;
    auto add = [&](std::string prefix, SourcePosition at) {
      while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
      if (std::string problem = check_route_prefix(prefix); !problem.empty()) fail(at, path, problem);
      for (const auto& earlier : prefixes) {
        if (earlier == prefix) fail(at, path, single_quoted(prefix) + " is listed twice");
        if (route_allowed(prefix, earlier) || route_allowed(earlier, prefix)) {
          fail(at, path,
               single_quoted(prefix) + " overlaps " + single_quoted(earlier) + ": list the outer one only");
        }
      }
      prefixes.push_back(std::move(prefix));
    };
    if (entry.value.IsSequence()) {
      std::size_t index = 0;
      for (const YAML::Node& item : entry.value) {
        const SourcePosition item_position = position_of(item.Mark());
        manifest_.positions[path + "[" + std::to_string(index++) + "]"] = item_position;
        if (!item.IsScalar()) {
          fail(item_position, path,
               "expected a list of route prefixes, got " + describe_node(item) + " in it");
        }
        add(item.Scalar(), item_position);
      }
    } else if (entry.value.IsScalar()) {
      add(entry.value.Scalar(), position);
    } else {
      fail(position, path,
           "expected a route prefix such as /api/v1/hello or a list such as [/api/v1/hello, /runtime], got " +
               describe_node(entry.value));
    }
    manifest_.route_prefixes = std::move(prefixes);
    manifest_.route_prefix = manifest_.route_prefixes.empty() ? "" : manifest_.route_prefixes.front();
  }

  static std::string check_route_prefix(const std::string& prefix) {
    const std::string got = ", got " + single_quoted(prefix);
    const bool api = prefix.rfind("/api/v1/", 0) == 0 && prefix.size() > 8;
    const bool runtime = prefix == "/runtime" || prefix.rfind("/runtime/", 0) == 0;
    if (!api && !runtime)
      return "expected a route prefix under /api/v1/ (such as /api/v1/hello) or /runtime" + got;
    for (char c : prefix) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '/' || c == '-' || c == '_' || c == '.' || c == '~';
      if (!ok) return "expected a route prefix of letters, digits and - _ . ~ between slashes" + got;
    }
    std::size_t start = 1;
    while (start <= prefix.size()) {
      std::size_t end = prefix.find('/', start);
      if (end == std::string::npos) end = prefix.size();
      const std::string_view segment = std::string_view{prefix}.substr(start, end - start);
      if (segment.empty() || segment == "." || segment == "..") {
        return "expected a route prefix without empty, '.' or '..' segments" + got;
      }
      start = end + 1;
    }
    if (api) {
      const std::string first = prefix.substr(
          8, prefix.find('/', 8) == std::string::npos ? std::string::npos : prefix.find('/', 8) - 8);
      for (const char* reserved : {"admin", "auth", "resources", "openapi.json"}) {
        if (first == reserved) {
          return std::string("expected a route prefix outside the kernel's /api/v1/") + reserved + got;
        }
      }
    }
    return "";
  }

  // ---- config: YAML to JSON ------------------------------------------------------

  void config(const std::map<std::string, Entry>& entries) {
    auto it = entries.find("config");
    if (it == entries.end()) {
      manifest_.positions["config"] = root_position_;
      return;
    }
    const SourcePosition position = remember("config", it->second);
    const YAML::Node& value = it->second.value;
    if (value.IsNull()) return;
    if (!value.IsMap()) {
      fail(position, "config", "expected a mapping of the plugin's settings, got " + describe_node(value));
    }
    try {
      manifest_.config =
          yaml_json::to_json(value, {}, [this](const std::string& pointer, int line, int column) {
            manifest_.positions.try_emplace("config" + pointer, SourcePosition{line, column});
          });
    } catch (const yaml_json::YamlError& e) {
      fail({e.line(), e.column()}, "config" + e.pointer(), e.message());
    }
  }

  fs::path library_dir_;
  Manifest manifest_;
  SourcePosition root_position_;
};

// ---- topics ------------------------------------------------------------------------

std::vector<std::string_view> segments(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = s.find('.', start);
    out.push_back(s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) return out;
    start = dot + 1;
  }
}

// True when every topic `inner` matches is matched by `outer` (both valid patterns).
bool covers(std::string_view inner, std::string_view outer) {
  const auto in = segments(inner);
  const auto out = segments(outer);
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (out[i] == ">") return i < in.size();  // one or more remaining segments, whatever they are
    if (i >= in.size()) return false;
    if (in[i] == ">") return false;     // matches any depth; only ">" covers that
    if (out[i] == "*") continue;        // any one segment, "*" included
    if (in[i] != out[i]) return false;  // a literal covers only itself
  }
  return in.size() == out.size();
}

bool concrete(std::string_view topic) {
  for (std::string_view segment : segments(topic)) {
    if (segment == "*" || segment == ">") return false;
  }
  return true;
}

// ---- config validation messages -------------------------------------------------------

std::string json_type(const json& value) {
  switch (value.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return "number";
    case json::value_t::string: return "string";
    case json::value_t::array: return "array";
    case json::value_t::object: return "object";
    default: return "binary";
  }
}

std::string short_dump(const json& value) {
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

// Follows local "$ref"s ("#/definitions/x"); nullptr when one cannot be followed.
const json* resolve_ref(const json& root, const json* node) {
  for (int hops = 0; node != nullptr && hops < 32; ++hops) {
    if (!node->is_object()) return node;
    auto ref = node->find("$ref");
    if (ref == node->end() || !ref->is_string()) return node;
    const auto& target = ref->get_ref<const std::string&>();
    if (target.empty() || target[0] != '#') return nullptr;
    try {
      node = &root.at(json::json_pointer(target.substr(1)));
    } catch (const json::exception&) {
      return nullptr;
    }
  }
  return nullptr;
}

// The subschema that applies to `token` inside `node`: best effort, for messages only.
const json* schema_child(const json& root, const json* node, const std::string& token, bool in_array) {
  node = resolve_ref(root, node);
  if (node == nullptr || !node->is_object()) return nullptr;
  if (in_array) {
    const std::size_t index = std::strtoull(token.c_str(), nullptr, 10);
    if (auto prefix = node->find("prefixItems");
        prefix != node->end() && prefix->is_array() && index < prefix->size()) {
      return &(*prefix)[index];
    }
    if (auto items = node->find("items"); items != node->end()) {
      if (items->is_object()) return &*items;
      if (items->is_array() && index < items->size()) return &(*items)[index];
    }
    return nullptr;
  }
  if (auto properties = node->find("properties"); properties != node->end() && properties->is_object()) {
    if (auto property = properties->find(token); property != properties->end()) return &*property;
  }
  if (auto additional = node->find("additionalProperties");
      additional != node->end() && additional->is_object()) {
    return &*additional;
  }
  return nullptr;
}

// One validation error, located: the JSON pointer, the config value found there
// (nullptr when absent) and the subschema that applies (nullptr when unknown).
struct Located {
  std::string pointer;
  const json* value = nullptr;
  const json* schema = nullptr;
};

Located locate(const std::vector<std::string>& context, const json& config, const json& schema) {
  Located at{"", &config, &schema};
  for (std::size_t i = 1; i < context.size(); ++i) {  // context[0] is "<root>"
    std::string token = context[i];
    if (token.size() >= 2 && token.front() == '[' && token.back() == ']')
      token = token.substr(1, token.size() - 2);
    const bool in_array = at.value != nullptr && at.value->is_array();
    at.schema = schema_child(schema, at.schema, token, in_array);
    at.pointer += "/" + plexus::json::pointer_token(token);
    if (at.value == nullptr) continue;
    if (in_array) {
      const std::size_t index = std::strtoull(token.c_str(), nullptr, 10);
      at.value = index < at.value->size() ? &(*at.value)[index] : nullptr;
    } else if (at.value->is_object()) {
      auto it = at.value->find(token);
      at.value = it == at.value->end() ? nullptr : &*it;
    } else {
      at.value = nullptr;
    }
  }
  at.schema = resolve_ref(schema, at.schema);
  return at;
}

std::string expected_types(const json* schema) {
  if (schema != nullptr && schema->is_object()) {
    if (auto type = schema->find("type"); type != schema->end()) {
      if (type->is_string()) return type->get<std::string>();
      if (type->is_array()) {
        std::vector<std::string> names;
        for (const json& name : *type) {
          if (name.is_string()) names.push_back(name.get<std::string>());
        }
        if (!names.empty()) return join(names, " or ");
      }
    }
  }
  return "another type";
}

std::string schema_number(const json* schema, const char* key, const std::string& fallback) {
  if (schema != nullptr && schema->is_object()) {
    if (auto value = schema->find(key); value != schema->end() && value->is_number()) return value->dump();
  }
  return fallback;
}

std::string quoted_name(const std::string& description) {
  const std::size_t last = description.rfind('\'');
  if (last == std::string::npos || last == 0) return "";
  const std::size_t first = description.rfind('\'', last - 1);
  if (first == std::string::npos) return "";
  return description.substr(first + 1, last - first - 1);
}

bool starts_with(const std::string& text, std::string_view prefix) { return text.rfind(prefix, 0) == 0; }

// Errors valijson adds on every level above the real one.
bool wrapper_error(const std::string& description) {
  return starts_with(description, "Failed to validate against schema associated with property name") ||
         starts_with(description, "Failed to validate item #") ||
         starts_with(description, "Failed to validate against additional properties schema") ||
         starts_with(description, "Failed to validate against schema associated with pattern");
}

struct Problem {
  std::string pointer;
  std::string message;
};

// valijson's description turned into "expected X, got Y" where the schema allows.
Problem explain(const valijson::ValidationResults::Error& error, const json& config, const json& schema) {
  const Located at = locate(error.context, config, schema);
  const std::string& d = error.description;
  const std::string got = at.value != nullptr ? short_dump(*at.value) : "nothing";
  if (starts_with(d, "Value type not permitted")) {
    return {at.pointer, "expected " + expected_types(at.schema) + ", got " +
                            (at.value ? json_type(*at.value) : "nothing")};
  }
  if (starts_with(d, "Missing required property")) {
    return {at.pointer + "/" + plexus::json::pointer_token(quoted_name(d)),
            "expected a value (the key is required), got none"};
  }
  if (starts_with(d, "Object contains a property that could not be validated")) {
    const std::string name = quoted_name(d);
    std::vector<std::string> known;
    if (at.schema != nullptr && at.schema->is_object()) {
      if (auto properties = at.schema->find("properties");
          properties != at.schema->end() && properties->is_object()) {
        for (const auto& item : properties->items()) known.push_back(item.key());
      }
    }
    std::string message = "unknown key";
    if (auto guess = config::closest_match(name, known)) {
      message += " (did you mean " + single_quoted(*guess) + "?)";
    } else if (!known.empty()) {
      message += " (expected one of " + join(known, ", ") + ")";
    }
    return {at.pointer + "/" + plexus::json::pointer_token(name), message};
  }
  if (starts_with(d, "Failed to match against any enum values")) {
    std::vector<std::string> allowed;
    if (at.schema != nullptr && at.schema->is_object()) {
      if (auto values = at.schema->find("enum"); values != at.schema->end() && values->is_array()) {
        for (const json& value : *values) allowed.push_back(short_dump(value));
      }
    }
    return {at.pointer, "expected one of " +
                            (allowed.empty() ? std::string("the allowed values") : join(allowed, ", ")) +
                            ", got " + got};
  }
  if (starts_with(d, "Failed to match expected value set by 'const'")) {
    std::string expected = "the constant value";
    if (at.schema != nullptr && at.schema->is_object() && at.schema->contains("const")) {
      expected = short_dump(at.schema->at("const"));
    }
    return {at.pointer, "expected " + expected + ", got " + got};
  }
  if (starts_with(d, "Failed to match regex specified by 'pattern'")) {
    std::string pattern = "the schema's pattern";
    if (at.schema != nullptr && at.schema->is_object()) {
      if (auto p = at.schema->find("pattern"); p != at.schema->end() && p->is_string())
        pattern = "/" + p->get<std::string>() + "/";
    }
    return {at.pointer, "expected a string matching " + pattern + ", got " + got};
  }
  if (starts_with(d, "Expected number less than or equal to")) {
    return {at.pointer,
            "expected a number <= " + schema_number(at.schema, "maximum", d.substr(38)) + ", got " + got};
  }
  if (starts_with(d, "Expected number less than")) {
    const std::string limit =
        schema_number(at.schema, "exclusiveMaximum", schema_number(at.schema, "maximum", d.substr(26)));
    return {at.pointer, "expected a number < " + limit + ", got " + got};
  }
  if (starts_with(d, "Expected number greater than or equal to")) {
    return {at.pointer,
            "expected a number >= " + schema_number(at.schema, "minimum", d.substr(41)) + ", got " + got};
  }
  if (starts_with(d, "Expected number greater than")) {
    const std::string limit =
        schema_number(at.schema, "exclusiveMinimum", schema_number(at.schema, "minimum", d.substr(29)));
    return {at.pointer, "expected a number > " + limit + ", got " + got};
  }
  if (starts_with(d, "String should be no fewer than")) {
    return {at.pointer,
            "expected at least " + schema_number(at.schema, "minLength", "more") + " characters, got " + got};
  }
  if (starts_with(d, "String should be no more than")) {
    return {at.pointer,
            "expected at most " + schema_number(at.schema, "maxLength", "fewer") + " characters, got " + got};
  }
  // Anything else: valijson's sentence, lower-cased, with the value.
  std::string message = d;
  if (!message.empty() && message.back() == '.') message.pop_back();
  if (!message.empty() && message[0] >= 'A' && message[0] <= 'Z')
    message[0] = static_cast<char>(message[0] - 'A' + 'a');
  return {at.pointer, message + " (got " + got + ")"};
}

SourcePosition config_position(const Manifest& manifest, std::string pointer) {
  while (true) {
    if (auto it = manifest.positions.find("config" + pointer); it != manifest.positions.end())
      return it->second;
    if (pointer.empty()) return {};
    pointer.erase(pointer.rfind('/'));
  }
}

}  // namespace

// ---- ManifestError ---------------------------------------------------------------------

ManifestError::ManifestError(fs::path file, SourcePosition position, std::string key, std::string message)
    : std::runtime_error(format_error(file, position, key, message)),
      file_(std::move(file)),
      position_(position),
      key_(std::move(key)),
      message_(std::move(message)) {}

ManifestError::ManifestError(const std::string& what, fs::path file, SourcePosition position, std::string key,
                             std::string message, std::vector<std::string> details)
    : std::runtime_error(what),
      file_(std::move(file)),
      position_(position),
      key_(std::move(key)),
      message_(std::move(message)),
      details_(std::move(details)) {}

// ---- parsing and scanning ----------------------------------------------------------------

Manifest parse_manifest(const fs::path& file, const fs::path& library_dir) {
  return ManifestParser(file, library_dir).parse();
}

ManifestScan scan_manifests(const fs::path& dir, const fs::path& library_dir) {
  ManifestScan scan;
  std::vector<fs::path> files;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) {
    scan.errors.emplace_back(
        dir, format_error(dir, {}, "", "cannot read the manifests directory: " + ec.message()));
    return scan;
  }
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) break;
    const fs::path& path = it->path();
    const std::string name = path.filename().string();
    const std::string extension = path.extension().string();
    if (name.empty() || name[0] == '.') continue;
    if (extension != ".yaml" && extension != ".yml") continue;
    std::error_code type_ec;
    if (it->is_directory(type_ec)) continue;
    files.push_back(path);
  }
  if (ec) {
    scan.errors.emplace_back(
        dir, format_error(dir, {}, "", "cannot read the manifests directory: " + ec.message()));
  }
  std::sort(files.begin(), files.end(),
            [](const fs::path& a, const fs::path& b) { return a.filename() < b.filename(); });

  std::map<std::string, fs::path> seen;
  for (const fs::path& file : files) {
    try {
      Manifest manifest = parse_manifest(file, library_dir);
      if (auto first = seen.find(manifest.name); first != seen.end()) {
        throw ManifestError(file, manifest.positions["name"], "name",
                            "plugin " + single_quoted(manifest.name) + " is already defined by " +
                                first->second.string() + " (that manifest is used, this one is ignored)");
      }
      seen.emplace(manifest.name, file);
      scan.manifests.push_back(std::move(manifest));
    } catch (const std::exception& e) {
      scan.errors.emplace_back(file, e.what());
    }
  }
  return scan;
}

// ---- start order ----------------------------------------------------------------------------

StartPlan plan_start(const std::vector<Manifest>& manifests) {
  StartPlan plan;
  std::map<std::string, const Manifest*> by_name;
  for (const Manifest& manifest : manifests) {
    auto [first, inserted] = by_name.emplace(manifest.name, &manifest);
    if (!inserted && manifest.enabled) {
      plan.excluded.emplace_back(manifest.name, manifest.name + " has a second manifest (" +
                                                    manifest.file.string() + ") that is ignored; " +
                                                    first->second->file.string() + " defines it");
    }
  }
  // The enabled plugins, alphabetically (std::map order), and what they require.
  std::map<std::string, std::vector<std::string>> graph;
  for (const auto& [name, manifest] : by_name) {
    if (manifest->enabled) graph[name] = manifest->requirements;
  }
  std::set<std::string> excluded;

  // 1. Requirements that are missing or disabled.
  for (const auto& [name, requirements] : graph) {
    for (const std::string& requirement : requirements) {
      if (graph.contains(requirement)) continue;
      const bool exists = by_name.contains(requirement);
      plan.excluded.emplace_back(name, name + " requires " + single_quoted(requirement) +
                                           ", which is not enabled" +
                                           (exists ? "" : " (no manifest defines it)"));
      excluded.insert(name);
    }
  }

  // 2. Cycles: strongly connected components (Tarjan) over the enabled plugins.
  std::map<std::string, int> index, low;
  std::vector<std::string> stack;
  std::set<std::string> on_stack;
  std::set<std::string> cyclic;
  int counter = 0;
  std::function<void(const std::string&)> connect = [&](const std::string& v) {
    index[v] = low[v] = counter++;
    stack.push_back(v);
    on_stack.insert(v);
    for (const std::string& w : graph[v]) {
      if (!graph.contains(w)) continue;
      if (!index.contains(w)) {
        connect(w);
        low[v] = std::min(low[v], low[w]);
      } else if (on_stack.contains(w)) {
        low[v] = std::min(low[v], index[w]);
      }
    }
    if (low[v] != index[v]) return;
    std::set<std::string> component;
    while (true) {
      std::string w = stack.back();
      stack.pop_back();
      on_stack.erase(w);
      component.insert(w);
      if (w == v) break;
    }
    const auto& own = graph[v];
    const bool self_loop = std::find(own.begin(), own.end(), v) != own.end();
    if (component.size() < 2 && !self_loop) return;
    for (const std::string& member : component) {
      // The shortest way from `member` back to itself inside the component.
      std::map<std::string, std::string> parent;
      std::queue<std::string> queue;
      queue.push(member);
      std::string last;
      while (!queue.empty() && last.empty()) {
        const std::string at = queue.front();
        queue.pop();
        std::vector<std::string> next = graph[at];
        std::sort(next.begin(), next.end());
        for (const std::string& n : next) {
          if (!component.contains(n)) continue;
          if (n == member) {
            last = at;
            break;
          }
          if (parent.contains(n)) continue;
          parent[n] = at;
          queue.push(n);
        }
      }
      std::vector<std::string> path{member};
      for (std::string at = last; at != member; at = parent[at]) path.insert(path.begin() + 1, at);
      path.push_back(member);
      plan.excluded.emplace_back(member, member + " is in a dependency cycle: " + join(path, " -> "));
      excluded.insert(member);
      cyclic.insert(member);
    }
  };
  for (const auto& entry : graph) {
    if (!index.contains(entry.first)) connect(entry.first);
  }

  // 3. Topological order (Kahn), alphabetical among the ready; a plugin whose
  //    requirement cannot start cannot start either.
  std::map<std::string, int> waiting;
  std::map<std::string, std::vector<std::string>> dependents;
  for (const auto& [name, requirements] : graph) {
    if (cyclic.contains(name)) continue;
    waiting[name] = 0;
    for (const std::string& requirement : requirements) {
      if (!graph.contains(requirement) || cyclic.contains(requirement)) continue;
      ++waiting[name];
      dependents[requirement].push_back(name);
    }
  }
  std::priority_queue<std::string, std::vector<std::string>, std::greater<>> ready;
  for (const auto& [name, count] : waiting) {
    if (count == 0) ready.push(name);
  }
  while (!ready.empty()) {
    const std::string name = ready.top();
    ready.pop();
    if (!excluded.contains(name)) {
      for (const std::string& requirement : graph[name]) {
        if (graph.contains(requirement) && excluded.contains(requirement)) {
          plan.excluded.emplace_back(
              name, name + " requires " + single_quoted(requirement) + ", which cannot start");
          excluded.insert(name);
          break;
        }
      }
    }
    if (!excluded.contains(name)) plan.order.push_back(name);
    for (const std::string& dependent : dependents[name]) {
      if (--waiting[dependent] == 0) ready.push(dependent);
    }
  }
  return plan;
}

std::vector<std::string> start_order(const std::vector<Manifest>& manifests,
                                     std::vector<std::string>& errors) {
  StartPlan plan = plan_start(manifests);
  for (auto& [name, reason] : plan.excluded) errors.push_back(std::move(reason));
  return std::move(plan.order);
}

// ---- config validation ---------------------------------------------------------------------

void validate_config(const Manifest& manifest, const json& schema) {
  const json config = manifest.config.is_null() ? json::object() : manifest.config;
  if (schema.is_null() || schema == json(true) || (schema.is_object() && schema.empty())) return;
  const std::string plugin = manifest.name.empty() ? manifest.file.string() : manifest.name;
  auto where = [&](SourcePosition position) {
    if (manifest.file.empty()) return std::string();
    std::string text = manifest.file.string();
    if (position.line > 0)
      text += ":" + std::to_string(position.line) + ":" + std::to_string(position.column);
    return " (" + text + ")";
  };
  if (schema == json(false)) {
    const SourcePosition position = config_position(manifest, "");
    throw ManifestError(plugin + ": config: expected no configuration (the plugin's schema is false), got " +
                            short_dump(config) + where(position),
                        manifest.file, position, "config", "the plugin's schema accepts no configuration",
                        {});
  }
  if (!schema.is_object()) {
    throw ManifestError(plugin + ": config: expected the plugin's config schema to be a JSON object, got " +
                            json_type(schema),
                        manifest.file, {}, "config", "invalid config schema", {});
  }

  valijson::Schema compiled;
  try {
    valijson::SchemaParser parser;
    const valijson::adapters::NlohmannJsonAdapter schema_adapter(schema);
    parser.populateSchema(schema_adapter, compiled);
  } catch (const std::exception& e) {
    throw ManifestError(
        plugin +
            ": config: expected a valid JSON Schema in the plugin's metadata, got one valijson rejects (" +
            e.what() + ")",
        manifest.file, {}, "config", std::string("invalid config schema: ") + e.what(), {});
  }
  valijson::Validator validator;
  valijson::ValidationResults results;
  const valijson::adapters::NlohmannJsonAdapter target(config);
  bool valid = false;
  try {
    valid = validator.validate(compiled, target, &results);
  } catch (const std::exception& e) {
    throw ManifestError(plugin + ": config: cannot validate: " + e.what(), manifest.file, {}, "config",
                        std::string("cannot validate: ") + e.what(), {});
  }
  if (valid) return;

  std::vector<valijson::ValidationResults::Error> errors(results.begin(), results.end());
  const bool only_wrappers =
      std::all_of(errors.begin(), errors.end(), [](const auto& e) { return wrapper_error(e.description); });
  std::vector<Problem> problems;
  for (const auto& error : errors) {
    if (!only_wrappers && wrapper_error(error.description)) continue;
    Problem problem = explain(error, config, schema);
    const bool repeated = std::any_of(problems.begin(), problems.end(), [&](const Problem& p) {
      return p.pointer == problem.pointer && p.message == problem.message;
    });
    if (!repeated) problems.push_back(std::move(problem));
  }
  if (problems.empty()) problems.push_back({"", "does not match the plugin's schema"});

  std::vector<std::string> details;
  std::vector<std::string> parts;
  for (const Problem& problem : problems) {
    details.push_back((problem.pointer.empty() ? "" : problem.pointer + ": ") + problem.message);
    parts.push_back("config" + (problem.pointer.empty() ? std::string() : " " + problem.pointer) + ": " +
                    problem.message + where(config_position(manifest, problem.pointer)));
  }
  const Problem& first = problems.front();
  throw ManifestError(plugin + ": " + join(parts, "; "), manifest.file,
                      config_position(manifest, first.pointer), "config" + first.pointer, join(details, "; "),
                      details);
}

void check_compatible(const Manifest& manifest, const PluginMetadata& metadata) {
  auto position = [&](const std::string& key) {
    auto it = manifest.positions.find(key);
    return it == manifest.positions.end() ? SourcePosition{} : it->second;
  };
  if (metadata.name != manifest.name) {
    throw ManifestError(manifest.file, position("library"), "library",
                        "expected the library of plugin " + single_quoted(manifest.name) + ", got plugin " +
                            single_quoted(metadata.name) + " in " + manifest.library.string());
  }
  if (!manifest.version_range.empty()) {
    bool satisfied = false;
    try {
      satisfied = version_satisfies(metadata.version, manifest.version_range);
    } catch (const std::invalid_argument& e) {
      throw ManifestError(manifest.file, position("version"), "version", e.what());
    }
    if (!satisfied) {
      throw ManifestError(manifest.file, position("version"), "version",
                          "expected a plugin version in " + single_quoted(manifest.version_range) + ", got " +
                              metadata.version + " (" + manifest.library.string() + ")");
    }
  }
  validate_config(manifest, metadata.config_schema);
}

// ---- topics and routes ------------------------------------------------------------------------

bool valid_topic_pattern(std::string_view pattern) {
  if (pattern.empty() || pattern.size() > 255) return false;
  const auto parts = segments(pattern);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::string_view segment = parts[i];
    if (segment.empty()) return false;
    if (segment == ">" && i + 1 != parts.size()) return false;
    if (segment == "*" || segment == ">") continue;
    // The event bus's alphabet (kernel/events): lower-case letters, digits, '_' and '-'.
    for (char c : segment) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
      if (!ok) return false;
    }
  }
  return true;
}

bool topic_matches(std::string_view topic, std::string_view pattern) {
  return valid_topic_pattern(topic) && concrete(topic) && valid_topic_pattern(pattern) &&
         covers(topic, pattern);
}

bool topic_allowed(std::string_view topic_or_pattern, const std::vector<std::string>& patterns) {
  if (!valid_topic_pattern(topic_or_pattern)) return false;
  return std::any_of(patterns.begin(), patterns.end(), [&](const std::string& pattern) {
    return valid_topic_pattern(pattern) && covers(topic_or_pattern, pattern);
  });
}

bool route_allowed(std::string_view route, std::string_view prefix) {
  while (prefix.size() > 1 && prefix.back() == '/') prefix.remove_suffix(1);
  if (prefix.empty() || prefix.front() != '/' || route.empty() || route.front() != '/') return false;
  // No way out of the prefix through dot segments.
  for (std::string_view segment : {"/../", "/./"}) {
    if (route.find(segment) != std::string_view::npos) return false;
  }
  if (route.size() >= 3 && (route.substr(route.size() - 3) == "/..")) return false;
  if (route.size() >= 2 && route.substr(route.size() - 2) == "/.") return false;
  if (route.substr(0, prefix.size()) != prefix) return false;
  return route.size() == prefix.size() || route[prefix.size()] == '/' || prefix == "/";
}

bool route_allowed(std::string_view route, const std::vector<std::string>& prefixes) {
  return std::any_of(prefixes.begin(), prefixes.end(),
                     [route](const std::string& prefix) { return route_allowed(route, prefix); });
}

}  // namespace plexus::plugins
