// Identity behind a real HTTP server on a loopback port: what the identity_* tests
// drive through the REST API. A test with a fixture runs once per store backend, SQLite
// and PostgreSQL, each time in a new, empty database (tests/support/postgres_db.hpp).
// Besides the identity routes it serves a few test routes with permissions:
//   GET  /api/v1/test/whoami         authenticated: the caller as JSON
//   GET  /api/v1/test/docs/{id}      docs.read:{id}
//   POST /api/v1/test/docs/{id}      docs.write:{id}
//   GET  /api/v1/test/admin-secret   admin.secret.view
#pragma once

#include <httplib.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernel/audit/audit_log.hpp"
#include "kernel/http/server.hpp"
#include "kernel/identity/identity.hpp"
#include "kernel/metrics/registry.hpp"
#include "kernel/store/database.hpp"
#include "tests/support/plexusd_process.hpp"  // bearer(), record_secret()
#include "tests/support/postgres_db.hpp"
#include "tests/support/test_support.hpp"

namespace plexus::test {

inline constexpr const char* kTestJwtSecret = "identity-test-secret-0123456789-abcdefghijklmnop";
inline constexpr const char* kAdminPassword = "Bootstrap-Admin-Pw-42!";

struct HttpResult {
  int status = 0;
  nlohmann::json body;  // null when the body is empty or not JSON
  httplib::Headers headers;
  std::string raw;
  std::string header(const std::string& name) const;
};

// For tests without the fixture: a new, empty database on this run's backend (SQLite in
// `dir`, or a schema on the PostgreSQL test server); the test case runs once per backend.
// Once per test run, like the fixture (see each_store_backend).
std::string identity_test_database_url(const TempDir& dir);

class IdentityFixture {
 public:
  // `adjust` changes the options before Identity is built (lockout, OIDC ...).
  explicit IdentityFixture(const std::function<void(identity::IdentityOptions&)>& adjust = {});
  ~IdentityFixture();

  HttpResult request(const std::string& method, const std::string& path, const nlohmann::json& body = nullptr,
                     const httplib::Headers& headers = {}) const;
  HttpResult get(const std::string& path, const std::string& token = {}) const;
  HttpResult post(const std::string& path, const nlohmann::json& body, const std::string& token = {}) const;
  HttpResult patch(const std::string& path, const nlohmann::json& body, const std::string& token = {}) const;
  HttpResult put(const std::string& path, const nlohmann::json& body, const std::string& token = {}) const;
  HttpResult del(const std::string& path, const std::string& token = {}) const;

  // POST /api/v1/auth/login; the whole result.
  HttpResult login(const std::string& username, const std::string& password,
                   const std::string& tenant = "default") const;
  // Logs in (REQUIRE 200) and returns the token response body.
  nlohmann::json tokens(const std::string& username, const std::string& password,
                        const std::string& tenant = "default") const;
  std::string access_token(const std::string& username, const std::string& password,
                           const std::string& tenant = "default") const;
  std::string admin_token() const { return access_token("admin", kAdminPassword); }

  // Creates a user through the admin API with `token`; returns its id.
  std::string create_user(const std::string& token, const std::string& username, const std::string& password,
                          const std::vector<std::string>& roles) const;

  StoreBackend backend;  // first: picks this run's database
  TempDir dir;
  identity::IdentityOptions options;
  std::unique_ptr<store::Database> database;
  std::unique_ptr<audit::AuditLog> audit;
  std::unique_ptr<identity::Identity> identity;
  metrics::Registry registry;
  http::Router router;
  std::unique_ptr<http::Server> server;
  // What the permission catalogue hears from "running plugins"; change it between requests.
  std::vector<identity::PluginPermission> plugin_permissions;
};

}  // namespace plexus::test
