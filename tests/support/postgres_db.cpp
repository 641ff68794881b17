#include "tests/support/postgres_db.hpp"

#include <cstdlib>
#include <iomanip>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <vector>

#include <soci/soci.h>

#include "kernel/store/database.hpp"
#include "kernel/store/postgres_url.hpp"
#include "tests/support/plexusd_process.hpp"  // record_secret

namespace plexus::test {
namespace {

bool env_flag(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && std::string_view(value) == "1";
}

std::string random_hex(int bytes) {
  std::random_device device;
  std::ostringstream out;
  for (int i = 0; i < bytes; ++i) out << std::hex << std::setw(2) << std::setfill('0') << (device() & 0xff);
  return out.str();
}

// The schemas this process made, dropped at exit: tests hand out plain URLs (Database copies
// them), so nothing else knows when a schema is done with. A test process is one test case.
class Schemas {
 public:
  void add(const std::string& server_url, const std::string& schema) {
    std::lock_guard lock(mutex_);
    server_url_ = server_url;
    names_.push_back(schema);
  }
  ~Schemas() {
    if (names_.empty()) return;
    try {
      store::Database database({.url = server_url_, .pool_size = 1});
      soci::session sql(database.pool());
      for (const auto& name : names_) sql << "DROP SCHEMA IF EXISTS " + name + " CASCADE";
    } catch (const std::exception&) {
      // The server goes away with the test run anyway; a leftover schema harms nobody.
    }
  }

 private:
  std::mutex mutex_;
  std::string server_url_;
  std::vector<std::string> names_;
};

Schemas& schemas() {
  static Schemas instance;
  return instance;
}

std::string postgres_schema_url(const std::string& server_url) {
  const std::string schema = "t_" + random_hex(8);
  {
    store::Database database({.url = server_url, .pool_size = 1});
    soci::session sql(database.pool());
    sql << "CREATE SCHEMA " + schema;
  }
  schemas().add(server_url, schema);
  // libpq's options reach the server with every connection, so each pooled one (and any
  // reconnect) works in the schema: "-c search_path=<schema>", percent-encoded.
  return server_url + (server_url.find('?') == std::string::npos ? "?" : "&") +
         "options=-c%20search_path%3D" + schema;
}

std::string sqlite_url(const TempDir& dir) {
  static std::mutex mutex;
  static std::set<std::filesystem::path> used;
  std::lock_guard lock(mutex);
  auto file = dir.path() / "plexus.db";
  for (int n = 2; !used.insert(file).second; ++n) file = dir.path() / ("plexus-" + std::to_string(n) + ".db");
  return "sqlite:" + file.string();
}

}  // namespace

std::optional<std::string> postgres_server_url() {
  const char* url = std::getenv("PLEXUS_TEST_POSTGRES_URL");
  if (url == nullptr || *url == '\0') {
    if (env_flag("PLEXUS_TEST_REQUIRE_POSTGRES")) {
      FAIL(
          "PLEXUS_TEST_REQUIRE_POSTGRES=1 but PLEXUS_TEST_POSTGRES_URL is not set: the PostgreSQL run cannot "
          "happen (tools/test starts a server and sets both)");
    }
    static std::once_flag warned;
    std::call_once(warned, [] {
      WARN("PLEXUS_TEST_POSTGRES_URL is not set: storage tests run on SQLite only (tools/test runs both)");
    });
    return std::nullopt;
  }
  static std::once_flag recorded;
  std::call_once(recorded, [url] { record_secret(store::postgres_target(url).password); });
  return std::string(url);
}

std::vector<std::string> store_backends() {
  std::vector<std::string> backends{"sqlite"};
  if (postgres_server_url()) backends.emplace_back("postgresql");
  return backends;
}

std::string each_store_backend() {
  postgres_server_url();  // a required server that is missing fails here, before the generator exists
  return GENERATE(Catch::Generators::from_range(store_backends()));
}

std::string fresh_store_url(const std::string& backend, const TempDir& dir) {
  if (backend == "sqlite") return sqlite_url(dir);
  REQUIRE(backend == "postgresql");
  const auto server = postgres_server_url();
  REQUIRE(server);
  return postgres_schema_url(*server);
}

StoreBackend::StoreBackend()
    : name_(each_store_backend()),
      message_(Catch::MessageBuilder("INFO", CATCH_INTERNAL_LINEINFO, Catch::ResultWas::Info)
               << "store backend: " << name_) {}

nlohmann::json postgres_datasource_options(const TempDir& dir) {
  auto url = fresh_store_url("postgresql", dir);
  const auto scheme_end = url.find("://") + 3;
  const auto at = url.find('@', scheme_end);
  const auto colon = url.find(':', scheme_end);
  REQUIRE(at != std::string::npos);
  REQUIRE(colon < at);
  const auto password = url.substr(colon + 1, at - colon - 1);
  record_secret(password);
  url.erase(colon, at - colon);
  return {{"driver", "postgres"}, {"url", url}, {"password", password}};
}

}  // namespace plexus::test
