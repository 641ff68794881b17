// Datasources through a running plexusd with the connector plugins loaded from
// their manifests (issue 5): read-only datasources refuse writes on SQLite and on
// PostgreSQL (the database refuses, not the kernel), secrets never come back,
// another tenant's datasources do not exist for it, and a plugin's own resource
// kind (ABI 1.3) gets the store's history, hooks and references.
#include <algorithm>
#include <cstdlib>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/plexusd_process.hpp"
#include "tests/support/postgres_db.hpp"

using nlohmann::json;
using plexus::test::bearer;
using plexus::test::Plexusd;

namespace {

// The shipped example manifests of the connectors, enabled, the file-based ones
// allowed to open files under `files` only.
std::string manifests_with_connectors(plexus::test::TempDir& dir, const std::filesystem::path& files) {
  for (const auto* name : {"connector-sqlite", "connector-postgres", "connector-json-file"}) {
    auto text = plexus::test::read_file(plexus::test::source_dir() / "manifests" / (std::string(name) + ".yaml"));
    if (const auto at = text.find("enabled: false"); at != std::string::npos) text.replace(at, 14, "enabled: true");
    if (const auto at = text.find("allowed_paths:"); at != std::string::npos) {
      text.replace(at, text.find('\n', at) - at, "allowed_paths: [\"" + files.string() + "\"]");
    }
    dir.write(std::string(name) + ".yaml", text);
  }
  return dir.path().string();
}

json post(httplib::Client& client, const std::string& token, const std::string& path, const json& body,
          int expected) {
  auto response = client.Post(path, bearer(token), body.dump(), "application/json");
  REQUIRE(response);
  INFO(path << " -> " << response->status << " " << response->body);
  REQUIRE(response->status == expected);
  return response->body.empty() ? json() : json::parse(response->body);
}

void define(httplib::Client& client, const std::string& token, const std::string& id, const json& content) {
  post(client, token, "/api/v1/resources/datasource", {{"id", id}, {"content", content}, {"reason", "test"}}, 201);
}

// Target database options for each driver under test: a file, or a fresh schema.
json target_options(const std::string& backend, const plexus::test::TempDir& dir) {
  if (backend == "sqlite") return {{"driver", "sqlite"}, {"path", (dir.path() / "target.db").string()}};
  // The test server's URL carries a password; a datasource keeps it in its sealed field.
  return plexus::test::postgres_datasource_options(dir);
}

}  // namespace

TEST_CASE("read-only datasources refuse writes, enforced by the database itself", "[datasources]") {
  const auto backend = plexus::test::each_store_backend();
  INFO("datasource database: " << backend);
  plexus::test::TempDir manifests, target;
  Plexusd plexus({{"PLEXUS_PLUGINS__WATCH", "false"}}, {"--manifests", manifests_with_connectors(manifests, target.path())});
  const auto admin = plexus.admin_token();
  auto client = plexus.client();

  auto writable = target_options(backend, target);
  writable["read_only"] = false;
  define(client, admin, "rw", writable);
  auto readonly = writable;
  readonly["read_only"] = true;
  define(client, admin, "ro", readonly);

  post(client, admin, "/api/v1/datasources/rw/execute",
       {{"sql", "CREATE TABLE servers (id INTEGER PRIMARY KEY, name TEXT NOT NULL)"}}, 200);
  const auto inserted = post(client, admin, "/api/v1/datasources/rw/execute",
                             {{"sql", "INSERT INTO servers (id, name) VALUES (:id, :name)"},
                              {"params", {{"id", 1}, {"name", "web-01"}}}},
                             200);
  CHECK(inserted["changed"] == 1);

  // Reads work on the read-only one; every kind of write is refused by the database.
  const auto rows = post(client, admin, "/api/v1/datasources/ro/query",
                         {{"sql", "SELECT id, name FROM servers WHERE id = :id"}, {"params", {{"id", 1}}}}, 200);
  CHECK(rows["rows"] == json::parse(R"([[1, "web-01"]])"));
  CHECK(rows["columns"][1]["name"] == "name");
  for (const auto* write : {"INSERT INTO servers (id, name) VALUES (2, 'db-01')", "UPDATE servers SET name = 'x'",
                            "DELETE FROM servers", "CREATE TABLE sneaky (id INTEGER)", "DROP TABLE servers"}) {
    INFO(write);
    const auto refused = post(client, admin, "/api/v1/datasources/ro/execute", {{"sql", write}}, 403);
    CHECK(refused["error"]["code"] == "read_only");
    CHECK(refused["error"]["message"].get<std::string>().starts_with("datasource 'ro': "));
    // A write smuggled in as a query is refused just the same.
    post(client, admin, "/api/v1/datasources/ro/query", {{"sql", write}}, 403);
  }
  CHECK(post(client, admin, "/api/v1/datasources/ro/query", {{"sql", "SELECT COUNT(*) AS n FROM servers"}},
             200)["rows"][0][0] == 1);

  // Every execute is audited with its SQL; the refusals as denied.
  const auto audited =
      json::parse(client.Get("/api/v1/admin/audit?action=datasource.execute&limit=100", bearer(admin))->body)["items"];
  CHECK(audited.size() == 7);
  CHECK(std::count_if(audited.begin(), audited.end(), [](const json& row) { return row["outcome"] == "denied"; }) == 5);
  CHECK(audited.back()["details"]["sql"].get<std::string>().starts_with("CREATE TABLE servers"));

  // Bound values only: an injection attempt is just a value that matches nothing.
  const auto injected = post(client, admin, "/api/v1/datasources/ro/query",
                             {{"sql", "SELECT id FROM servers WHERE name = :name"},
                              {"params", {{"name", "x' OR '1'='1"}}}},
                             200);
  CHECK(injected["rows"].empty());
  const auto missing = post(client, admin, "/api/v1/datasources/ro/query",
                            {{"sql", "SELECT id FROM servers WHERE name = :name"}}, 400);
  CHECK(missing["error"]["message"].get<std::string>().find("name") != std::string::npos);

  // Schema and ping answer; a secret never comes back.
  auto schema = client.Get("/api/v1/datasources/ro/schema", bearer(admin));
  REQUIRE(schema->status == 200);
  CHECK(schema->body.find("servers") != std::string::npos);
  post(client, admin, "/api/v1/datasources/ro/ping", json::object(), 200);
  auto shown = client.Get("/api/v1/resources/datasource/rw", bearer(admin));
  REQUIRE(shown->status == 200);
  auto bundle = client.Get("/api/v1/resources:export?kinds=datasource", bearer(admin));
  if (writable.contains("password")) {
    const auto password = writable["password"].get<std::string>();
    CHECK(json::parse(shown->body)["content"]["password"] == json{{"$secret", "set"}});
    CHECK(shown->body.find(password) == std::string::npos);
    CHECK(bundle->body.find(password) == std::string::npos);
  }
  CHECK(plexus.stop() == 0);
}

TEST_CASE("another tenant's datasources do not exist for it", "[datasources][tenants]") {
  plexus::test::TempDir manifests, target;
  Plexusd plexus({{"PLEXUS_PLUGINS__WATCH", "false"}}, {"--manifests", manifests_with_connectors(manifests, target.path())});
  const auto admin = plexus.admin_token();
  auto client = plexus.client();
  define(client, admin, "ops", {{"driver", "sqlite"}, {"path", (target.path() / "ops.db").string()}, {"read_only", false}});
  post(client, admin, "/api/v1/datasources/ops/execute", {{"sql", "CREATE TABLE t (x INTEGER)"}}, 200);

  const std::string password = "Tenant-Second-Pass-77!";
  plexus::test::record_secret(password);
  post(client, admin, "/api/v1/admin/tenants",
       {{"id", "acme"}, {"name", "Acme"}, {"admin_username", "acme-admin"}, {"admin_password", password}}, 201);
  const auto acme = plexus.login("acme-admin", password, "acme");

  const auto listed = json::parse(client.Get("/api/v1/datasources", bearer(acme))->body);
  CHECK(listed["items"].empty());
  post(client, acme, "/api/v1/datasources/ops/query", {{"sql", "SELECT * FROM t"}}, 404);
  post(client, acme, "/api/v1/datasources/ops/execute", {{"sql", "DROP TABLE t"}}, 404);
  CHECK(client.Get("/api/v1/datasources/ops/schema", bearer(acme))->status == 404);
  CHECK(client.Get("/api/v1/resources/datasource/ops", bearer(acme))->status == 404);
  // The default tenant's table is untouched.
  post(client, admin, "/api/v1/datasources/ops/query", {{"sql", "SELECT COUNT(*) FROM t"}}, 200);
  CHECK(plexus.stop() == 0);
}

TEST_CASE("a plugin's resource kind gets history, hooks and references from the store", "[datasources][plugins]") {
  plexus::test::TempDir manifests, target;
  manifests_with_connectors(manifests, target.path());
  manifests.write("probe-a.yaml", "name: probe-a\nlibrary: test/libplexus_test_probe_a.so\nversion: \"*\"\n"
                                  "enabled: true\npermissions:\n  routes: /api/v1/probe-a\n"
                                  "config:\n  resources: \"yes\"\n");
  Plexusd plexus({{"PLEXUS_PLUGINS__WATCH", "false"}}, {"--manifests", manifests.path().string()});
  const auto admin = plexus.admin_token();
  auto client = plexus.client();
  define(client, admin, "ops", {{"driver", "sqlite"}, {"path", (target.path() / "ops.db").string()}, {"read_only", false}});
  post(client, admin, "/api/v1/datasources/ops/execute", {{"sql", "CREATE TABLE t (x INTEGER)"}}, 200);

  // The kind's schema and validate hook, both with the failing field.
  post(client, admin, "/api/v1/resources/probe-a-note", {{"id", "n1"}, {"content", {{"body", "no title"}}}}, 400);
  const auto refused = post(client, admin, "/api/v1/resources/probe-a-note",
                            {{"id", "n1"}, {"content", {{"title", "forbidden words"}}}}, 400);
  CHECK(refused["error"]["details"]["problems"][0]["pointer"] == "/title");
  post(client, admin, "/api/v1/resources/probe-a-note",
       {{"id", "n1"}, {"content", {{"title", "uses ops"}, {"datasource", "ops"}}}}, 201);

  // The plugin reads it back for the caller's tenant.
  auto read = client.Get("/api/v1/probe-a/notes/n1", bearer(admin));
  REQUIRE(read->status == 200);
  CHECK(json::parse(read->body)["content"]["title"] == "uses ops");
  CHECK(client.Get("/api/v1/probe-a/notes/n1?stage=production", bearer(admin))->status == 404);

  // Its references hook: the datasource it uses cannot be deleted.
  auto removal = client.Delete("/api/v1/resources/datasource/ops", [&] {
    auto headers = bearer(admin);
    headers.emplace("If-Match", "\"1\"");
    return headers;
  }());
  REQUIRE(removal->status == 409);
  CHECK(removal->body.find("probe-a-note") != std::string::npos);

  // Its pre-promotion hook blocks a promotion.
  auto blocked = client.Put("/api/v1/resources/probe-a-note/n1", [&] {
    auto headers = bearer(admin);
    headers.emplace("If-Match", "\"1\"");
    return headers;
  }(), json{{"content", {{"title", "t"}, {"block", true}}}}.dump(), "application/json");
  REQUIRE(blocked->status == 200);
  post(client, admin, "/api/v1/resources/probe-a-note/n1/promote", {{"stage", "staging"}}, 409);

  // The plugin queries a datasource for its caller.
  auto queried = client.Post("/api/v1/probe-a/datasources/ops/query", bearer(admin), "SELECT COUNT(*) AS n FROM t",
                             "text/plain");
  REQUIRE(queried->status == 200);
  CHECK(json::parse(queried->body)["rows"][0][0] == 0);
  CHECK(plexus.stop() == 0);
}

TEST_CASE("the demo data set is one json-file datasource that plain SQL reads (COM-11)", "[datasources][demo]") {
  plexus::test::TempDir manifests, demo;
  const auto generator = plexus::test::source_dir() / "tools" / "demo-data" / "generate.py";
  REQUIRE(std::system(("python3 '" + generator.string() + "' --out '" + demo.path().string() + "' >/dev/null").c_str()) == 0);
  const auto servers = json::parse(plexus::test::read_file(demo.path() / "servers.json"));
  Plexusd plexus({{"PLEXUS_PLUGINS__WATCH", "false"}}, {"--manifests", manifests_with_connectors(manifests, demo.path())});
  const auto admin = plexus.admin_token();
  auto client = plexus.client();
  define(client, admin, "demo", {{"driver", "json-file"}, {"path", demo.path().string()}});

  const auto count = post(client, admin, "/api/v1/datasources/demo/query", {{"sql", "SELECT COUNT(*) FROM servers"}}, 200);
  CHECK(count["rows"][0][0] == servers.size());
  // Joins across tables, named parameters, and the row limit.
  const auto joined = post(client, admin, "/api/v1/datasources/demo/query",
                           {{"sql", "SELECT s.hostname, t.name FROM servers s JOIN teams t ON t.id = s.owner_team_id "
                                    "WHERE s.id = :id"},
                            {"params", {{"id", servers[0]["id"]}}}},
                           200);
  REQUIRE(joined["rows"].size() == 1);
  CHECK(joined["rows"][0][0] == servers[0]["hostname"]);
  const auto limited = post(client, admin, "/api/v1/datasources/demo/query",
                            {{"sql", "SELECT * FROM metrics"}, {"max_rows", 5}}, 200);
  CHECK(limited["rows"].size() == 5);
  CHECK(limited["truncated"] == true);
  // Mock data is read-only like any other datasource by default.
  post(client, admin, "/api/v1/datasources/demo/execute", {{"sql", "DELETE FROM servers"}}, 403);
  const auto schema = json::parse(client.Get("/api/v1/datasources/demo/schema", bearer(admin))->body);
  CHECK(schema["tables"].size() == 13);
  CHECK(plexus.stop() == 0);
}
