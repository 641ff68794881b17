// A host services table for tests of the plugin's logic, in the test process: the
// database calls (db_migrate, db_query, db_exec) run on a real kernel database
// (store::Database: SQLite, or PostgreSQL through tests/support/postgres_db.hpp) with the
// kernel's own store functions, so SQL is checked on both dialects exactly as plexusd
// runs it; routes are kept and called with a request and caller the test makes; timers
// are kept and fired by the test; logs and metrics are recorded. Everything else is
// absent (NULL), as on an older host.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <plexus/plugin.hpp>

namespace plexus::api_manager::test {

struct TestCaller {
  std::string tenant = "default";
  std::string user_id = "u-alice";
  std::string name = "alice";
  std::string kind = "user";  // "anonymous" for none
};

struct TestResponse {
  int status = 0;
  std::map<std::string, std::string> headers;
  std::string body;
  nlohmann::json json() const;  // the body parsed; throws on non-JSON
};

struct TestRoute {
  std::string method, pattern, permission;
  std::uint32_t flags = 0;
};

struct TestTimer {
  std::uint64_t id = 0;
  std::uint64_t interval_ms = 0;
  bool repeat = false;
  bool cancelled = false;
};

class StoreHost {
 public:
  // `store_url`: "sqlite:<file>" or a PostgreSQL URL (StoreBackend::fresh_url).
  explicit StoreHost(const std::string& store_url, nlohmann::json config = nlohmann::json::object(),
                     std::string plugin = "api-manager");
  ~StoreHost();
  StoreHost(const StoreHost&) = delete;
  StoreHost& operator=(const StoreHost&) = delete;

  // What plugin code is given: the SDK's typed host over this table.
  sdk::Host& host();

  // Calls the route registered for `method` and a pattern matching `path`, as `caller`.
  // FAILs the test when no route matches.
  TestResponse call(const std::string& method, const std::string& path,
                    const std::vector<std::pair<std::string, std::string>>& query = {},
                    const TestCaller& caller = {}, const std::string& body = {});

  std::vector<TestRoute> routes() const;
  std::vector<TestTimer> timers() const;
  // Runs every timer that is not cancelled once (one-shot timers then count as done).
  int fire_timers();
  // Every line logged so far, "<level> <message>".
  std::vector<std::string> log() const;
  // The sum of metric_add calls on the metric family `name`.
  double metric_total(const std::string& name) const;

  // Straight to the database, bypassing the plugin (for checks and for breaking things).
  nlohmann::json query(const std::string& sql, const nlohmann::json& params = nlohmann::json::object());
  void exec(const std::string& sql, const nlohmann::json& params = nlohmann::json::object());

  struct State;

 private:
  std::unique_ptr<State> state_;
};

}  // namespace plexus::api_manager::test
