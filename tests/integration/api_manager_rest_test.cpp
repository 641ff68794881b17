// The api-manager plugin through a running plexusd, loaded from its shipped manifest
// with the connector plugins (issue 7): SQL APIs defined as resources of kind "api",
// promoted, and called under /runtime/ on SQLite and PostgreSQL datasources; parameters
// merged, coerced and validated (400 naming the fields); injection attempts in every
// parameter position bound, never spliced; public, 401 and 403; another tenant's APIs
// do not exist; editors run the staging revision with X-Plexus-Stage; every run logged.
#include <algorithm>

#include <map>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/api_manager_fixture.hpp"
#include "tests/support/node_js.hpp"
#include "tests/support/plexusd_process.hpp"
#include "tests/support/postgres_db.hpp"

using nlohmann::json;
using plexus::test::bearer;
using plexus::test::Plexusd;

using namespace plexus::test;  // NOLINT: the fixture's helpers

namespace {

const json kByRole = [] {
  auto api = servers_by_role_api();
  api["tags"] = {"servers"};
  api["description"] = "Servers of one role";
  return api;
}();

const json kById = {{"path", "ops/servers/{id}"},
                    {"method", "GET"},
                    {"type", "sql"},
                    {"datasource", "ops"},
                    {"sql", "SELECT id, name, role FROM servers WHERE id = :id"},
                    {"params", {{"type", "object"}, {"properties", {{"id", {{"type", "integer"}}}}}}},
                    {"public", true}};

const json kSearch = {{"path", "ops/servers/search"},
                      {"method", "POST"},
                      {"type", "sql"},
                      {"datasource", "ops"},
                      {"sql", "SELECT id FROM servers WHERE name = :name OR id = :id ORDER BY id"},
                      {"params",
                       {{"type", "object"},
                        {"properties", {{"name", {{"type", "string"}}}, {"id", {{"type", "integer"}}}}},
                        {"additionalProperties", false}}}};

}  // namespace

TEST_CASE_METHOD(ApiManagerOnEachBackend, "SQL APIs answer rows, name invalid parameters and bind every value", "[api-manager][runtime]") {
  INFO("datasource database: " << backend);

  // Definitions are checked on save: each problem named by its pointer.
  auto bad = kByRole;
  bad["sql"] = "SELECT id FROM servers WHERE role = :role AND zone = :zone";
  bad["timeout_ms"] = 0;
  const auto refused = post(client, admin, "/api/v1/resources/api", {{"id", "bad"}, {"content", bad}}, 400);
  const auto problems = refused["error"]["details"]["problems"].dump();
  CHECK(problems.find("/sql") != std::string::npos);
  CHECK(problems.find(":zone") != std::string::npos);
  CHECK(problems.find("/timeout_ms") != std::string::npos);

  define_api(client, admin, "servers-by-role", kByRole);
  define_api(client, admin, "server", kById);
  define_api(client, admin, "server-search", kSearch);

  auto got = answer_of(client.Get("/runtime/ops/servers?role=web", bearer(admin)));
  INFO(got.body.dump());
  REQUIRE(got.status == 200);
  CHECK(got.body ==
        json::parse(R"({"rows":[{"id":1,"name":"web-01"},{"id":2,"name":"web-02"}],"truncated":false})"));

  got = answer_of(client.Get("/runtime/ops/servers/3", bearer(admin)));
  REQUIRE(got.status == 200);
  CHECK(got.body["rows"] == json::parse(R"([{"id":3,"name":"db-01","role":"db"}])"));

  got = answer_of(
      client.Post("/runtime/ops/servers/search", bearer(admin), R"({"name":"web-02"})", "application/json"));
  REQUIRE(got.status == 200);
  CHECK(got.body["rows"] == json::parse(R"([{"id":2}])"));

  // 400 naming the fields, with the request id.
  got = answer_of(client.Get("/runtime/ops/servers", bearer(admin)));
  CHECK(got.status == 400);
  CHECK(names_field(got.body, "role"));
  CHECK_FALSE(got.body["error"]["request_id"].get<std::string>().empty());
  got = answer_of(client.Get("/runtime/ops/servers/abc", bearer(admin)));
  CHECK(got.status == 400);
  CHECK(names_field(got.body, "id"));
  got = answer_of(client.Post("/runtime/ops/servers/search", bearer(admin), R"({"name":"x","colour":"red"})",
                              "application/json"));
  CHECK(got.status == 400);
  CHECK(names_field(got.body, "colour"));
  got = answer_of(client.Post("/runtime/ops/servers/search", bearer(admin), "not json", "application/json"));
  CHECK(got.status == 400);

  // Injection attempts in the path, the query and the body: 400 or bound (no rows), never other rows.
  for (const auto* attempt : {"1 OR 1=1", "1; DROP TABLE servers", "1' OR '1'='1", "1--"}) {
    INFO(attempt);
    got = answer_of(
        client.Get("/runtime/ops/servers/" + httplib::detail::encode_query_param(attempt), bearer(admin)));
    CHECK(got.status == 400);
    CHECK(names_field(got.body, "id"));
  }
  for (const auto* attempt : {"web' OR '1'='1", "web'; DROP TABLE servers; --",
                              "' UNION SELECT id, role FROM servers --", ":role", "web\\' OR 1=1 --"}) {
    INFO(attempt);
    got = answer_of(client.Get("/runtime/ops/servers?role=" + httplib::detail::encode_query_param(attempt),
                               bearer(admin)));
    REQUIRE(got.status == 200);
    CHECK(got.body["rows"].empty());
    got = answer_of(client.Post("/runtime/ops/servers/search", bearer(admin), json{{"name", attempt}}.dump(),
                                "application/json"));
    REQUIRE(got.status == 200);
    CHECK(got.body["rows"].empty());
  }
  // A number where the body wants one is bound as a value too; a string is refused.
  got = answer_of(
      client.Post("/runtime/ops/servers/search", bearer(admin), R"({"id":"1 OR 1=1"})", "application/json"));
  CHECK(got.status == 400);
  CHECK(names_field(got.body, "id"));
  // The table is intact.
  got = answer_of(client.Get("/runtime/ops/servers?role=db", bearer(admin)));
  CHECK(got.body["rows"].size() == 1);

  // Method and path.
  got = answer_of(client.Delete("/runtime/ops/servers", bearer(admin)));
  CHECK(got.status == 405);
  CHECK(got.body["error"]["code"] == "method_not_allowed");
  CHECK(got.headers.find("Allow") != got.headers.end());
  got = answer_of(client.Get("/runtime/ops/nothing", bearer(admin)));
  CHECK(got.status == 404);

  // A datasource failure: 502 with the request id; the reason only for those who may edit.
  auto broken = kByRole;
  broken["path"] = "ops/broken";
  broken["sql"] = "SELECT id FROM doomed WHERE role = :role";
  broken["public"] = true;
  // Its table goes away after it went live (SQL that does not compile is never promoted).
  post(client, admin, "/api/v1/datasources/ops/execute", {{"sql", "CREATE TABLE doomed (id INTEGER, role TEXT)"}}, 200);
  define_api(client, admin, "broken", broken);
  post(client, admin, "/api/v1/datasources/ops/execute", {{"sql", "DROP TABLE doomed"}}, 200);
  got = answer_of(client.Get("/runtime/ops/broken?role=web", bearer(admin)));
  CHECK(got.status == 502);
  CHECK(got.body["error"]["code"] == "datasource_error");
  CHECK(got.body["error"]["details"]["reason"].get<std::string>().find("doomed") != std::string::npos);
  got = answer_of(client.Get("/runtime/ops/broken?role=web"));
  CHECK(got.status == 502);
  CHECK_FALSE(got.body["error"].contains("details"));
  CHECK(got.body.dump().find("doomed") == std::string::npos);
  CHECK_FALSE(got.body["error"]["request_id"].get<std::string>().empty());

  // Every run is in the execution log.
  auto runs =
      answer_of(client.Get("/api/v1/api-manager/executions?api=server-search&limit=100", bearer(admin)));
  REQUIRE(runs.status == 200);
  CHECK(runs.body["items"].size() >= 9);
  const auto& items = runs.body["items"];
  CHECK(std::any_of(items.begin(), items.end(), [](const json& run) { return run["status"] == 400; }));
  CHECK(std::any_of(items.begin(), items.end(), [](const json& run) { return run["status"] == 200; }));
  CHECK(plexus.stop() == 0);
}

TEST_CASE_METHOD(ApiManagerOnSqlite, "runtime APIs: public, 401, 403, per-API grants, tenants and the staging revision",
          "[api-manager][runtime][permissions]") {
  define_api(client, admin, "servers-by-role", kByRole);
  define_api(client, admin, "server", kById);

  // Anonymous: the public API runs, the other needs credentials.
  CHECK(answer_of(client.Get("/runtime/ops/servers/1")).status == 200);
  auto got = answer_of(client.Get("/runtime/ops/servers?role=web"));
  CHECK(got.status == 401);
  CHECK(got.body["error"]["code"] == "unauthenticated");
  // Credentials that are not valid are refused even on a public API.
  CHECK(answer_of(client.Get("/runtime/ops/servers/1", bearer("not-a-token"))).status == 401);

  // The permissions the plugin checks itself are in the catalogue operators grant from.
  const auto catalogue = answer_of(client.Get("/api/v1/admin/permissions", bearer(admin)));
  REQUIRE(catalogue.status == 200);
  std::map<std::string, json> listed;
  for (const auto& item : catalogue.body["items"]) listed[item["permission"].get<std::string>()] = item;
  for (const char* own : {"api.execute", "api.system.write", "api.service.execute"}) {
    INFO(own);
    REQUIRE(listed.count(own) == 1);
    CHECK(listed[own]["owner"] == "api-manager");
    CHECK_FALSE(listed[own]["description"].get<std::string>().empty());
  }
  CHECK(listed["api.write"]["routes"].size() > 0);  // found on the plugin's routes, as before

  // A viewer may not execute; a role granting one API executes that one only.
  const std::string password = "Runtime-Viewer-Pass-31!";
  plexus::test::record_secret(password);
  post(client, admin, "/api/v1/admin/users",
       {{"username", "vera"}, {"password", password}, {"roles", {"viewer"}}}, 201);
  post(client, admin, "/api/v1/admin/roles",
       {{"name", "by-role-runner"},
        {"description", "runs one API"},
        {"grants", {"api.execute:servers-by-role"}}},
       201);
  post(client, admin, "/api/v1/admin/users",
       {{"username", "rudi"}, {"password", password}, {"roles", {"by-role-runner"}}}, 201);
  const auto viewer = plexus.login("vera", password);
  const auto runner = plexus.login("rudi", password);
  got = answer_of(client.Get("/runtime/ops/servers?role=web", bearer(viewer)));
  CHECK(got.status == 403);
  CHECK(got.body["error"]["details"]["permission"] == "api.execute:servers-by-role");
  CHECK(answer_of(client.Get("/runtime/ops/servers?role=web", bearer(runner))).status == 200);
  auto private_by_id = kById;
  private_by_id["public"] = false;
  define_api(client, admin, "server", private_by_id);
  CHECK(answer_of(client.Get("/runtime/ops/servers/1", bearer(runner))).status == 403);
  CHECK(answer_of(client.Get("/runtime/ops/servers/1")).status == 401);
  CHECK(answer_of(client.Get("/runtime/ops/servers/1", bearer(admin))).status == 200);

  // The OpenAPI document lists what the caller may run: anonymous callers the public APIs only.
  auto document = answer_of(client.Get("/runtime/openapi.json"));
  REQUIRE(document.status == 200);
  CHECK(document.body["openapi"].get<std::string>().starts_with("3.1"));
  CHECK(document.body["paths"].size() == 0);  // "server" is no longer public
  document = answer_of(client.Get("/runtime/openapi.json", bearer(runner)));
  REQUIRE(document.status == 200);
  CHECK(document.body["paths"].contains("/runtime/ops/servers"));
  CHECK_FALSE(document.body["paths"].contains("/runtime/ops/servers/{id}"));
  document = answer_of(client.Get("/runtime/openapi.json", bearer(admin)));
  CHECK(document.body["paths"].contains("/runtime/ops/servers/{id}"));

  // Another tenant has none of these APIs.
  const std::string acme_password = "Runtime-Acme-Pass-55!";
  plexus::test::record_secret(acme_password);
  post(
      client, admin, "/api/v1/admin/tenants",
      {{"id", "acme"}, {"name", "Acme"}, {"admin_username", "acme-admin"}, {"admin_password", acme_password}},
      201);
  const auto acme = plexus.login("acme-admin", acme_password, "acme");
  CHECK(answer_of(client.Get("/runtime/ops/servers?role=web", bearer(acme))).status == 404);
  CHECK(answer_of(client.Get("/runtime/ops/servers/1", bearer(acme))).status == 404);

  // A new revision in staging only: production keeps answering the old one; editors
  // see the new one with X-Plexus-Stage: staging.
  auto renamed = kByRole;
  renamed["sql"] = "SELECT id, name, role FROM servers WHERE role = :role ORDER BY id";
  define_api(client, admin, "servers-by-role", renamed, false);
  got = answer_of(client.Get("/runtime/ops/servers?role=db", bearer(admin)));
  CHECK(got.body["rows"] == json::parse(R"([{"id":3,"name":"db-01"}])"));
  auto staging = bearer(admin);
  staging.emplace("X-Plexus-Stage", "staging");
  got = answer_of(client.Get("/runtime/ops/servers?role=db", staging));
  CHECK(got.body["rows"] == json::parse(R"([{"id":3,"name":"db-01","role":"db"}])"));
  auto runner_staging = bearer(runner);
  runner_staging.emplace("X-Plexus-Stage", "staging");
  CHECK(answer_of(client.Get("/runtime/ops/servers?role=db", runner_staging)).status == 403);
  CHECK(answer_of(client.Get("/runtime/ops/servers?role=db", httplib::Headers{{"X-Plexus-Stage", "staging"}}))
            .status == 401);
  auto odd = bearer(admin);
  odd.emplace("X-Plexus-Stage", "canary");
  CHECK(answer_of(client.Get("/runtime/ops/servers?role=db", odd)).status == 400);
  // Promotion reaches the runtime at once (the store's change event refreshes the routes).
  post(client, admin, "/api/v1/resources/api/servers-by-role/promote", {{"stage", "production"}}, 200);
  got = answer_of(client.Get("/runtime/ops/servers?role=db", bearer(admin)));
  CHECK(got.body["rows"] == json::parse(R"([{"id":3,"name":"db-01","role":"db"}])"));
  // Deleting an API takes it off the runtime.
  auto remove = bearer(admin);
  auto deleted = client.Delete("/api/v1/resources/api/server?reason=gone", remove);
  REQUIRE(deleted);
  CHECK((deleted->status == 200 || deleted->status == 204));
  CHECK(answer_of(client.Get("/runtime/ops/servers/1", bearer(admin))).status == 404);
  CHECK(plexus.stop() == 0);
}

TEST_CASE_METHOD(ApiManagerOnSqlite, "the served OpenAPI documents: runtime APIs of every type pass three validators, the management routes are in the kernel's",
          "[api-manager][openapi]") {
  auto by_role = kByRole;
  by_role["examples"] = json::array({{{"name", "web servers"}, {"params", {{"role", "web"}}}}});
  define_api(client, admin, "servers-by-role", by_role);
  define_api(client, admin, "server", kById);
  define_api(client, admin, "server-search", kSearch);
  define_api(client, admin, "count",
             {{"path", "ops/count"}, {"method", "GET"}, {"type", "script"}, {"tags", {"scripts"}},
              {"script", "return {n = #plexus.query('ops', 'SELECT id FROM servers')}"}});
  define_api(client, admin, "first-web",
             {{"path", "ops/first-web"},
              {"method", "GET"},
              {"type", "workflow"},
              {"workflow",
               {{"steps", {{{"id", "web"}, {"type", "api"}, {"api", "servers-by-role"}, {"params", {{"role", "web"}}}}}},
                {"result", "${steps.web.rows[0]}"}}}});

  auto document = answer_of(client.Get("/runtime/openapi.json", bearer(admin)));
  REQUIRE(document.status == 200);
  for (const auto* path : {"/runtime/ops/servers", "/runtime/ops/servers/{id}", "/runtime/ops/servers/search",
                           "/runtime/ops/count", "/runtime/ops/first-web"}) {
    CHECK(document.body["paths"].contains(path));
  }
  plexus::test::TempDir dir;
  const auto file = dir.write("openapi.json", document.body.dump(2));
  const auto verdict =
      plexus::test::run_command({plexus::test::node_binary("@seriousme/openapi-schema-validator"),
                                 (plexus::test::js_dir() / "validate_openapi.mjs").string(), file.string()});
  INFO(verdict.out << verdict.err);
  const auto report = json::parse(verdict.out, nullptr, false);
  REQUIRE(report.is_object());
  for (const auto* validator :
       {"@readme/openapi-parser", "@apidevtools/swagger-parser", "@seriousme/openapi-schema-validator"}) {
    INFO(validator);
    CHECK(report.at(validator).at("valid") == true);
  }
  CHECK(verdict.exit_code == 0);

  // The plugin's management API is part of the kernel's document.
  auto kernel = answer_of(client.Get("/api/v1/openapi.json", bearer(admin)));
  REQUIRE(kernel.status == 200);
  for (const auto* path : {"/api/v1/api-manager/executions", "/api/v1/api-manager/slow",
                           "/api/v1/api-manager/apis/{id}/canary", "/api/v1/api-manager/apis/{id}/batch",
                           "/api/v1/resources/{kind}/{id}/undo"}) {
    INFO(path);
    CHECK(kernel.body["paths"].contains(path));
  }
  // With the summaries the plugin gives its routes (ABI 1.5).
  const auto& paths = kernel.body["paths"];
  CHECK(paths["/api/v1/api-manager/executions"]["get"].value("summary", "") ==
        "Browse the execution log, newest first, with filters");
  CHECK(paths["/api/v1/api-manager/apis/{id}/batch"]["post"].value("summary", "").starts_with("Run the API once"));
  CHECK(paths["/runtime/{path}"]["get"].value("summary", "").starts_with("A runtime API"));
  CHECK(plexus.stop() == 0);
}
