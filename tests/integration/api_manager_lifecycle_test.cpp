// The lifecycle of an API through the api-manager's own REST API (issue 7 item 4;
// the kind's route_prefix, ABI 1.5), on SQLite and PostgreSQL datasources: create with
// a reason, update with If-Match, history with reasons, diff, staging then production
// served under /runtime/, rollback, undo of the last change, delete refused while a
// workflow uses the API, permissions, test suites under /api/v1/api-manager/tests next
// to their run route, and every mounted path in the kernel's OpenAPI document.
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

const std::string kApis = "/api/v1/api-manager/apis";
const std::string kTests = "/api/v1/api-manager/tests";

json by_role(const std::string& columns) {
  return {{"path", "ops/servers"},
          {"method", "GET"},
          {"type", "sql"},
          {"datasource", "ops"},
          {"sql", "SELECT " + columns + " FROM servers WHERE role = :role ORDER BY id"},
          {"params", {{"type", "object"}, {"properties", {{"role", {{"type", "string"}}}}}, {"required", {"role"}}}}};
}

std::string header(const Answer& answer, const std::string& name) {
  const auto it = answer.headers.find(name);
  return it == answer.headers.end() ? std::string() : it->second;
}

httplib::Headers matching(const std::string& token, const std::string& revision) {
  auto headers = bearer(token);
  headers.emplace("If-Match", "\"" + revision + "\"");
  return headers;
}

Answer put(httplib::Client& client, const std::string& token, const std::string& path, const json& body,
           const std::string& revision) {
  return answer_of(client.Put(path, matching(token, revision), body.dump(), "application/json"));
}

// The first row production serves for web servers.
json served(httplib::Client& client, const std::string& token, const std::string& stage = "") {
  auto headers = bearer(token);
  if (!stage.empty()) headers.emplace("X-Plexus-Stage", stage);
  const auto got = answer_of(client.Get("/runtime/ops/servers?role=web", headers));
  INFO(got.body.dump());
  REQUIRE(got.status == 200);
  return got.body["rows"][0];
}

}  // namespace

TEST_CASE_METHOD(ApiManagerOnEachBackend, "an API's whole lifecycle through /api/v1/api-manager/apis", "[api-manager][lifecycle]") {
  INFO("datasource database: " << backend);

  // Create with a reason: revision 1, its ETag and its place under the plugin's API.
  auto created = answer_of(client.Post(
      kApis, bearer(admin), json{{"id", "servers-by-role"}, {"content", by_role("id, name")}, {"reason", "first cut"}}.dump(),
      "application/json"));
  REQUIRE(created.status == 201);
  CHECK(created.body["kind"] == "api");
  CHECK(created.body["revision"] == 1);
  CHECK(header(created, "Location") == kApis + "/servers-by-role");
  // The API's own checks on save, naming the field.
  auto bad = by_role("id");
  bad["timeout_ms"] = 0;
  const auto refused = post(client, admin, kApis, {{"id", "bad"}, {"content", bad}}, 400);
  CHECK(refused["error"]["details"]["problems"].dump().find("/timeout_ms") != std::string::npos);
  // Not served before a promotion.
  CHECK(answer_of(client.Get("/runtime/ops/servers?role=web", bearer(admin))).status == 404);

  // Update: If-Match is required and must be current.
  const json second{{"content", by_role("id, name, role")}, {"reason", "with the role"}};
  CHECK(answer_of(client.Put(kApis + "/servers-by-role", bearer(admin), second.dump(), "application/json")).status ==
        428);
  CHECK(put(client, admin, kApis + "/servers-by-role", second, "9").status == 412);
  const auto updated = put(client, admin, kApis + "/servers-by-role", second, "1");
  REQUIRE(updated.status == 200);
  CHECK(header(updated, "ETag") == "\"2\"");

  // History with reasons, one old revision, the diff.
  auto history = answer_of(client.Get(kApis + "/servers-by-role/revisions", bearer(admin)));
  REQUIRE(history.status == 200);
  REQUIRE(history.body["items"].size() == 2);
  CHECK(history.body["items"][0]["reason"] == "with the role");
  CHECK(history.body["items"][1]["reason"] == "first cut");
  CHECK(history.body["items"][1]["author"] == "user:admin");
  const auto first = answer_of(client.Get(kApis + "/servers-by-role/revisions/1", bearer(admin)));
  CHECK(first.body["content"]["sql"] == by_role("id, name")["sql"]);
  const auto diff = answer_of(client.Get(kApis + "/servers-by-role/diff?from=1&to=2", bearer(admin)));
  REQUIRE(diff.status == 200);
  CHECK(diff.body["patch"] ==
        json::array({{{"op", "replace"}, {"path", "/sql"}, {"value", by_role("id, name, role")["sql"]}}}));

  // Staging, then production: the runtime serves each stage's revision.
  const auto staged = post(client, admin, kApis + "/servers-by-role/promote", {{"stage", "staging"}}, 200);
  CHECK(staged["stages"]["staging"] == 2);
  CHECK(served(client, admin, "staging") == json{{"id", 1}, {"name", "web-01"}, {"role", "web"}});
  CHECK(answer_of(client.Get("/runtime/ops/servers?role=web", bearer(admin))).status == 404);
  const auto live = post(client, admin, kApis + "/servers-by-role/promote",
                         {{"stage", "production"}, {"reason", "ship it"}}, 200);
  CHECK(live["stages"]["production"] == 2);
  CHECK(served(client, admin) == json{{"id", 1}, {"name", "web-01"}, {"role", "web"}});

  // Rollback: revision 1's content as revision 3, served once promoted.
  const auto rolled =
      answer_of(client.Post(kApis + "/servers-by-role/rollback", matching(admin, "2"),
                            json{{"to_revision", 1}, {"reason", "role leaks"}}.dump(), "application/json"));
  REQUIRE(rolled.status == 200);
  CHECK(rolled.body["revision"] == 3);
  post(client, admin, kApis + "/servers-by-role/promote", {{"stage", "staging"}}, 200);
  CHECK(post(client, admin, kApis + "/servers-by-role/promote", {{"stage", "production"}}, 200)["stages"]["production"] ==
        3);
  CHECK(served(client, admin) == json{{"id", 1}, {"name", "web-01"}});

  // Undo of the last change: revision 2's content again, as revision 4.
  const auto undone = post(client, admin, kApis + "/servers-by-role/undo", json::object(), 200);
  CHECK(undone["revision"] == 4);
  CHECK(undone["content"]["sql"] == by_role("id, name, role")["sql"]);
  history = answer_of(client.Get(kApis + "/servers-by-role/revisions", bearer(admin)));
  CHECK(history.body["items"][0]["reason"] == "undo of revision 3");
  post(client, admin, kApis + "/servers-by-role/promote", {{"stage", "production"}, {"revision", 4}}, 200);
  CHECK(served(client, admin) == json{{"id", 1}, {"name", "web-01"}, {"role", "web"}});

  // A workflow using it: listed as a referrer, and the delete is refused meanwhile.
  post(client, admin, kApis,
       {{"id", "first-web"},
        {"content",
         {{"path", "ops/first-web"},
          {"method", "GET"},
          {"type", "workflow"},
          {"workflow",
           {{"steps", {{{"id", "web"}, {"type", "api"}, {"api", "servers-by-role"}, {"params", {{"role", "web"}}}}}},
            {"result", "${steps.web.rows[0]}"}}}}}},
       201);
  const auto referrers = answer_of(client.Get(kApis + "/servers-by-role/referrers", bearer(admin)));
  CHECK(referrers.body["items"] == json::array({{{"kind", "api"}, {"id", "first-web"}}}));
  auto removal = answer_of(client.Delete(kApis + "/servers-by-role", matching(admin, "4")));
  CHECK(removal.status == 409);
  CHECK(removal.body.dump().find("first-web") != std::string::npos);
  CHECK(answer_of(client.Delete(kApis + "/first-web", matching(admin, "1"))).status == 200);
  CHECK(answer_of(client.Delete(kApis + "/servers-by-role?reason=retired", matching(admin, "4"))).status == 200);
  CHECK(answer_of(client.Get(kApis + "/servers-by-role", bearer(admin))).status == 404);
  // Undo of the delete brings it back; restore of a live API is refused.
  CHECK(post(client, admin, kApis + "/servers-by-role/undo", json::object(), 200)["deleted"] == false);
  CHECK(answer_of(client.Get(kApis + "/servers-by-role", bearer(admin))).status == 200);

  // The list, and the same resource under the store's own routes.
  const auto listed = answer_of(client.Get(kApis, bearer(admin)));
  REQUIRE(listed.status == 200);
  REQUIRE(listed.body["items"].size() == 1);
  CHECK(listed.body["items"][0]["id"] == "servers-by-role");
  CHECK(answer_of(client.Get("/api/v1/resources/api/servers-by-role", bearer(admin))).body ==
        answer_of(client.Get(kApis + "/servers-by-role", bearer(admin))).body);

  // Permissions: anonymous 401; a viewer reads but does not write.
  const std::string password = "Lifecycle-Viewer-Pass-73!";
  plexus::test::record_secret(password);
  post(client, admin, "/api/v1/admin/users", {{"username", "lee"}, {"password", password}, {"roles", {"viewer"}}},
       201);
  const auto viewer = plexus.login("lee", password);
  CHECK(answer_of(client.Get(kApis)).status == 401);
  CHECK(answer_of(client.Get(kApis + "/servers-by-role/revisions", bearer(viewer))).status == 200);
  const auto denied = answer_of(client.Post(kApis + "/servers-by-role/undo", bearer(viewer), "{}", "application/json"));
  CHECK(denied.status == 403);
  CHECK(denied.body["error"]["details"]["permission"] == "api.write");

  // Test suites under /tests, next to the plugin's own /tests/{id}/run; the plugin's
  // routes under /apis/{id}/... still answer.
  post(client, admin, kTests,
       {{"id", "smoke"},
        {"content",
         {{"api", "servers-by-role"},
          {"cases",
           {{{"name", "web"},
             {"params", {{"role", "web"}}},
             {"expect", {{"assertions", {{{"path", "$.rows"}, {"length", 2}}}}}}}}}}},
        {"reason", "smoke"}},
       201);
  CHECK(answer_of(client.Get(kTests + "/smoke/revisions", bearer(admin))).body["items"][0]["reason"] == "smoke");
  const auto run = post(client, admin, kTests + "/smoke/run", json::object(), 200);
  CHECK(run["passed"] == true);
  CHECK(answer_of(client.Get(kApis + "/servers-by-role/compatibility", bearer(admin))).status == 200);

  // Every mounted route is in the kernel's OpenAPI document, with the store's summaries.
  const auto document = answer_of(client.Get("/api/v1/openapi.json"));
  REQUIRE(document.status == 200);
  const auto& paths = document.body["paths"];
  for (const auto& [path, method] : std::vector<std::pair<std::string, std::string>>{
           {"", "get"},
           {"", "post"},
           {"/{id}", "get"},
           {"/{id}", "put"},
           {"/{id}", "delete"},
           {"/{id}/revisions", "get"},
           {"/{id}/revisions/{rev}", "get"},
           {"/{id}/diff", "get"},
           {"/{id}/rollback", "post"},
           {"/{id}/undo", "post"},
           {"/{id}/restore", "post"},
           {"/{id}/referrers", "get"},
           {"/{id}/promote", "post"},
           {"/{id}/approve", "post"}}) {
    INFO(method << " " << kApis + path);
    REQUIRE(paths.contains(kApis + path));
    REQUIRE(paths[kApis + path].contains(method));
    CHECK(paths[kApis + path][method]["summary"] == paths["/api/v1/resources/{kind}" + path][method]["summary"]);
    CHECK(paths[kApis + path][method]["tags"] == json{"api-manager"});
    CHECK(paths.contains(kTests + path));
  }
  CHECK(paths[kApis + "/{id}/undo"]["post"]["x-permission"] == "api.write");
  CHECK(paths.contains(kApis + "/{id}/canary"));
  CHECK(paths.contains(kTests + "/{id}/run"));
  CHECK(plexus.stop() == 0);
}
