// The api-manager's save hook through a running plexusd (issue 7 items 5 and 6): system
// APIs are saved only by holders of api.system.write; SQL its datasource cannot compile
// (missing table or column, syntax) is refused at save with its pointer, on SQLite and
// PostgreSQL datasources, and nothing is stored; a datasource that cannot be reached does
// not block a save; bootstrap bundles bring a datasource and system APIs over it. Deleting
// or restoring a system API needs api.system.write too; a restore compiles no SQL.
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

const json kByRole = servers_by_role_api();

json with(json content, const std::string& field, const json& value) {
  content[field] = value;
  return content;
}

Answer create(httplib::Client& client, const std::string& token, const std::string& id, const json& content) {
  return answer_of(client.Post("/api/v1/resources/api", bearer(token),
                               json{{"id", id}, {"content", content}, {"reason", "t"}}.dump(), "application/json"));
}

Answer replace(httplib::Client& client, const std::string& token, const std::string& id, const json& content) {
  auto headers = bearer(token);
  headers.emplace("If-Match", "*");
  return answer_of(client.Put("/api/v1/resources/api/" + id, headers,
                              json{{"content", content}, {"reason", "t"}}.dump(), "application/json"));
}

Answer stored(httplib::Client& client, const std::string& token, const std::string& id) {
  return answer_of(client.Get("/api/v1/resources/api/" + id, bearer(token)));
}

// The pointers of a 422's problems, joined with their messages.
std::string problems_of(const Answer& answer) { return answer.body["error"]["details"]["problems"].dump(); }

std::string user_with_grants(Plexusd& plexus, httplib::Client& client, const std::string& admin,
                             const std::string& name, const json& grants) {
  const std::string password = "Save-Check-Pass-" + std::to_string(name.size()) + "-42!";
  record_secret(password);
  post(client, admin, "/api/v1/admin/roles", {{"name", name + "-role"}, {"description", "t"}, {"grants", grants}},
       201);
  post(client, admin, "/api/v1/admin/users",
       {{"username", name}, {"password", password}, {"roles", {name + "-role"}}}, 201);
  return plexus.login(name, password);
}

}  // namespace

TEST_CASE_METHOD(ApiManagerOnSqlite, "system APIs are saved and changed only by holders of api.system.write", "[api-manager][save]") {
  const auto writer = user_with_grants(plexus, client, admin, "walt", {"api.read", "api.write"});
  const auto keeper = user_with_grants(plexus, client, admin, "sys", {"api.read", "api.write", "api.system.write"});

  // api.write alone: custom APIs yes, system ones no, whether new or existing.
  auto refused = create(client, writer, "shipped", with(kByRole, "system", true));
  CHECK(refused.status == 403);
  CHECK(refused.body["error"]["code"] == "forbidden");
  CHECK(refused.body["error"]["message"].get<std::string>().find("api.system.write") != std::string::npos);
  CHECK(stored(client, admin, "shipped").status == 404);
  CHECK(create(client, writer, "custom", kByRole).status == 201);
  CHECK(replace(client, writer, "custom", with(kByRole, "system", true)).status == 403);

  CHECK(create(client, admin, "shipped", with(kByRole, "system", true)).status == 201);
  refused = replace(client, writer, "shipped", with(kByRole, "description", "mine now"));
  CHECK(refused.status == 403);
  CHECK(refused.body["error"]["message"].get<std::string>().find("is a system API") != std::string::npos);
  // Unmarking it is changing it too.
  CHECK(replace(client, writer, "shipped", with(kByRole, "system", false)).status == 403);
  // Nor through an import.
  const json bundle = {{"format", "plexus-bundle/1"},
                       {"resources",
                        {{{"kind", "api"},
                          {"id", "shipped"},
                          {"content", with(with(kByRole, "system", true), "description", "imported")}}}}};
  CHECK(answer_of(client.Post("/api/v1/resources:import", bearer(writer), bundle.dump(), "application/json")).status ==
        403);
  auto current = stored(client, admin, "shipped");
  CHECK(current.body["revision"] == 1);
  CHECK(current.body["content"]["system"] == true);
  CHECK_FALSE(current.body["content"].contains("description"));

  // The grant, and admin (which holds every grant), may.
  CHECK(replace(client, keeper, "shipped", with(with(kByRole, "system", true), "description", "kept")).status == 200);
  CHECK(replace(client, admin, "shipped", with(kByRole, "system", false)).status == 200);
  // No longer a system API: api.write is enough again.
  CHECK(replace(client, writer, "shipped", with(kByRole, "description", "custom now")).status == 200);
  CHECK(stored(client, admin, "shipped").body["revision"] == 4);
  CHECK(plexus.stop() == 0);
}

TEST_CASE_METHOD(ApiManagerOnSqlite, "system APIs are deleted and restored only by holders of api.system.write", "[api-manager][save]") {
  const auto writer = user_with_grants(plexus, client, admin, "walt", {"api.read", "api.write"});
  const auto keeper = user_with_grants(plexus, client, admin, "sys", {"api.read", "api.write", "api.system.write"});
  const auto remove = [&](const std::string& token, const std::string& path) {
    return answer_of(client.Delete(path, bearer(token)));
  };
  const auto act = [&](const std::string& token, const std::string& id, const std::string& action) {
    return answer_of(client.Post("/api/v1/resources/api/" + id + "/" + action, bearer(token),
                                 json{{"reason", "t"}}.dump(), "application/json"));
  };
  const auto deleted = [&](const std::string& id) {
    const auto answer = answer_of(client.Get("/api/v1/resources/api/" + id + "?include_deleted=true", bearer(admin)));
    REQUIRE(answer.status == 200);
    return answer.body["deleted"].get<bool>();
  };

  CHECK(create(client, admin, "shipped", with(kByRole, "system", true)).status == 201);
  // api.write alone deletes no system API, through either home of the routes.
  for (const auto* path : {"/api/v1/resources/api/shipped", "/api/v1/api-manager/apis/shipped"}) {
    INFO(path);
    const auto refused = remove(writer, path);
    CHECK(refused.status == 403);
    CHECK(refused.body["error"]["code"] == "forbidden");
    CHECK(refused.body["error"]["message"].get<std::string>().find("deleting it needs the permission api.system.write") !=
          std::string::npos);
  }
  CHECK_FALSE(deleted("shipped"));

  // Admin may; then api.write alone restores it neither by restore nor by undo.
  CHECK(remove(admin, "/api/v1/resources/api/shipped").status == 200);
  for (const auto* action : {"restore", "undo"}) {
    INFO(action);
    const auto refused = act(writer, "shipped", action);
    CHECK(refused.status == 403);
    CHECK(refused.body["error"]["message"].get<std::string>().find("restoring it needs the permission api.system.write") !=
          std::string::npos);
    CHECK(deleted("shipped"));
  }
  // The grant may do both.
  CHECK(act(keeper, "shipped", "restore").status == 200);
  CHECK_FALSE(deleted("shipped"));
  CHECK(remove(keeper, "/api/v1/api-manager/apis/shipped").status == 200);
  CHECK(act(keeper, "shipped", "undo").status == 200);
  CHECK_FALSE(deleted("shipped"));
  CHECK(stored(client, admin, "shipped").body["revision"] == 1);

  // A custom API deletes and restores with api.write, as before.
  CHECK(create(client, writer, "custom", with(kByRole, "path", "ops/custom")).status == 201);
  CHECK(remove(writer, "/api/v1/resources/api/custom").status == 200);
  CHECK(deleted("custom"));
  CHECK(act(writer, "custom", "restore").status == 200);
  CHECK_FALSE(deleted("custom"));
  CHECK(plexus.stop() == 0);
}

TEST_CASE_METHOD(ApiManagerOnEachBackend, "a restore brings an API back even when its SQL no longer compiles", "[api-manager][save]") {
  INFO("datasource database: " << backend);
  post(client, admin, "/api/v1/datasources/ops/execute", {{"sql", "CREATE TABLE doomed (id INTEGER, role TEXT)"}}, 200);
  const auto doomed = with(kByRole, "sql", "SELECT id FROM doomed WHERE role = :role");
  CHECK(create(client, admin, "doomed", doomed).status == 201);
  CHECK(answer_of(client.Delete("/api/v1/resources/api/doomed", bearer(admin))).status == 200);
  post(client, admin, "/api/v1/datasources/ops/execute", {{"sql", "DROP TABLE doomed"}}, 200);
  // What was there comes back as it was; saving it anew is still refused.
  const auto restored = answer_of(client.Post("/api/v1/resources/api/doomed/restore", bearer(admin),
                                              json{{"reason", "t"}}.dump(), "application/json"));
  INFO(restored.body.dump());
  CHECK(restored.status == 200);
  CHECK(stored(client, admin, "doomed").body["content"]["sql"] == doomed["sql"]);
  CHECK(replace(client, admin, "doomed", with(doomed, "description", "again")).status == 422);
  CHECK(plexus.stop() == 0);
}

TEST_CASE_METHOD(ApiManagerOnEachBackend, "SQL its datasource cannot compile is refused at save with its pointer and nothing is stored",
          "[api-manager][save]") {
  INFO("datasource database: " << backend);

  for (const auto* sql : {"SELECT id, nickname FROM servers WHERE role = :role",
                          "SELECT id FROM no_such_table WHERE role = :role", "SELEC id FROM servers WHERE role = :role"}) {
    INFO(sql);
    const auto refused = create(client, admin, "servers-by-role", with(kByRole, "sql", sql));
    CHECK(refused.status == 422);
    CHECK(refused.body["error"]["code"] == "invalid_content");
    REQUIRE(refused.body["error"]["details"]["problems"].size() == 1);
    CHECK(refused.body["error"]["details"]["problems"][0]["pointer"] == "/sql");
    CHECK(problems_of(refused).find("does not compile on the datasource 'ops'") != std::string::npos);
    CHECK(stored(client, admin, "servers-by-role").status == 404);
  }
  auto refused = create(client, admin, "servers-by-role", with(kByRole, "sql", "SELECT id, nickname FROM servers"));
  CHECK(problems_of(refused).find("nickname") != std::string::npos);
  refused = create(client, admin, "servers-by-role", with(kByRole, "datasource", "nowhere"));
  CHECK(refused.status == 422);
  CHECK(refused.body["error"]["details"]["problems"][0]["pointer"] == "/datasource");
  CHECK(problems_of(refused).find("'nowhere' does not exist") != std::string::npos);

  // Good SQL saves, and a change that breaks it is refused, leaving revision 1.
  CHECK(create(client, admin, "servers-by-role", kByRole).status == 201);
  CHECK(replace(client, admin, "servers-by-role", with(kByRole, "sql", "SELECT nickname FROM servers")).status == 422);
  CHECK(stored(client, admin, "servers-by-role").body["revision"] == 1);

  // A rollback to SQL whose table is gone is refused too.
  post(client, admin, "/api/v1/datasources/ops/execute", {{"sql", "CREATE TABLE doomed (id INTEGER, role TEXT)"}}, 200);
  CHECK(replace(client, admin, "servers-by-role", with(kByRole, "sql", "SELECT id FROM doomed WHERE role = :role"))
            .status == 200);
  CHECK(replace(client, admin, "servers-by-role", kByRole).status == 200);
  post(client, admin, "/api/v1/datasources/ops/execute", {{"sql", "DROP TABLE doomed"}}, 200);
  auto rollback = answer_of(client.Post("/api/v1/resources/api/servers-by-role/rollback", bearer(admin),
                                        json{{"to_revision", 2}}.dump(), "application/json"));
  CHECK(rollback.status == 422);
  CHECK(stored(client, admin, "servers-by-role").body["revision"] == 3);

  // Workflow SQL steps are compiled too, each named by its pointer.
  const json workflow = {
      {"path", "ops/report"},
      {"method", "GET"},
      {"type", "workflow"},
      {"workflow",
       {{"steps",
         {{{"id", "total"}, {"type", "sql"}, {"datasource", "ops"}, {"sql", "SELECT COUNT(*) AS n FROM servers"}},
          {{"id", "each"},
           {"type", "foreach"},
           {"items", "${steps.total.rows}"},
           {"as", "row"},
           {"steps",
            {{{"id", "names"}, {"type", "sql"}, {"datasource", "ops"}, {"sql", "SELECT nickname FROM servers"}}}}}}}}}};
  refused = create(client, admin, "report", workflow);
  CHECK(refused.status == 422);
  REQUIRE(refused.body["error"]["details"]["problems"].size() == 1);
  CHECK(refused.body["error"]["details"]["problems"][0]["pointer"] == "/workflow/steps/1/steps/0/sql");
  CHECK(stored(client, admin, "report").status == 404);
  auto fixed = workflow;
  fixed["workflow"]["steps"][1]["steps"][0]["sql"] = "SELECT name FROM servers";
  CHECK(create(client, admin, "report", fixed).status == 201);

  // An import names the resource; one whose datasource the bundle may bring is let through.
  const json bundle = {
      {"format", "plexus-bundle/1"},
      {"resources",
       {{{"kind", "api"}, {"id", "later"}, {"content", with(with(kByRole, "datasource", "later"), "path", "later")}},
        {{"kind", "api"}, {"id", "broken"}, {"content", with(with(kByRole, "sql", "SELECT x FROM y"), "path", "b")}}}}};
  auto imported = answer_of(client.Post("/api/v1/resources:import", bearer(admin), bundle.dump(), "application/json"));
  CHECK(imported.status == 422);
  CHECK(imported.body["error"]["details"]["problems"][0]["pointer"] == "/resources/1/content/sql");
  CHECK(stored(client, admin, "later").status == 404);
  auto fine = bundle;
  fine["resources"].erase(1);
  imported = answer_of(client.Post("/api/v1/resources:import", bearer(admin), fine.dump(), "application/json"));
  INFO(imported.body.dump());
  CHECK(imported.status == 200);
  CHECK(stored(client, admin, "later").status == 200);
  CHECK(plexus.stop() == 0);
}

TEST_CASE("a datasource that cannot be reached does not block a save", "[api-manager][save]") {
  TempDir manifests, files;
  Plexusd plexus({{"PLEXUS_PLUGINS__WATCH", "false"}}, {"--manifests", shipped_manifests(manifests, files.path())});
  const auto admin = plexus.admin_token();
  auto client = plexus.client();
  post(client, admin, "/api/v1/resources/datasource",
       {{"id", "ops"},
        {"content", {{"driver", "postgres"}, {"url", "postgresql://nobody@127.0.0.1:1/none"}}},
        {"reason", "t"}},
       201);
  const auto saved = create(client, admin, "servers-by-role", kByRole);
  INFO(saved.body.dump());
  CHECK(saved.status == 201);
  CHECK(plexus.stop() == 0);
}

TEST_CASE("a bootstrap bundle saves a datasource and system APIs over it at start", "[api-manager][save]") {
  TempDir manifests, files, bundles;
  const auto database = (files.path() / "ops.db").string();
  bundles.write("ops.json", json{{"format", "plexus-bundle/1"},
                                 {"resources",
                                  {{{"kind", "datasource"},
                                    {"id", "ops"},
                                    {"content", {{"driver", "sqlite"}, {"path", database}, {"read_only", false}}}},
                                   {{"kind", "api"},
                                    {"id", "servers-by-role"},
                                    {"content", with(kByRole, "system", true)},
                                    {"stages", {"staging", "production"}}}}}}
                                .dump());
  Plexusd plexus({{"PLEXUS_PLUGINS__WATCH", "false"}, {"PLEXUS_RESOURCES__BOOTSTRAP", bundles.path().string()}},
                 {"--manifests", shipped_manifests(manifests, files.path())});
  const auto admin = plexus.admin_token();
  auto client = plexus.client();
  const auto api = stored(client, admin, "servers-by-role");
  REQUIRE(api.status == 200);
  CHECK(api.body["created_by"] == "system:bootstrap");
  CHECK(api.body["content"]["system"] == true);
  post(client, admin, "/api/v1/datasources/ops/execute",
       {{"sql", "CREATE TABLE servers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL)"}}, 200);
  CHECK(answer_of(client.Get("/runtime/ops/servers?role=web", bearer(admin))).status == 200);
  CHECK(plexus.stop() == 0);
}
