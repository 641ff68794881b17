// What runtime runs tell operators, through a running plexusd (issue 7 items 7 and 10,
// API-5/6/9): the response cache (X-Cache, keys per revision, parameters and permission
// scope, dropped on promotion), metrics per API and revision, api.failed and api.slow
// events, the slow summary, and retries of transient datasource errors only.
#include <algorithm>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/api_manager_fixture.hpp"
#include "tests/support/event_stream.hpp"
#include "tests/support/plexusd_process.hpp"
#include "tests/support/postgres_db.hpp"

using nlohmann::json;
using namespace plexus::test;  // NOLINT: the fixture's helpers

namespace {

json by_id_api(const json& extra) {
  json api = {{"path", "ops/servers/{id}"},
              {"method", "GET"},
              {"type", "sql"},
              {"datasource", "ops"},
              {"sql", "SELECT id, name, role FROM servers WHERE id = :id"},
              {"params", {{"type", "object"}, {"properties", {{"id", {{"type", "integer"}}}}}}}};
  if (extra.is_object()) api.update(extra);
  return api;
}

// Broken SQL cannot be promoted (the datasource compiles it first), so an API that fails
// at run time is one whose table went away after it went live: schema drift.
void drop_table_later(httplib::Client& client, const std::string& admin, const std::string& table) {
  post(client, admin, "/api/v1/datasources/ops/execute", {{"sql", "CREATE TABLE " + table + " (id INTEGER)"}}, 200);
}
void drop_table_now(httplib::Client& client, const std::string& admin, const std::string& table) {
  post(client, admin, "/api/v1/datasources/ops/execute", {{"sql", "DROP TABLE " + table}}, 200);
}

std::string header(const Answer& answer, const std::string& name) {
  const auto it = answer.headers.find(name);
  return it == answer.headers.end() ? std::string() : it->second;
}

// The value of one sample of the Prometheus text, or -1 when it is not there.
double sample(const std::string& metrics, const std::string& line_prefix) {
  std::size_t at = 0;
  while ((at = metrics.find(line_prefix, at)) != std::string::npos) {
    if (at == 0 || metrics[at - 1] == '\n') {
      const auto end = metrics.find('\n', at);
      return std::stod(metrics.substr(at + line_prefix.size(), end - at - line_prefix.size()));
    }
    ++at;
  }
  return -1;
}

}  // namespace

TEST_CASE_METHOD(ApiManagerOnEachBackend, "cached answers: X-Cache, and keys per revision, parameters and permission scope",
          "[api-manager][cache]") {
  INFO("datasource database: " << backend);
  define_api(client, admin, "server", by_id_api({{"cache", {{"ttl_s", 300}}}, {"public", true}}));

  auto first = answer_of(client.Get("/runtime/ops/servers/1"));
  REQUIRE(first.status == 200);
  CHECK(header(first, "X-Cache") == "MISS");
  // The table changes behind the API's back: the cached answer is served until its TTL.
  post(client, admin, "/api/v1/datasources/ops/execute",
       {{"sql", "UPDATE servers SET name = 'renamed' WHERE id = 1"}}, 200);
  auto second = answer_of(client.Get("/runtime/ops/servers/1"));
  CHECK(header(second, "X-Cache") == "HIT");
  CHECK(second.body == first.body);
  CHECK(second.body["rows"][0]["name"] == "web-01");
  // Other parameters are another key.
  auto other = answer_of(client.Get("/runtime/ops/servers/2"));
  CHECK(header(other, "X-Cache") == "MISS");
  CHECK(other.body["rows"][0]["name"] == "web-02");
  // Another permission scope (a signed-in admin instead of anonymous) is another key.
  auto signed_in = answer_of(client.Get("/runtime/ops/servers/1", bearer(admin)));
  CHECK(header(signed_in, "X-Cache") == "MISS");
  CHECK(signed_in.body["rows"][0]["name"] == "renamed");
  CHECK(header(answer_of(client.Get("/runtime/ops/servers/1", bearer(admin))), "X-Cache") == "HIT");

  // A promotion is a new revision: never the old answer.
  define_api(client, admin, "server",
             by_id_api({{"cache", {{"ttl_s", 300}}}, {"public", true},
                        {"sql", "SELECT id, name FROM servers WHERE id = :id"}}));
  auto promoted = answer_of(client.Get("/runtime/ops/servers/1"));
  CHECK(header(promoted, "X-Cache") == "MISS");
  CHECK(promoted.body["rows"] == json::parse(R"([{"id":1,"name":"renamed"}])"));
  // Failures are not cached.
  auto bad = answer_of(client.Get("/runtime/ops/servers/x"));
  CHECK(bad.status == 400);
  CHECK(header(bad, "X-Cache").empty());
  // An API without a cache says nothing about one.
  define_api(client, admin, "server", by_id_api({{"public", true}}));
  CHECK(header(answer_of(client.Get("/runtime/ops/servers/1")), "X-Cache").empty());

  // Hits are runs too: in the execution log and the metrics.
  auto runs = answer_of(client.Get("/api/v1/api-manager/executions?api=server&status=ok&limit=100", bearer(admin)));
  CHECK(runs.body["items"].size() == 7);
  const auto metrics = client.Get("/metrics")->body;
  CHECK(sample(metrics, "plexus_api_cache_lookups_total{tenant=\"default\",api=\"server\",result=\"hit\"} ") == 2);
  CHECK(sample(metrics, "plexus_api_cache_lookups_total{tenant=\"default\",api=\"server\",result=\"miss\"} ") == 4);
  CHECK(plexus.stop() == 0);
}

TEST_CASE_METHOD(ApiManagerOnSqlite, "metrics per API and revision, api.failed and api.slow events, and the slow summary",
          "[api-manager][metrics]") {
  // slow_ms so small that every run is slow; "broken" fails on the datasource.
  define_api(client, admin, "server", by_id_api({{"public", true}, {"slow_ms", 0.001}}));
  auto broken = by_id_api({{"public", true}, {"path", "ops/broken/{id}"}});
  broken["sql"] = "SELECT * FROM doomed WHERE id = :id";
  drop_table_later(client, admin, "doomed");
  define_api(client, admin, "broken", broken);
  drop_table_now(client, admin, "doomed");

  StreamClient events(plexus, admin, "api.>");
  REQUIRE(events.ready());
  CHECK(answer_of(client.Get("/runtime/ops/servers/1")).status == 200);
  CHECK(answer_of(client.Get("/runtime/ops/servers/2")).status == 200);
  CHECK(answer_of(client.Get("/runtime/ops/servers/nope")).status == 400);
  const auto failed = answer_of(client.Get("/runtime/ops/broken/1"));
  CHECK(failed.status == 502);

  const auto seen = events.until([](const std::vector<json>& all) {
    return std::count_if(all.begin(), all.end(), [](const json& e) { return e["topic"] == "api.failed"; }) >= 1 &&
           std::count_if(all.begin(), all.end(), [](const json& e) { return e["topic"] == "api.slow"; }) >= 2;
  });
  const auto failed_event = std::find_if(seen.begin(), seen.end(), [](const json& e) { return e["topic"] == "api.failed"; });
  REQUIRE(failed_event != seen.end());
  const auto payload = (*failed_event)["payload"];
  CHECK(payload["api"] == "broken");
  CHECK(payload["error_class"] == "datasource");
  CHECK(payload["request_id"] == failed.body["error"]["request_id"]);
  CHECK(payload["tenant"] == "default");
  CHECK_FALSE(payload.contains("params"));
  CHECK((*failed_event)["key"] == "default/broken");
  // A caller's mistake (400) is not a failed run; the validation run was not slow-reported either.
  CHECK(std::count_if(seen.begin(), seen.end(), [](const json& e) { return e["topic"] == "api.failed"; }) == 1);
  const auto slow = std::find_if(seen.begin(), seen.end(), [](const json& e) { return e["topic"] == "api.slow"; });
  REQUIRE(slow != seen.end());
  CHECK((*slow)["payload"]["api"] == "server");
  CHECK((*slow)["payload"]["slow_ms"] == 0.001);

  const auto metrics = client.Get("/metrics")->body;
  const std::string server = "tenant=\"default\",api=\"server\",revision=\"1\"";
  CHECK(sample(metrics, "plexus_api_calls_total{" + server + ",outcome=\"ok\"} ") == 2);
  CHECK(sample(metrics, "plexus_api_calls_total{" + server + ",outcome=\"validation\"} ") == 1);
  CHECK(sample(metrics,
               "plexus_api_calls_total{tenant=\"default\",api=\"broken\",revision=\"1\",outcome=\"datasource\"} ") == 1);
  CHECK(sample(metrics, "plexus_api_duration_seconds_count{" + server + "} ") == 3);

  auto summary = answer_of(client.Get("/api/v1/api-manager/slow?since=1h", bearer(admin)));
  REQUIRE(summary.status == 200);
  REQUIRE(summary.body["items"].size() == 1);  // only "server" has a threshold
  const auto& item = summary.body["items"][0];
  CHECK(item["api"] == "server");
  CHECK(item["runs"] == 3);
  CHECK(item["slow_runs"] == 3);
  CHECK(item["last_slow_at"].is_string());
  auto bad_since = answer_of(client.Get("/api/v1/api-manager/slow?since=yesterday", bearer(admin)));
  CHECK(bad_since.status == 400);
  CHECK(bad_since.body["error"]["details"]["field"] == "since");
  CHECK(answer_of(client.Get("/api/v1/api-manager/slow")).status == 401);
  CHECK(plexus.stop() == 0);
}

TEST_CASE_METHOD(ApiManagerOnSqlite, "transient datasource errors are retried as the API says, others are not", "[api-manager][retry]") {
  // A PostgreSQL datasource on a loopback port nobody listens on: unavailable, a transient error.
  post(client, admin, "/api/v1/resources/datasource",
       {{"id", "down"},
        {"content", {{"driver", "postgres"}, {"url", "postgresql://nobody@127.0.0.1:1/none"}, {"read_only", true}}},
        {"reason", "test"}},
       201);
  auto down = by_id_api({{"datasource", "down"}, {"retry", {{"attempts", 3}, {"backoff_ms", 5}}}});
  define_api(client, admin, "down", down);
  auto got = answer_of(client.Get("/runtime/ops/servers/1", bearer(admin)));
  CHECK(got.status == 502);
  CHECK(got.body["error"]["message"].get<std::string>().find("not available") != std::string::npos);
  CHECK(got.body["error"]["details"]["attempts"] == 3);

  // Bad SQL is not transient: one attempt whatever the policy.
  auto wrong = by_id_api({{"retry", {{"attempts", 3}, {"backoff_ms", 5}}}});
  wrong["sql"] = "SELECT * FROM doomed WHERE id = :id";
  drop_table_later(client, admin, "doomed");
  define_api(client, admin, "down", wrong);
  drop_table_now(client, admin, "doomed");
  got = answer_of(client.Get("/runtime/ops/servers/1", bearer(admin)));
  CHECK(got.status == 502);
  CHECK(got.body["error"]["details"]["attempts"] == 1);
  // A bad retry policy is refused on save, naming the field.
  auto invalid = by_id_api({{"retry", {{"attempts", 0}}}});
  auto saved = client.Put("/api/v1/resources/api/down", [&] {
    auto h = bearer(admin);
    h.emplace("If-Match", "*");
    return h;
  }(), json{{"content", invalid}, {"reason", "test"}}.dump(), "application/json");
  REQUIRE(saved);
  CHECK(saved->status == 400);
  CHECK(saved->body.find("/retry/attempts") != std::string::npos);
  CHECK(plexus.stop() == 0);
}

TEST_CASE_METHOD(ApiManagerOnSqlite, "canary: a share of production calls, sticky per caller, rolled back when worse",
          "[api-manager][canary]") {
  define_api(client, admin, "server", by_id_api({}));
  // Revision 2 in staging only: broken, as a canary for half the callers.
  auto broken = by_id_api({{"canary", {{"percent", 50}, {"min_calls", 6}, {"max_error_rate_increase", 0.2}}}});
  broken["sql"] = "SELECT * FROM doomed WHERE id = :id";
  drop_table_later(client, admin, "doomed");
  define_api(client, admin, "server", broken, false);
  drop_table_now(client, admin, "doomed");
  auto status = answer_of(client.Get("/api/v1/api-manager/apis/server/canary", bearer(admin)));
  REQUIRE(status.status == 200);
  CHECK(status.body["state"] == "running");
  CHECK(status.body["revision"] == 2);
  CHECK(status.body["production_revision"] == 1);

  // Sixteen callers: each lands on one side and stays there.
  const std::string password = "Canary-Caller-Pass-77!";
  record_secret(password);
  post(client, admin, "/api/v1/admin/roles",
       {{"name", "runner"}, {"description", "runs APIs"}, {"grants", {"api.execute"}}}, 201);
  std::vector<std::string> tokens;
  for (int i = 0; i < 16; ++i) {
    const auto name = "caller" + std::to_string(i);
    post(client, admin, "/api/v1/admin/users", {{"username", name}, {"password", password}, {"roles", {"runner"}}},
         201);
    tokens.push_back(plexus.login(name, password));
  }
  StreamClient events(plexus, admin, "api.canary.>");
  REQUIRE(events.ready());
  std::vector<int> first;
  for (const auto& token : tokens) first.push_back(answer_of(client.Get("/runtime/ops/servers/1", bearer(token))).status);
  const auto canaries = std::count(first.begin(), first.end(), 502);
  CHECK(canaries > 0);
  CHECK(canaries < 16);
  CHECK(std::count(first.begin(), first.end(), 200) == 16 - canaries);
  // Until both sides have 6 calls the canary runs on; sticky: the same caller, the same side.
  for (std::size_t round = 0; round < 6; ++round) {
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      const auto got = answer_of(client.Get("/runtime/ops/servers/1", bearer(tokens[i]))).status;
      if (got != first[i]) {
        // Only ever because the canary was rolled back: everyone is on production then.
        CHECK(got == 200);
      }
    }
  }
  const auto seen = events.until([](const std::vector<json>& all) { return !all.empty(); });
  REQUIRE(seen.size() == 1);
  CHECK(seen[0]["topic"] == "api.canary.rolled_back");
  CHECK(seen[0]["payload"]["revision"] == 2);
  CHECK(seen[0]["payload"]["canary"]["error_rate"] == 1.0);
  CHECK(seen[0]["payload"]["production"]["error_rate"] == 0.0);
  CHECK(seen[0]["payload"]["reason"].get<std::string>().find("error rate") != std::string::npos);
  // Rolled back: every caller gets production, and the state says so.
  for (const auto& token : tokens) CHECK(answer_of(client.Get("/runtime/ops/servers/1", bearer(token))).status == 200);
  status = answer_of(client.Get("/api/v1/api-manager/apis/server/canary", bearer(admin)));
  CHECK(status.body["state"] == "rolled_back");
  // The canary's runs are in the execution log as such.
  auto runs = answer_of(client.Get("/api/v1/api-manager/executions?api=server&status=error&limit=500", bearer(admin)));
  REQUIRE_FALSE(runs.body["items"].empty());
  for (const auto& run : runs.body["items"]) {
    CHECK(run["stage"] == "canary");
    CHECK(run["revision"] == 2);
  }

  // The rollback holds across a restart; a new staging revision is a new canary.
  CHECK(plexus.stop() == 0);
  plexus.restart();
  const auto admin2 = plexus.admin_token();
  status = answer_of(client.Get("/api/v1/api-manager/apis/server/canary", bearer(admin2)));
  CHECK(status.body["state"] == "rolled_back");
  define_api(client, admin2, "server", by_id_api({{"canary", {{"percent", 50}}}}), false);
  status = answer_of(client.Get("/api/v1/api-manager/apis/server/canary", bearer(admin2)));
  CHECK(status.body["state"] == "running");
  CHECK(status.body["revision"] == 3);
  // Promoting the staging revision ends the canary.
  post(client, admin2, "/api/v1/resources/api/server/promote", {{"stage", "production"}}, 200);
  CHECK(answer_of(client.Get("/api/v1/api-manager/apis/server/canary", bearer(admin2))).status == 404);
  CHECK(plexus.stop() == 0);
}
