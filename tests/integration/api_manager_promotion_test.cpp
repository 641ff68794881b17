// Test suites and the compatibility check before production (issue 7 items 5 and 13),
// through a running plexusd with the api-manager plugin: suites of kind "api-test" saved
// and validated, run on demand, run by the pre-promotion hook where a failing case blocks
// production (409 naming the case) while production keeps serving the old revision;
// breaking changes blocked unless accepted for the exact production revision. The
// kernel's store and the datasource both run on SQLite, then both on PostgreSQL (the hook
// reads resources while the store holds a pooled session).
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

const json kByRole = {{"path", "ops/servers"},
                      {"method", "GET"},
                      {"type", "sql"},
                      {"datasource", "ops"},
                      {"sql", "SELECT id, name FROM servers WHERE role = :role ORDER BY id"},
                      {"params",
                       {{"type", "object"},
                        {"properties", {{"role", {{"type", "string"}}}}},
                        {"required", json::array({"role"})}}}};

const json kSuite = json::parse(R"({
  "api": "servers-by-role",
  "description": "the web servers, in order",
  "cases": [
    {"name": "web servers", "params": {"role": "web"},
     "expect": {"status": 200, "max_duration_ms": 600000,
                "assertions": [{"path": "$.rows[0].name", "equals": "web-01"},
                               {"path": "$.rows", "length": 2},
                               {"path": "$.rows[*].name", "matches": "^web-"},
                               {"path": "$.truncated", "type": "boolean"}]}},
    {"name": "role is required", "params": {},
     "expect": {"status": 400, "assertions": [{"path": "$.error.code", "equals": "invalid_params"}]}}]})");

const std::string kApiPath = "/api/v1/resources/api/servers-by-role";
const std::string kManager = "/api/v1/api-manager";

Answer promote(httplib::Client& client, const std::string& token, const std::string& stage) {
  return answer_of(
      client.Post(kApiPath + "/promote", bearer(token), json{{"stage", stage}}.dump(), "application/json"));
}

// Saves a new revision and points staging at it; production stays where it was.
void stage_revision(httplib::Client& client, const std::string& token, const json& content) {
  define_api(client, token, "servers-by-role", content, false);
}

std::int64_t production_revision(httplib::Client& client, const std::string& token) {
  const auto got = answer_of(client.Get(kApiPath, bearer(token)));
  REQUIRE(got.status == 200);
  return got.body["stages"]["production"].get<std::int64_t>();
}

std::string first_name(httplib::Client& client, const std::string& token) {
  const auto got = answer_of(client.Get("/runtime/ops/servers?role=web", bearer(token)));
  INFO(got.body.dump());
  REQUIRE(got.status == 200);
  return got.body["rows"][0]["name"].get<std::string>();
}

bool mentions(const json& problems, const std::string& part) {
  for (const auto& p : problems) {
    if (p.get<std::string>().find(part) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("failing test cases and unaccepted breaking changes block production",
          "[api-manager][tests][promotion]") {
  const auto backend = each_store_backend();
  INFO("store and datasource database: " << backend);
  TempDir manifests, files, store;
  Plexusd plexus({{"PLEXUS_PLUGINS__WATCH", "false"}, {"PLEXUS_STORE__URL", fresh_store_url(backend, store)}},
                 {"--manifests", shipped_manifests(manifests, files.path())});
  const auto admin = plexus.admin_token();
  auto client = plexus.client();
  seed(client, admin, datasource_options(backend, files));
  define_api(client, admin, "servers-by-role", kByRole);  // revision 1, no suite yet

  // Suites are checked on save, each problem named by its pointer.
  auto bad = kSuite;
  bad["cases"][0]["expect"]["assertions"][0]["path"] = "$..name";
  bad["cases"][1]["expect"]["status"] = 42;
  auto refused = post(client, admin, "/api/v1/resources/api-test", {{"id", "smoke"}, {"content", bad}}, 400);
  const auto problems = refused["error"]["details"]["problems"].dump();
  CHECK(problems.find("/cases/0/expect/assertions/0/path") != std::string::npos);
  CHECK(problems.find("recursive descent") != std::string::npos);
  CHECK(problems.find("/cases/1/expect/status") != std::string::npos);
  post(client, admin, "/api/v1/resources/api-test", {{"id", "smoke"}, {"content", kSuite}, {"reason", "t"}},
       201);

  // On demand: one suite (staging by default), or every suite of the API.
  auto report = post(client, admin, kManager + "/tests/smoke/run", json::object(), 200);
  INFO(report.dump());
  CHECK(report["passed"] == true);
  CHECK(report["stage"] == "staging");
  CHECK(report["api_revision"] == 1);
  REQUIRE(report["cases"].size() == 2);
  CHECK(report["cases"][0]["status"] == 200);
  CHECK(report["cases"][1]["status"] == 400);
  auto answer = answer_of(
      client.Post(kManager + "/tests/smoke/run?stage=canary", bearer(admin), "{}", "application/json"));
  CHECK(answer.status == 400);
  CHECK(answer.body["error"]["details"]["field"] == "stage");
  CHECK(
      answer_of(client.Post(kManager + "/tests/nope/run", bearer(admin), "{}", "application/json")).status ==
      404);

  // A revision that makes a case fail: production refuses it, naming suite, case and
  // reason, and keeps serving revision 1.
  auto reversed = kByRole;
  reversed["sql"] = "SELECT id, name FROM servers WHERE role = :role ORDER BY id DESC";
  stage_revision(client, admin, reversed);  // revision 2
  answer = promote(client, admin, "production");
  INFO(answer.body.dump());
  CHECK(answer.status == 409);
  CHECK(answer.body["error"]["code"] == "promotion_blocked");
  const auto& blocked = answer.body["error"]["details"]["problems"];
  CHECK(mentions(blocked, "test 'smoke' case 'web servers' failed"));
  CHECK(mentions(blocked, "expected \"web-01\", got \"web-02\""));
  CHECK_FALSE(mentions(blocked, "role is required"));
  CHECK(production_revision(client, admin) == 1);
  CHECK(first_name(client, admin) == "web-01");

  report = post(client, admin, kManager + "/tests/smoke/run?stage=staging", json::object(), 200);
  CHECK(report["passed"] == false);
  CHECK(report["api_revision"] == 2);
  CHECK(report["cases"][0]["failures"][0]["assertion"] == "/cases/0/expect/assertions/0");
  CHECK(report["cases"][0]["body"]["rows"][0]["name"] == "web-02");
  CHECK(report["cases"][1]["passed"] == true);
  auto all =
      post(client, admin, kManager + "/apis/servers-by-role/tests/run?stage=production", json::object(), 200);
  CHECK(all["passed"] == true);
  CHECK(all["api_revision"] == 1);
  REQUIRE(all["suites"].size() == 1);
  CHECK(all["suites"][0]["suite"] == "smoke");
  all = post(client, admin, kManager + "/apis/servers-by-role/tests/run", json::object(), 200);
  CHECK(all["passed"] == false);

  // Fixed, with a new optional parameter: the suite passes and production follows.
  auto with_verbose = kByRole;
  with_verbose["params"]["properties"]["verbose"] = {{"type", "boolean"}};
  stage_revision(client, admin, with_verbose);  // revision 3
  answer = promote(client, admin, "production");
  INFO(answer.body.dump());
  REQUIRE(answer.status == 200);
  CHECK(production_revision(client, admin) == 3);

  // Removing that parameter breaks callers: the compatibility check lists it and
  // production refuses it; staging takes it.
  stage_revision(client, admin, kByRole);  // revision 4
  auto compatibility = answer_of(client.Get(kManager + "/apis/servers-by-role/compatibility", bearer(admin)));
  INFO(compatibility.body.dump());
  REQUIRE(compatibility.status == 200);
  CHECK(compatibility.body["compatible"] == false);
  CHECK(compatibility.body["from"] == json{{"stage", "production"}, {"revision", 3}});
  CHECK(compatibility.body["to"] == json{{"stage", "current"}, {"revision", 4}});
  REQUIRE(compatibility.body["breaking"].size() == 1);
  CHECK(compatibility.body["breaking"][0]["change"] == "parameter_removed");
  CHECK(compatibility.body["breaking"][0]["pointer"] == "/params/properties/verbose");
  compatibility = answer_of(
      client.Get(kManager + "/apis/servers-by-role/compatibility?from=4&to=production", bearer(admin)));
  CHECK(compatibility.body["compatible"] == true);  // adding a parameter is fine
  CHECK(
      answer_of(client.Get(kManager + "/apis/servers-by-role/compatibility?from=2", bearer(admin))).status ==
      400);
  CHECK(answer_of(client.Get(kManager + "/apis/nope/compatibility", bearer(admin))).status == 404);

  answer = promote(client, admin, "production");
  CHECK(answer.status == 409);
  CHECK(mentions(answer.body["error"]["details"]["problems"],
                 "breaking change against production revision 3: the parameter 'verbose' was removed"));
  CHECK(production_revision(client, admin) == 3);

  // An override naming another revision does not count.
  auto accepted = kByRole;
  accepted["compatibility"] = {{"accept_breaking", 2}, {"migration_note", "verbose is gone"}};
  stage_revision(client, admin, accepted);  // revision 5
  answer = promote(client, admin, "production");
  CHECK(answer.status == 409);
  CHECK(mentions(answer.body["error"]["details"]["problems"],
                 "names revision 2, but production serves revision 3"));
  CHECK(production_revision(client, admin) == 3);

  // Accepted for the revision production serves, with a migration note: it goes through.
  accepted["compatibility"]["accept_breaking"] = 3;
  stage_revision(client, admin, accepted);  // revision 6
  answer = promote(client, admin, "production");
  INFO(answer.body.dump());
  CHECK(answer.status == 200);
  CHECK(production_revision(client, admin) == 6);
  CHECK(first_name(client, admin) == "web-01");

  // A tested API cannot be deleted while its suite exists.
  auto headers = bearer(admin);
  const auto deleted = answer_of(client.Delete(kApiPath, headers));
  CHECK(deleted.status == 409);
  CHECK(deleted.body["error"]["code"] == "still_referenced");

  // Who may not edit APIs may not run their tests, nor see their compatibility.
  const std::string password = "Promotion-Viewer-Pass-47!";
  record_secret(password);
  post(client, admin, "/api/v1/admin/users",
       {{"username", "vera"}, {"password", password}, {"roles", json::array({"viewer"})}}, 201);
  const auto viewer = plexus.login("vera", password);
  CHECK(answer_of(client.Post(kManager + "/tests/smoke/run", bearer(viewer), "{}", "application/json"))
            .status == 403);
  CHECK(answer_of(client.Post(kManager + "/apis/servers-by-role/tests/run", bearer(viewer), "{}",
                              "application/json"))
            .status == 403);
  CHECK(answer_of(client.Get(kManager + "/apis/servers-by-role/compatibility", bearer(viewer))).status ==
        200);
  CHECK(answer_of(client.Get(kManager + "/apis/servers-by-role/compatibility")).status == 401);

  // Another tenant has neither the suite nor the API.
  const std::string acme_password = "Promotion-Acme-Pass-58!";
  record_secret(acme_password);
  post(
      client, admin, "/api/v1/admin/tenants",
      {{"id", "acme"}, {"name", "Acme"}, {"admin_username", "acme-admin"}, {"admin_password", acme_password}},
      201);
  const auto acme = plexus.login("acme-admin", acme_password, "acme");
  CHECK(
      answer_of(client.Post(kManager + "/tests/smoke/run", bearer(acme), "{}", "application/json")).status ==
      404);
  CHECK(answer_of(
            client.Post(kManager + "/apis/servers-by-role/tests/run", bearer(acme), "{}", "application/json"))
            .status == 404);
  CHECK(plexus.stop() == 0);
}

TEST_CASE_METHOD(ApiManagerOnEachBackend, "SQL its datasource cannot compile is never promoted, to staging or production",
          "[api-manager][promotion]") {
  INFO("datasource database: " << backend);

  // Saved while it compiled (the save checks it too: api_manager_save_test.cpp); its
  // column is gone by the promotion, which staging refuses, naming the datasource's reason.
  const auto execute = [&](const std::string& sql) {
    post(client, admin, "/api/v1/datasources/ops/execute", {{"sql", sql}}, 200);
  };
  execute("CREATE TABLE doomed (id INTEGER, nickname TEXT, role TEXT)");
  auto wrong = kByRole;
  wrong["sql"] = "SELECT id, nickname FROM doomed WHERE role = :role";
  post(client, admin, "/api/v1/resources/api", {{"id", "servers-by-role"}, {"content", wrong}, {"reason", "t"}}, 201);
  execute("DROP TABLE doomed");
  execute("CREATE TABLE doomed (id INTEGER, role TEXT)");
  auto refused = promote(client, admin, "staging");
  CHECK(refused.status == 409);
  CHECK(refused.body["error"]["code"] == "promotion_blocked");
  const auto problems = refused.body["error"]["details"]["problems"].dump();
  CHECK(problems.find("does not compile on the datasource 'ops'") != std::string::npos);
  CHECK(problems.find("nickname") != std::string::npos);
  // Nothing ran: the EXPLAIN of a write changes nothing either.
  auto writer = kByRole;
  writer["sql"] = "DELETE FROM servers WHERE role = :role";
  auto headers = bearer(admin);
  headers.emplace("If-Match", "*");
  REQUIRE(client.Put(kApiPath, headers, json{{"content", writer}, {"reason", "t"}}.dump(), "application/json")->status ==
          200);
  CHECK(promote(client, admin, "staging").status == 200);
  auto rows = post(client, admin, "/api/v1/datasources/ops/query", {{"sql", "SELECT COUNT(*) AS n FROM servers"}}, 200);
  CHECK(rows["rows"][0][0] == 3);
  // A datasource that does not exist is named too (an import lets it through: the
  // bundle might have brought it).
  auto elsewhere = kByRole;
  elsewhere["datasource"] = "nowhere";
  const json bundle = {{"format", "plexus-bundle/1"},
                       {"resources", {{{"kind", "api"}, {"id", "servers-by-role"}, {"content", elsewhere}}}}};
  REQUIRE(client.Post("/api/v1/resources:import", bearer(admin), bundle.dump(), "application/json")->status == 200);
  refused = promote(client, admin, "staging");
  CHECK(refused.status == 409);
  CHECK(refused.body["error"]["details"]["problems"].dump().find("'nowhere' does not exist") != std::string::npos);
  // Fixed: staging and production take it.
  REQUIRE(client.Put(kApiPath, headers, json{{"content", kByRole}, {"reason", "t"}}.dump(), "application/json")
              ->status == 200);
  CHECK(promote(client, admin, "staging").status == 200);
  CHECK(promote(client, admin, "production").status == 200);
  CHECK(answer_of(client.Get("/runtime/ops/servers?role=db", bearer(admin))).status == 200);

  // A workflow's SQL steps are compiled too, each named by its pointer.
  execute("CREATE TABLE steps_doomed (id INTEGER)");
  const json workflow = {
      {"path", "ops/report"},
      {"method", "GET"},
      {"type", "workflow"},
      {"workflow",
       {{"steps",
         {{{"id", "fine"}, {"type", "sql"}, {"datasource", "ops"}, {"sql", "SELECT COUNT(*) AS n FROM servers"}},
          {{"id", "gone"}, {"type", "sql"}, {"datasource", "ops"}, {"sql", "SELECT id FROM steps_doomed"}}}}}}};
  post(client, admin, "/api/v1/resources/api", {{"id", "report"}, {"content", workflow}, {"reason", "t"}}, 201);
  execute("DROP TABLE steps_doomed");
  refused = answer_of(client.Post("/api/v1/resources/api/report/promote", bearer(admin),
                                  json{{"stage", "staging"}}.dump(), "application/json"));
  CHECK(refused.status == 409);
  CHECK(refused.body["error"]["details"]["problems"].dump().find("/workflow/steps/1/sql: the SQL does not compile") !=
        std::string::npos);
  CHECK(plexus.stop() == 0);
}
