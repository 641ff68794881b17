// Kernel configuration: a declared schema of keys, loaded from YAML, overridden by
// PLEXUS_SECTION__KEY environment variables and command-line flags, with ${env:..}
// and ${file:..} secret references. Mistakes stop startup with file, line and key.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace plexus::config {

enum class Type {
  boolean,
  integer,
  number,
  string,
  duration,     // "250ms", "30s", "5m", "2h", "1d"; a bare integer means seconds
  size,         // "512", "16KiB", "8MiB", "1GiB", "10MB"; a bare integer means bytes
  string_list,  // YAML sequence of scalars; from the environment: comma separated
  string_map,   // YAML map of scalar values with free keys (e.g. per-logger levels)
};

std::string_view type_name(Type type);

struct KeyDef {
  std::string path;  // dotted: "http.port"
  Type type = Type::string;
  std::string default_value;  // as it would be written in YAML; "" for an empty string/list/map
  std::string description;    // one line, shown in docs and errors
  bool secret = false;        // never logged nor returned in full
  std::optional<std::int64_t> min;  // integers, durations (ms) and sizes (bytes)
  std::optional<std::int64_t> max;
  std::vector<std::string> choices;  // allowed values of a string, or of each list item / map value
};

class Schema {
 public:
  Schema& add(KeyDef def);
  const KeyDef* find(std::string_view path) const;
  const std::vector<KeyDef>& keys() const { return keys_; }
  // True when `path` is a section that holds declared keys ("http", "http.tls").
  bool is_section(std::string_view path) const;

 private:
  std::vector<KeyDef> keys_;
};

// Every key plexusd understands, with its default and description.
const Schema& kernel_schema();

using Environment = std::map<std::string, std::string>;
Environment process_environment();

// The variable that overrides a key: "http.tls.cert" -> "PLEXUS_HTTP__TLS__CERT".
std::string env_var_name(std::string_view path);

// What went wrong and where: "config/plexus.yaml:12:3: http.port: expected an integer, got 'abc'".
// file() is the source: the YAML file, "env PLEXUS_HTTP__PORT" or the origin given to set();
// line and column are 1-based, 0 when the source has no position; key is "" when unknown.
class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string file, int line, int column, std::string key, const std::string& what);
  const std::string& file() const { return file_; }
  int line() const { return line_; }
  int column() const { return column_; }
  const std::string& key() const { return key_; }

 private:
  std::string file_;
  int line_;
  int column_;
  std::string key_;
};

using Value = std::variant<bool, std::int64_t, double, std::string, std::vector<std::string>,
                           std::map<std::string, std::string>>;

// A config points into its schema, which must outlive it (kernel_schema() does).
class Config {
 public:
  // Defaults only (no file, no environment).
  static Config defaults(const Schema& schema);
  // Defaults <- YAML file <- environment; an empty `file` means no file. Throws ConfigError.
  static Config load(const std::filesystem::path& file, const Schema& schema, const Environment& env);

  // Command-line flags and tests: parse `text` as the key's type; throws ConfigError.
  void set(std::string_view path, std::string_view text, std::string_view origin = "command line");

  bool get_bool(std::string_view path) const;
  std::int64_t get_int(std::string_view path) const;
  double get_number(std::string_view path) const;
  const std::string& get_string(std::string_view path) const;
  std::chrono::milliseconds get_duration(std::string_view path) const;
  std::uint64_t get_size(std::string_view path) const;
  const std::vector<std::string>& get_list(std::string_view path) const;
  const std::map<std::string, std::string>& get_map(std::string_view path) const;

  // Where a value came from: "config/plexus.yaml:12", "env PLEXUS_HTTP__PORT", "default".
  const std::string& origin(std::string_view path) const;
  const std::filesystem::path& file() const { return file_; }

  // Every key with its effective value; secrets shown as "***" when redact is true.
  nlohmann::json to_json(bool redact = true) const;
  // Resolved values of secret keys and of ${env:}/${file:} references, for log redaction.
  std::vector<std::string> secret_values() const;

 private:
  struct Entry {
    const KeyDef* def = nullptr;
    Value value;
    std::string origin;
    std::vector<std::string> referenced_secrets;  // what ${env:}/${file:} references resolved to
  };
  const Entry& entry(std::string_view path, Type expected) const;

  const Schema* schema_ = nullptr;
  std::filesystem::path file_;
  Environment env_;  // the one given to load(), for ${env:} references in set()
  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace plexus::config
