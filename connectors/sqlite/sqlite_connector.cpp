// connector-sqlite: the "sqlite" driver, datasources that are SQLite database files
// (docs/connectors.md). Options: {"path": "<file>", "read_only": bool}.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <plexus/driver.hpp>
#include <plexus/plugin.hpp>

#include "connectors/common/allowed_paths.hpp"
#include "connectors/common/options.hpp"
#include "connectors/sqlite/sqlite_connection.hpp"

#define PLUGIN_NAME "connector-sqlite"
#define PLUGIN_VERSION "0.1.0"

#define CONFIG_SCHEMA                                                                                 \
  "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{\"allowed_paths\":{"           \
  "\"type\":\"array\",\"items\":{\"type\":\"string\",\"minLength\":1},\"default\":[],"                \
  "\"description\":\"Directories whose database files datasources may open, absolute or relative to " \
  "plexusd's working directory; none when empty\"}}}"

namespace plexus::connectors {
namespace {

// The datasource options as JSON Schema; the kernel checks them against it.
constexpr std::string_view kOptionsSchema =
    R"({"type":"object","additionalProperties":false,"required":["path"],"properties":{)"
    R"("path":{"type":"string","minLength":1,"description":)"
    R"("The database file, absolute or relative to plexusd's working directory, )"
    R"(inside one of the plugin's allowed_paths; a writable datasource creates it when missing"},)"
    R"("read_only":{"type":"boolean","default":true,"description":)"
    R"("Open the file read-only and refuse every statement that writes"}}})";

std::unique_ptr<sdk::Connection> open_database(const AllowedPaths& allowed_paths,
                                               std::string_view options_json) {
  const Options options(options_json);
  const std::filesystem::path path = allowed_paths.resolve(options.required_string("path"));
  const bool read_only = options.boolean("read_only", true);

  // A writable datasource may start empty; a read-only one could only ever be empty.
  const int flags =
      (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX;
  sqlite3* raw = nullptr;
  const int code = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  SqliteHandle db(raw);
  const auto cannot_open = [&](int error) {
    return sdk::Error(PLEXUS_ERR_UNAVAILABLE, "cannot open " + path.string() + ": " +
                                                  (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(error)));
  };
  if (code != SQLITE_OK) throw cannot_open(code);
  // SQLite reads the file lazily: something that is no database fails here, not at the first query.
  if (const int read = sqlite3_exec(raw, "SELECT count(*) FROM sqlite_schema", nullptr, nullptr, nullptr);
      read != SQLITE_OK) {
    throw cannot_open(read);
  }
  return std::make_unique<SqliteConnection>(std::move(db), read_only);
}

}  // namespace

class SqliteConnector : public sdk::Plugin {
 public:
  void start() override {
    allowed_paths_.emplace(host().config_json(), PLUGIN_NAME);
    driver_.name = "sqlite";
    driver_.options_schema = kOptionsSchema;
    driver_.open = [this](std::string_view options_json) {
      return open_database(*allowed_paths_, options_json);
    };
    sdk::register_driver(host(), driver_);
  }

 private:
  std::optional<AllowedPaths> allowed_paths_;
  sdk::Driver driver_;  // the host calls through it until the plugin stops
};

}  // namespace plexus::connectors

PLEXUS_PLUGIN(plexus::connectors::SqliteConnector, PLUGIN_NAME, PLUGIN_VERSION, CONFIG_SCHEMA)
