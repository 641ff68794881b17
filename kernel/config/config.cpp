#include "kernel/config/config.hpp"

#include <algorithm>
#include <cctype>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "kernel/config/closest_match.hpp"
#include "kernel/config/units.hpp"
#include "kernel/config/value_parsing.hpp"

namespace plexus::config {
namespace {

// Lower-case words joined by single underscores, sections joined by dots, so that
// every path has exactly one environment variable name and back.
bool is_valid_path(std::string_view path) {
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t dot = std::min(path.find('.', start), path.size());
    std::string_view segment = path.substr(start, dot - start);
    if (segment.empty() || segment.front() == '_' || segment.back() == '_' || segment.find("__") != std::string_view::npos) {
      return false;
    }
    for (char c : segment) {
      if (!(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9') && c != '_') return false;
    }
    start = dot + 1;
  }
  return true;
}

std::string location(const std::string& file, int line, int column) {
  std::string where = file;
  if (line > 0) where += ":" + std::to_string(line);
  if (line > 0 && column > 0) where += ":" + std::to_string(column);
  return where;
}

std::string error_message(const std::string& file, int line, int column, const std::string& key,
                          const std::string& what) {
  std::string message = location(file, line, column);
  if (!message.empty()) message += ": ";
  if (!key.empty()) message += key + ": ";
  return message + what;
}

bool is_empty(const Value& value) {
  return std::visit(
      [](const auto& held) {
        if constexpr (requires { held.empty(); }) {
          return held.empty();
        } else {
          return false;
        }
      },
      value);
}

nlohmann::json to_json_value(Type type, const Value& value) {
  if (type == Type::duration) return format_duration(std::get<std::int64_t>(value));
  if (type == Type::size) return format_size(std::get<std::int64_t>(value));
  return std::visit([](const auto& held) { return nlohmann::json(held); }, value);
}

}  // namespace

std::string_view type_name(Type type) {
  switch (type) {
    case Type::boolean: return "boolean";
    case Type::integer: return "integer";
    case Type::number: return "number";
    case Type::string: return "string";
    case Type::duration: return "duration";
    case Type::size: return "size";
    case Type::string_list: return "string list";
    case Type::string_map: return "string map";
  }
  return "unknown";
}

Schema& Schema::add(KeyDef def) {
  if (!is_valid_path(def.path)) {
    throw std::invalid_argument("config key '" + def.path + "': use lower-case words joined by '_' and '.'");
  }
  if (find(def.path) != nullptr || is_section(def.path)) {
    throw std::invalid_argument("config key '" + def.path + "' is declared twice or is also a section");
  }
  for (std::size_t dot = def.path.find('.'); dot != std::string::npos; dot = def.path.find('.', dot + 1)) {
    if (find(std::string_view(def.path).substr(0, dot)) != nullptr) {
      throw std::invalid_argument("config key '" + def.path + "' is inside key '" + def.path.substr(0, dot) + "'");
    }
  }
  keys_.push_back(std::move(def));
  return *this;
}

const KeyDef* Schema::find(std::string_view path) const {
  auto found = std::ranges::find(keys_, path, &KeyDef::path);
  return found == keys_.end() ? nullptr : &*found;
}

bool Schema::is_section(std::string_view path) const {
  return !path.empty() && std::ranges::any_of(keys_, [&](const KeyDef& def) {
    return def.path.size() > path.size() && def.path.starts_with(path) && def.path[path.size()] == '.';
  });
}

Environment process_environment() {
  Environment env;
  for (char** variable = environ; *variable != nullptr; ++variable) {
    std::string_view text(*variable);
    std::size_t equals = text.find('=');
    if (equals != std::string_view::npos) env.emplace(text.substr(0, equals), text.substr(equals + 1));
  }
  return env;
}

std::string env_var_name(std::string_view path) {
  std::string name = "PLEXUS_";
  for (char c : path) {
    if (c == '.') {
      name += "__";
    } else {
      name += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
  }
  return name;
}

ConfigError::ConfigError(std::string file, int line, int column, std::string key, const std::string& what)
    : std::runtime_error(error_message(file, line, column, key, what)),
      file_(std::move(file)),
      line_(line),
      column_(column),
      key_(std::move(key)) {}

Config Config::defaults(const Schema& schema) {
  Config config;
  config.schema_ = &schema;
  const Environment no_environment;
  const References no_references{no_environment, {}};
  const Source source{"schema default"};
  for (const KeyDef& def : schema.keys()) {
    ParsedValue parsed = parse_yaml(def, YAML::Load(def.default_value), source.name, source, no_references);
    config.entries_.emplace(def.path, Entry{&def, std::move(parsed.value), "default", {}});
  }
  return config;
}

void Config::set(std::string_view path, std::string_view text, std::string_view origin) {
  const Source source{std::string(origin)};
  if (schema_ == nullptr) throw std::logic_error("Config::set on a config without a schema");
  const KeyDef* def = schema_->find(path);
  if (def == nullptr) {
    std::vector<std::string> paths;
    for (const KeyDef& key : schema_->keys()) paths.push_back(key.path);
    std::optional<std::string> suggestion = closest_match(path, paths);
    fail(source, path, schema_->is_section(path) ? "is a section, not a key"
                       : suggestion              ? "unknown key (did you mean '" + *suggestion + "'?)"
                                                 : "unknown key");
  }
  ParsedValue parsed = parse_text(*def, text, source, References{env_, file_.parent_path()});
  Entry& target = entries_.at(def->path);
  target.value = std::move(parsed.value);
  target.origin = std::string(origin);
  target.referenced_secrets = std::move(parsed.referenced_secrets);
}

const Config::Entry& Config::entry(std::string_view path, Type expected) const {
  auto found = entries_.find(path);
  if (found == entries_.end()) throw std::out_of_range("no configuration key '" + std::string(path) + "'");
  if (found->second.def->type != expected) {
    throw std::logic_error("configuration key '" + std::string(path) + "' is a " +
                           std::string(type_name(found->second.def->type)) + ", not a " +
                           std::string(type_name(expected)));
  }
  return found->second;
}

bool Config::get_bool(std::string_view path) const { return std::get<bool>(entry(path, Type::boolean).value); }

std::int64_t Config::get_int(std::string_view path) const {
  return std::get<std::int64_t>(entry(path, Type::integer).value);
}

double Config::get_number(std::string_view path) const { return std::get<double>(entry(path, Type::number).value); }

const std::string& Config::get_string(std::string_view path) const {
  return std::get<std::string>(entry(path, Type::string).value);
}

std::chrono::milliseconds Config::get_duration(std::string_view path) const {
  return std::chrono::milliseconds(std::get<std::int64_t>(entry(path, Type::duration).value));
}

std::uint64_t Config::get_size(std::string_view path) const {
  return static_cast<std::uint64_t>(std::get<std::int64_t>(entry(path, Type::size).value));
}

const std::vector<std::string>& Config::get_list(std::string_view path) const {
  return std::get<std::vector<std::string>>(entry(path, Type::string_list).value);
}

const std::map<std::string, std::string>& Config::get_map(std::string_view path) const {
  return std::get<std::map<std::string, std::string>>(entry(path, Type::string_map).value);
}

const std::string& Config::origin(std::string_view path) const {
  auto found = entries_.find(path);
  if (found == entries_.end()) throw std::out_of_range("no configuration key '" + std::string(path) + "'");
  return found->second.origin;
}

nlohmann::json Config::to_json(bool redact) const {
  nlohmann::json root = nlohmann::json::object();
  for (const auto& [path, entry] : entries_) {
    nlohmann::json* section = &root;
    std::size_t start = 0;
    for (std::size_t dot = path.find('.'); dot != std::string::npos; dot = path.find('.', start)) {
      section = &(*section)[path.substr(start, dot - start)];
      start = dot + 1;
    }
    // An empty secret stays visible: it tells the operator the default applies.
    bool hidden = (entry.def->secret || !entry.referenced_secrets.empty()) && !is_empty(entry.value);
    (*section)[path.substr(start)] = redact && hidden ? nlohmann::json("***") : to_json_value(entry.def->type, entry.value);
  }
  return root;
}

std::vector<std::string> Config::secret_values() const {
  std::vector<std::string> secrets;
  auto add = [&](const std::string& secret) {
    if (!secret.empty()) secrets.push_back(secret);
  };
  for (const auto& [path, entry] : entries_) {
    for (const std::string& secret : entry.referenced_secrets) add(secret);
    if (!entry.def->secret) continue;
    if (const auto* text = std::get_if<std::string>(&entry.value)) add(*text);
    if (const auto* items = std::get_if<std::vector<std::string>>(&entry.value)) std::ranges::for_each(*items, add);
    if (const auto* named = std::get_if<std::map<std::string, std::string>>(&entry.value)) {
      for (const auto& [name, secret] : *named) add(secret);
    }
  }
  // Longest first, so a redactor replacing them in order never leaves part of a longer secret.
  std::ranges::sort(secrets, [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() > b.size() : a < b;
  });
  secrets.erase(std::unique(secrets.begin(), secrets.end()), secrets.end());
  return secrets;
}

}  // namespace plexus::config
