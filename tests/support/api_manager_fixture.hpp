// Shared by the api-manager's REST tests: plexusd with the shipped connector and
// api-manager manifests, datasources on SQLite or PostgreSQL, APIs defined and promoted.
#pragma once

#include <filesystem>
#include <string>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "tests/support/plexusd_process.hpp"
#include "tests/support/test_support.hpp"

namespace plexus::test {

// The shipped manifests of the connectors and of api-manager, enabled, the file-based
// connectors allowed to open files under `files` only. Returns the manifest directory.
std::string shipped_manifests(TempDir& dir, const std::filesystem::path& files);

struct Answer {
  int status = 0;
  nlohmann::json body;
  httplib::Headers headers;
};
Answer answer_of(const httplib::Result& result);

// POSTs `body` and requires the status `expected`; the parsed answer (null when empty).
nlohmann::json post(httplib::Client& client, const std::string& token, const std::string& path,
                    const nlohmann::json& body, int expected);

// Creates (or updates) an API and points staging (and production) at it.
void define_api(httplib::Client& client, const std::string& token, const std::string& id,
                const nlohmann::json& content, bool production = true);

// Options of a datasource on "sqlite" (a file in `dir`) or "postgres" (a fresh database).
nlohmann::json datasource_options(const std::string& backend, const TempDir& dir);

// A datasource "ops" with a table `servers` (id, name, role) of three rows:
// 1 web-01 web, 2 web-02 web, 3 db-01 db.
void seed(httplib::Client& client, const std::string& admin, const nlohmann::json& options);

// GET ops/servers?role=...: the SQL API over the seeded table most suites define.
nlohmann::json servers_by_role_api();

// Is `body` a 400 invalid_params naming `field`?
bool names_field(const nlohmann::json& body, const std::string& field);

// How most suites start: plexusd on the shipped manifests, the admin's token, a client,
// and the datasource "ops" seeded on `backend`. TEST_CASE_METHOD bodies use the members
// by name, as the locals they replace.
struct ApiManagerServer {
  explicit ApiManagerServer(std::string datasource_backend);
  std::string backend;
  TempDir manifests, files;
  Plexusd plexus;
  std::string admin;
  httplib::Client client;
};

// Once per store backend (each_store_backend()): "ops" on SQLite, then on PostgreSQL.
struct ApiManagerOnEachBackend : ApiManagerServer {
  ApiManagerOnEachBackend();
};

// "ops" on SQLite only, for what does not depend on the datasource's database.
struct ApiManagerOnSqlite : ApiManagerServer {
  ApiManagerOnSqlite() : ApiManagerServer("sqlite") {}
};

}  // namespace plexus::test
