// Workflow APIs through a running plexusd with the api-manager and connector plugins
// (issue 7 item 2), on SQLite and PostgreSQL datasources: a workflow runs a SQL step,
// calls another API, branches, loops over rows and runs a parallel block; its steps are
// in the execution log; a failing or timed-out step answers an error naming it; values
// that reach SQL through workflow parameters and loop items stay bound.
#include <algorithm>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/api_manager_fixture.hpp"
#include "tests/support/plexusd_process.hpp"
#include "tests/support/postgres_db.hpp"

using nlohmann::json;
using plexus::test::bearer;
using plexus::test::Plexusd;

using namespace plexus::test;  // NOLINT: the fixture's helpers

namespace {

const json kServer = {{"path", "ops/servers/{id}"},
                      {"method", "GET"},
                      {"type", "sql"},
                      {"datasource", "ops"},
                      {"sql", "SELECT id, name, role FROM servers WHERE id = :id"},
                      {"params", {{"type", "object"}, {"properties", {{"id", {{"type", "integer"}}}}}}}};

json sql_step(const std::string& id, const std::string& sql, const json& params = json::object()) {
  return {{"id", id}, {"type", "sql"}, {"datasource", "ops"}, {"sql", sql}, {"params", params}};
}

const json kReport = {
    {"path", "ops/report"},
    {"method", "GET"},
    {"type", "workflow"},
    {"params",
     {{"type", "object"}, {"properties", {{"role", {{"type", "string"}}}}}, {"required", {"role"}}}},
    {"workflow",
     {{"steps",
       {sql_step("lookup", "SELECT id, name FROM servers WHERE role = :role ORDER BY id", {{"role", "${params.role}"}}),
        {{"id", "check"},
         {"type", "if"},
         {"condition", {{"left", "${steps.lookup.rows}"}, {"op", "not_empty"}}},
         {"then", {{{"id", "first"}, {"type", "api"}, {"api", "server"},
                    {"params", {{"id", "${steps.lookup.rows[0].id}"}}}}}},
         {"else", {sql_step("everyone", "SELECT COUNT(*) AS n FROM servers")}}},
        {{"id", "each"},
         {"type", "foreach"},
         {"items", "${steps.lookup.rows}"},
         {"as", "server"},
         {"steps", {sql_step("detail", "SELECT name, role FROM servers WHERE id = :id", {{"id", "${server.id}"}})}}},
        {{"id", "both"},
         {"type", "parallel"},
         {"branches",
          {{sql_step("total", "SELECT COUNT(*) AS n FROM servers")},
           {{{"id", "db"}, {"type", "api"}, {"api", "server"}, {"params", {{"id", 3}}}}}}}}}},
      {"result",
       {{"role", "${params.role}"},
        {"branch", "${steps.check.branch}"},
        {"first", "${steps.first.rows[0].name}"},
        {"everyone", "${steps.everyone.rows[0].n}"},
        {"each", "${steps.each}"},
        {"total", "${steps.total.rows[0].n}"},
        {"db", "${steps.db.rows[0].name}"},
        {"summary", "${params.role}: ${steps.lookup.rows[0].name} first"}}}}}};

// The step log of the newest run of `api`: [{"name", "status", "rows", ...}].
json last_steps(httplib::Client& client, const std::string& token, const std::string& api) {
  auto runs = answer_of(client.Get("/api/v1/api-manager/executions?api=" + api + "&limit=1", bearer(token)));
  REQUIRE(runs.status == 200);
  REQUIRE(runs.body["items"].size() == 1);
  const auto id = runs.body["items"][0]["id"].get<std::int64_t>();
  auto run = answer_of(client.Get("/api/v1/api-manager/executions/" + std::to_string(id), bearer(token)));
  REQUIRE(run.status == 200);
  return run.body["steps"];
}

std::string status_of(const json& steps, const std::string& name) {
  for (const auto& step : steps) {
    if (step["name"] == name) return step["status"].get<std::string>();
  }
  return "(not logged)";
}

}  // namespace

TEST_CASE_METHOD(ApiManagerOnEachBackend, "workflow APIs run SQL, call APIs, branch, loop and run in parallel", "[api-manager][workflow]") {
  INFO("datasource database: " << backend);
  define_api(client, admin, "server", kServer);
  define_api(client, admin, "server-report", kReport);

  auto got = answer_of(client.Get("/runtime/ops/report?role=web", bearer(admin)));
  INFO(got.body.dump());
  REQUIRE(got.status == 200);
  CHECK(got.body["role"] == "web");
  CHECK(got.body["branch"] == "then");
  CHECK(got.body["first"] == "web-01");
  CHECK(got.body["everyone"].is_null());
  REQUIRE(got.body["each"].size() == 2);
  CHECK(got.body["each"][1]["detail"]["rows"] == json::parse(R"([{"name": "web-02", "role": "web"}])"));
  CHECK(got.body["total"] == 3);
  CHECK(got.body["db"] == "db-01");
  CHECK(got.body["summary"] == "web: web-01 first");

  // Every step is in the run's log, loop iterations by index.
  auto steps = last_steps(client, admin, "server-report");
  INFO(steps.dump());
  for (const auto* name : {"lookup", "check", "first", "each", "each[0].detail", "each[1].detail", "both", "total", "db"}) {
    INFO(name);
    CHECK(status_of(steps, name) == "ok");
  }
  CHECK(status_of(steps, "everyone") == "(not logged)");
  const auto lookup = std::find_if(steps.begin(), steps.end(), [](const json& s) { return s["name"] == "lookup"; });
  REQUIRE(lookup != steps.end());
  CHECK((*lookup)["rows"] == 2);

  // The else branch, and an empty loop.
  got = answer_of(client.Get("/runtime/ops/report?role=mail", bearer(admin)));
  REQUIRE(got.status == 200);
  CHECK(got.body["branch"] == "else");
  CHECK(got.body["first"].is_null());
  CHECK(got.body["everyone"] == 3);
  CHECK(got.body["each"] == json::array());

  // Injection attempts through the workflow's parameter reach the SQL bound: no rows, the table intact.
  for (const auto* attempt : {"web' OR '1'='1", "web'; DROP TABLE servers; --", "' UNION SELECT id, role FROM servers --"}) {
    INFO(attempt);
    got = answer_of(client.Get("/runtime/ops/report?role=" + httplib::detail::encode_query_param(attempt),
                               bearer(admin)));
    REQUIRE(got.status == 200);
    CHECK(got.body["branch"] == "else");
    CHECK(got.body["each"] == json::array());
    CHECK(got.body["role"] == attempt);
  }
  got = answer_of(client.Get("/runtime/ops/report?role=db", bearer(admin)));
  REQUIRE(got.status == 200);
  CHECK(got.body["first"] == "db-01");
  CHECK(got.body["total"] == 3);

  // Definitions are checked on save, each problem named by its pointer.
  auto bad = kReport;
  bad["workflow"]["steps"][0]["params"]["role"] = "${steps.each.rows}";
  bad["workflow"]["steps"][2]["type"] = "loop";
  const auto refused =
      post(client, admin, "/api/v1/resources/api", {{"id", "bad-report"}, {"content", bad}}, 400);
  const auto problems = refused["error"]["details"]["problems"].dump();
  CHECK(problems.find("/workflow/steps/0/params/role") != std::string::npos);
  CHECK(problems.find("/workflow/steps/2/type") != std::string::npos);
  CHECK(plexus.stop() == 0);
}

TEST_CASE_METHOD(ApiManagerOnEachBackend, "a failing or timed-out workflow step answers an error naming it", "[api-manager][workflow]") {
  INFO("datasource database: " << backend);

  json broken = {{"path", "ops/broken"},
                 {"method", "GET"},
                 {"type", "workflow"},
                 {"workflow",
                  {{"steps",
                    {sql_step("fine", "SELECT COUNT(*) AS n FROM servers"),
                     sql_step("bad", "SELECT absent FROM vanishing"),
                     sql_step("never", "SELECT 1 AS one")}}}}};
  // Its table goes away once the API is live (SQL that does not compile is neither saved nor promoted).
  const auto define_then_drop = [&] {
    post(client, admin, "/api/v1/datasources/ops/execute", {{"sql", "CREATE TABLE vanishing (absent INTEGER)"}}, 200);
    define_api(client, admin, "broken", broken);
    post(client, admin, "/api/v1/datasources/ops/execute", {{"sql", "DROP TABLE vanishing"}}, 200);
  };
  define_then_drop();
  auto got = answer_of(client.Get("/runtime/ops/broken", bearer(admin)));
  INFO(got.body.dump());
  CHECK(got.status == 502);
  CHECK(got.body["error"]["code"] == "step_failed");
  CHECK(got.body["error"]["message"].get<std::string>().find("step 'bad' failed") == 0);
  CHECK(got.body["error"]["details"]["step"] == "bad");
  auto steps = last_steps(client, admin, "broken");
  CHECK(status_of(steps, "fine") == "ok");
  CHECK(status_of(steps, "bad") == "error");
  CHECK(status_of(steps, "never") == "(not logged)");

  // With on_error: continue, the run goes on and the error is the step's result.
  broken["workflow"]["steps"][1]["on_error"] = "continue";
  broken["workflow"]["result"] = {{"bad", "${steps.bad.error.code}"}, {"never", "${steps.never.rows[0].one}"}};
  define_then_drop();
  got = answer_of(client.Get("/runtime/ops/broken", bearer(admin)));
  REQUIRE(got.status == 200);
  CHECK(got.body == json::parse(R"({"bad": "datasource_error", "never": 1})"));

  // A statement slower than its step's timeout_ms is stopped; a timeout is transient, so
  // the step is tried again as its retry says, then the run fails naming it.
  const json slow = {
      {"path", "ops/slow"},
      {"method", "GET"},
      {"type", "workflow"},
      {"workflow",
       {{"steps",
         {{{"id", "spin"},
           {"type", "sql"},
           {"datasource", "ops"},
           {"sql",
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000) "
            "SELECT COUNT(*) AS n FROM c"},
           {"timeout_ms", 200},
           {"retry", {{"attempts", 2}, {"backoff_ms", 10}}}}}}}}};
  define_api(client, admin, "slow", slow);
  got = answer_of(client.Get("/runtime/ops/slow", bearer(admin)));
  INFO(got.body.dump());
  CHECK(got.status == 504);
  CHECK(got.body["error"]["code"] == "step_failed");
  CHECK(got.body["error"]["message"].get<std::string>().find("step 'spin' failed: the datasource did not answer in time") ==
        0);
  CHECK(got.body["error"]["details"]["details"]["attempts"] == 2);
  steps = last_steps(client, admin, "slow");
  CHECK(status_of(steps, "spin") == "error");
  CHECK(plexus.stop() == 0);
}

TEST_CASE_METHOD(ApiManagerOnSqlite, "a workflow's script step shapes an earlier step's rows in the Lua sandbox", "[api-manager][workflow]") {
  const json shaped = {
      {"path", "ops/names"},
      {"method", "GET"},
      {"type", "workflow"},
      {"params", {{"type", "object"}, {"properties", {{"role", {{"type", "string"}}}}}, {"required", {"role"}}}},
      {"workflow",
       {{"steps",
         {sql_step("lookup", "SELECT id, name FROM servers WHERE role = :role ORDER BY id", {{"role", "${params.role}"}}),
          {{"id", "shape"},
           {"type", "script"},
           {"params", {{"rows", "${steps.lookup.rows}"}}},
           {"script",
            "local names = {}\n"
            "for _, row in ipairs(params.rows) do names[#names + 1] = row.name end\n"
            "return {names = table.concat(names, ','), count = #params.rows}"}}}},
        {"result", "${steps.shape}"}}}};
  define_api(client, admin, "names", shaped);
  auto got = answer_of(client.Get("/runtime/ops/names?role=web", bearer(admin)));
  REQUIRE(got.status == 200);
  CHECK(got.body == json::parse(R"({"names":"web-01,web-02","count":2})"));
  CHECK(status_of(last_steps(client, admin, "names"), "shape") == "ok");
  // A script step that breaks the sandbox's rules fails the run, naming the step.
  auto escape = shaped;
  escape["workflow"]["steps"][1]["script"] = "return io.open('/etc/passwd')";
  define_api(client, admin, "names", escape);
  got = answer_of(client.Get("/runtime/ops/names?role=web", bearer(admin)));
  CHECK(got.status == 500);
  CHECK(got.body["error"]["message"].get<std::string>().find("shape") != std::string::npos);
  CHECK(plexus.stop() == 0);
}
