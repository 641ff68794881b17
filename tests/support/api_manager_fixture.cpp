#include "tests/support/api_manager_fixture.hpp"

#include <tuple>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/support/plexusd_process.hpp"
#include "tests/support/postgres_db.hpp"

namespace plexus::test {

using nlohmann::json;


// The shipped manifests of the connectors and of api-manager, enabled, the file-based
// connectors allowed to open files under `files` only.
std::string shipped_manifests(TempDir& dir, const std::filesystem::path& files) {
  for (const auto* name : {"connector-sqlite", "connector-postgres", "api-manager"}) {
    auto text =
        plexus::test::read_file(plexus::test::source_dir() / "manifests" / (std::string(name) + ".yaml"));
    if (const auto at = text.find("enabled: false"); at != std::string::npos)
      text.replace(at, 14, "enabled: true");
    if (const auto at = text.find("allowed_paths:"); at != std::string::npos) {
      text.replace(at, text.find('\n', at) - at, "allowed_paths: [\"" + files.string() + "\"]");
    }
    dir.write(std::string(name) + ".yaml", text);
  }
  return dir.path().string();
}

Answer answer_of(const httplib::Result& result) {
  REQUIRE(result);
  Answer out{result->status, json::parse(result->body, nullptr, false), result->headers};
  return out;
}

json post(httplib::Client& client, const std::string& token, const std::string& path, const json& body,
          int expected) {
  auto response = client.Post(path, bearer(token), body.dump(), "application/json");
  REQUIRE(response);
  INFO(path << " -> " << response->status << " " << response->body);
  REQUIRE(response->status == expected);
  return response->body.empty() ? json() : json::parse(response->body);
}

// Creates (or updates) an API and points staging and production at it.
void define_api(httplib::Client& client, const std::string& token, const std::string& id, const json& content,
                bool production) {
  auto existing = client.Get("/api/v1/resources/api/" + id, bearer(token));
  REQUIRE(existing);
  if (existing->status == 404) {
    post(client, token, "/api/v1/resources/api", {{"id", id}, {"content", content}, {"reason", "test"}}, 201);
  } else {
    auto headers = bearer(token);
    headers.emplace("If-Match", "*");
    auto updated = client.Put("/api/v1/resources/api/" + id, headers,
                              json{{"content", content}, {"reason", "test"}}.dump(), "application/json");
    REQUIRE(updated);
    INFO(updated->body);
    REQUIRE(updated->status == 200);
  }
  post(client, token, "/api/v1/resources/api/" + id + "/promote", {{"stage", "staging"}}, 200);
  if (production)
    post(client, token, "/api/v1/resources/api/" + id + "/promote", {{"stage", "production"}}, 200);
}

json datasource_options(const std::string& backend, const TempDir& dir) {
  if (backend == "sqlite") {
    return {{"driver", "sqlite"}, {"path", (dir.path() / "ops.db").string()}, {"read_only", false}};
  }
  auto options = postgres_datasource_options(dir);
  options["read_only"] = false;
  return options;
}

// A datasource "ops" with a table of three servers.
void seed(httplib::Client& client, const std::string& admin, const json& options) {
  post(client, admin, "/api/v1/resources/datasource",
       {{"id", "ops"}, {"content", options}, {"reason", "test"}}, 201);
  post(client, admin, "/api/v1/datasources/ops/execute",
       {{"sql", "CREATE TABLE servers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL)"}},
       200);
  for (const auto& [id, name, role] : std::vector<std::tuple<int, std::string, std::string>>{
           {1, "web-01", "web"}, {2, "web-02", "web"}, {3, "db-01", "db"}}) {
    post(client, admin, "/api/v1/datasources/ops/execute",
         {{"sql", "INSERT INTO servers (id, name, role) VALUES (:id, :name, :role)"},
          {"params", {{"id", id}, {"name", name}, {"role", role}}}},
         200);
  }
}

bool names_field(const json& body, const std::string& field) {
  if (!body.contains("error") || body["error"]["code"] != "invalid_params") return false;
  for (const auto& f : body["error"]["details"]["fields"]) {
    if (f["field"] == field) return true;
  }
  return false;
}

json servers_by_role_api() {
  return {{"path", "ops/servers"},
          {"method", "GET"},
          {"type", "sql"},
          {"datasource", "ops"},
          {"sql", "SELECT id, name FROM servers WHERE role = :role ORDER BY id"},
          {"params", {{"type", "object"}, {"properties", {{"role", {{"type", "string"}}}}}, {"required", {"role"}}}}};
}

ApiManagerServer::ApiManagerServer(std::string datasource_backend)
    : backend(std::move(datasource_backend)),
      plexus({{"PLEXUS_PLUGINS__WATCH", "false"}}, {"--manifests", shipped_manifests(manifests, files.path())}),
      admin(plexus.admin_token()),
      client(plexus.client()) {
  seed(client, admin, datasource_options(backend, files));
}

ApiManagerOnEachBackend::ApiManagerOnEachBackend() : ApiManagerServer(each_store_backend()) {}

}  // namespace plexus::test
