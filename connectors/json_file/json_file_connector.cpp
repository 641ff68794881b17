// connector-json-file: the "json-file" driver, a directory of JSON files served as the
// tables of an SQLite database, so SQL written for a real database runs on mock data
// (docs/connectors.md). Options: {"path": "<directory>", "read_only": bool}.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <plexus/driver.hpp>
#include <plexus/plugin.hpp>

#include "connectors/common/allowed_paths.hpp"
#include "connectors/common/options.hpp"
#include "connectors/json_file/table_images.hpp"
#include "connectors/sqlite/sqlite_connection.hpp"

#define PLUGIN_NAME "connector-json-file"
#define PLUGIN_VERSION "0.1.0"

#define CONFIG_SCHEMA                                                                            \
  "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{\"allowed_paths\":{"      \
  "\"type\":\"array\",\"items\":{\"type\":\"string\",\"minLength\":1},\"default\":[],"           \
  "\"description\":\"Directories datasources may load JSON files from, absolute or relative to " \
  "plexusd's working directory; none when empty\"}}}"

namespace plexus::connectors {
namespace {

// The datasource options as JSON Schema; the kernel checks them against it.
constexpr std::string_view kOptionsSchema =
    R"({"type":"object","additionalProperties":false,"required":["path"],"properties":{)"
    R"("path":{"type":"string","minLength":1,"description":)"
    R"("The directory of <table>.json files (each a JSON array of objects), absolute or relative )"
    R"(to plexusd's working directory, inside one of the plugin's allowed_paths"},)"
    R"("read_only":{"type":"boolean","default":true,"description":)"
    R"("Refuse every statement that writes; when false, writes change the connection's own copy )"
    R"(of the tables, never the files"}}})";

}  // namespace

class JsonFileConnector : public sdk::Plugin {
 public:
  void start() override {
    allowed_paths_.emplace(host().config_json(), PLUGIN_NAME);
    images_ = std::make_unique<TableImages>([this](std::string_view message) { host().warn(message); });
    driver_.name = "json-file";
    driver_.options_schema = kOptionsSchema;
    driver_.open = [this](std::string_view options_json) { return open(options_json); };
    sdk::register_driver(host(), driver_);
  }

 private:
  std::unique_ptr<sdk::Connection> open(std::string_view options_json) {
    const Options options(options_json);
    const std::filesystem::path directory = allowed_paths_->resolve(options.required_string("path"));
    const bool read_only = options.boolean("read_only", true);
    return std::make_unique<SqliteConnection>(images_->open(directory, read_only), read_only);
  }

  std::optional<AllowedPaths> allowed_paths_;
  std::unique_ptr<TableImages> images_;
  sdk::Driver driver_;  // the host calls through it until the plugin stops
};

}  // namespace plexus::connectors

PLEXUS_PLUGIN(plexus::connectors::JsonFileConnector, PLUGIN_NAME, PLUGIN_VERSION, CONFIG_SCHEMA)
