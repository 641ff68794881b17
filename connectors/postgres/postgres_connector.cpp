// connector-postgres: the "postgres" driver, datasources on PostgreSQL servers through
// libpq (docs/connectors.md). Options: {"url", "password", "read_only", "application_name"};
// the password is a secret field, sealed at rest, and never allowed inside the URL.
#include <memory>
#include <string_view>

#include <plexus/driver.hpp>
#include <plexus/plugin.hpp>

#include "connectors/postgres/postgres_connection.hpp"
#include "connectors/postgres/postgres_options.hpp"

#define PLUGIN_NAME "connector-postgres"
#define PLUGIN_VERSION "0.1.0"
#define CONFIG_SCHEMA "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{}}"

namespace plexus::connectors {
namespace {

// The datasource options as JSON Schema; the kernel checks them against it.
constexpr std::string_view kOptionsSchema =
    R"({"type":"object","additionalProperties":false,"required":["url"],"properties":{)"
    R"("url":{"type":"string","pattern":"^postgres(ql)?://","description":)"
    R"("postgresql://user@host:port/database, optionally ?sslmode=verify-full and other libpq )"
    R"(parameters; never a password"},)"
    R"("password":{"type":"string","description":"The user's password; sealed at rest and never shown"},)"
    R"("read_only":{"type":"boolean","default":true,"description":)"
    R"("Run every call in a READ ONLY transaction, so the server refuses writes"},)"
    R"("application_name":{"type":"string","maxLength":63,"description":)"
    R"("What the server shows in pg_stat_activity; default plexus"}}})";

}  // namespace

class PostgresConnector : public sdk::Plugin {
 public:
  void start() override {
    driver_.name = "postgres";
    driver_.options_schema = kOptionsSchema;
    driver_.secret_fields = {"password"};
    driver_.open = [](std::string_view options_json) {
      return std::make_unique<PostgresConnection>(parse_postgres_options(options_json));
    };
    sdk::register_driver(host(), driver_);
  }

 private:
  sdk::Driver driver_;  // the host calls through it until the plugin stops
};

}  // namespace plexus::connectors

PLEXUS_PLUGIN(plexus::connectors::PostgresConnector, PLUGIN_NAME, PLUGIN_VERSION, CONFIG_SCHEMA)
