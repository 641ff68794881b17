// Sessions through the REST API: bootstrap, login, refresh rotation, reuse detection,
// logout, /me, password change and disabled users.
#include <catch2/catch.hpp>

#include "kernel/audit/audit_log.hpp"
#include "tests/support/plexusd_process.hpp"
#include "tests/unit/identity_fixture.hpp"

using plexus::test::IdentityFixture;
using plexus::test::kAdminPassword;
using plexus::test::record_secret;

namespace {

std::string refresh_token_of(const nlohmann::json& tokens) {
  return tokens.at("refresh_token").get<std::string>();
}
std::string access_token_of(const nlohmann::json& tokens) {
  return tokens.at("access_token").get<std::string>();
}

}  // namespace

TEST_CASE("bootstrap creates tenant default and user admin once", "[identity]") {
  plexus::test::TempDir dir;
  plexus::store::Database database({.url = plexus::test::identity_test_database_url(dir)});
  plexus::audit::AuditLog audit(database);
  plexus::identity::IdentityOptions options;
  options.jwt_secret = plexus::test::kTestJwtSecret;
  plexus::identity::Identity identity(database, audit, options);

  const auto generated = identity.bootstrap("");
  REQUIRE(generated.has_value());
  record_secret(*generated);
  CHECK(generated->size() >= 20);
  CHECK_FALSE(identity.bootstrap("").has_value());
  CHECK_FALSE(identity.bootstrap("Another-Password-123").has_value());

  // The generated password logs in; the later ones changed nothing.
  plexus::metrics::Registry registry;
  plexus::http::Router router;
  identity.register_routes(router);
  plexus::http::ServerOptions server_options;
  server_options.listeners[0].port = 0;
  server_options.authenticator = identity.authenticator();
  plexus::http::Server server(std::move(server_options), router, registry);
  server.start();
  httplib::Client client("127.0.0.1", server.port());
  const auto login = [&](const std::string& password) {
    return client.Post("/api/v1/auth/login",
                       nlohmann::json{{"username", "admin"}, {"password", password}}.dump(),
                       "application/json");
  };
  const auto ok = login(*generated);
  REQUIRE(ok);
  CHECK(ok->status == 200);
  const auto wrong = login("Another-Password-123");
  REQUIRE(wrong);
  CHECK(wrong->status == 401);
  server.stop(std::chrono::seconds(5));
}

TEST_CASE("a second Identity on the same database finds the admin it bootstrapped", "[identity]") {
  plexus::test::TempDir dir;
  plexus::store::Database database({.url = plexus::test::identity_test_database_url(dir)});
  plexus::audit::AuditLog audit(database);
  plexus::identity::IdentityOptions options;
  options.jwt_secret = plexus::test::kTestJwtSecret;
  {
    plexus::identity::Identity first(database, audit, options);
    CHECK_FALSE(first.bootstrap(kAdminPassword).has_value());
  }
  plexus::identity::Identity second(database, audit, options);
  CHECK_FALSE(second.bootstrap("").has_value());
}

TEST_CASE("Identity refuses a short JWT secret", "[identity]") {
  plexus::test::TempDir dir;
  plexus::store::Database database({.url = plexus::test::identity_test_database_url(dir)});
  plexus::audit::AuditLog audit(database);
  plexus::identity::IdentityOptions options;
  options.jwt_secret = "too-short";
  CHECK_THROWS_AS(plexus::identity::Identity(database, audit, options), std::runtime_error);
}

TEST_CASE("login returns bearer tokens and me describes the caller", "[identity]") {
  IdentityFixture f;
  const auto tokens = f.tokens("admin", kAdminPassword);
  CHECK(tokens.at("token_type") == "Bearer");
  CHECK(tokens.at("expires_in") == 15 * 60);
  CHECK(refresh_token_of(tokens).starts_with("plxr_"));
  CHECK(refresh_token_of(tokens).size() >= 5 + 43);

  const auto me = f.get("/api/v1/auth/me", access_token_of(tokens));
  REQUIRE(me.status == 200);
  CHECK(me.body.at("username") == "admin");
  CHECK(me.body.at("tenant") == "default");
  CHECK(me.body.at("roles") == nlohmann::json::array({"admin"}));
  CHECK(me.body.at("grants") == nlohmann::json::array({"*"}));
  CHECK(me.body.at("kind") == "user");
  CHECK_FALSE(me.body.at("user_id").get<std::string>().empty());

  // Login with the tenant named explicitly works the same.
  CHECK(f.login("admin", kAdminPassword, "default").status == 200);
}

TEST_CASE("login failures answer 401 invalid_credentials", "[identity]") {
  IdentityFixture f;
  const auto wrong = f.login("admin", "Wrong-Password-99!");
  CHECK(wrong.status == 401);
  CHECK(wrong.body["error"]["code"] == "invalid_credentials");
  CHECK(f.login("admin", kAdminPassword, "no-such-tenant").status == 401);
  const auto missing = f.post("/api/v1/auth/login", {{"username", "admin"}});
  CHECK(missing.status == 400);
  CHECK(missing.body["error"]["details"]["field"] == "password");
}

TEST_CASE("routes that need credentials refuse anonymous callers", "[identity]") {
  IdentityFixture f;
  CHECK(f.get("/api/v1/auth/me").status == 401);
  CHECK(f.get("/api/v1/admin/users").status == 401);
}

TEST_CASE("refresh rotates the refresh token and keeps the session", "[identity]") {
  IdentityFixture f;
  const auto first = f.tokens("admin", kAdminPassword);
  const auto refreshed = f.post("/api/v1/auth/refresh", {{"refresh_token", refresh_token_of(first)}});
  REQUIRE(refreshed.status == 200);
  record_secret(refresh_token_of(refreshed.body));
  record_secret(access_token_of(refreshed.body));
  CHECK(refresh_token_of(refreshed.body) != refresh_token_of(first));
  CHECK(refreshed.body.at("token_type") == "Bearer");
  CHECK(f.get("/api/v1/auth/me", access_token_of(refreshed.body)).status == 200);
  // The old access token belongs to the same live session and still works.
  CHECK(f.get("/api/v1/auth/me", access_token_of(first)).status == 200);

  const auto again = f.post("/api/v1/auth/refresh", {{"refresh_token", refresh_token_of(refreshed.body)}});
  REQUIRE(again.status == 200);
  record_secret(refresh_token_of(again.body));
  record_secret(access_token_of(again.body));
}

TEST_CASE("reusing a spent refresh token revokes the whole family", "[identity]") {
  IdentityFixture f;
  const auto first = f.tokens("admin", kAdminPassword);
  const auto second = f.post("/api/v1/auth/refresh", {{"refresh_token", refresh_token_of(first)}});
  REQUIRE(second.status == 200);
  record_secret(refresh_token_of(second.body));
  record_secret(access_token_of(second.body));
  // Another session of the same user must not be touched.
  const auto other = f.tokens("admin", kAdminPassword);

  const auto reuse = f.post("/api/v1/auth/refresh", {{"refresh_token", refresh_token_of(first)}});
  CHECK(reuse.status == 401);
  CHECK(reuse.body["error"]["code"] == "invalid_token");
  CHECK(reuse.raw.find(refresh_token_of(first)) == std::string::npos);

  // The newest token of the family stops working, and so do its access tokens.
  CHECK(f.post("/api/v1/auth/refresh", {{"refresh_token", refresh_token_of(second.body)}}).status == 401);
  CHECK(f.get("/api/v1/auth/me", access_token_of(second.body)).status == 401);
  CHECK(f.get("/api/v1/auth/me", access_token_of(first)).status == 401);
  CHECK(f.get("/api/v1/auth/me", access_token_of(other)).status == 200);

  plexus::audit::AuditQuery query;
  query.tenant = "default";
  query.action_prefix = "auth.refresh_reuse";
  const auto rows = f.audit->query(query);
  REQUIRE(rows.items.size() == 1);
  CHECK(rows.items[0].outcome == "denied");
  CHECK(rows.items[0].actor == "user:admin");
}

TEST_CASE("refresh rejects unknown and malformed tokens", "[identity]") {
  IdentityFixture f;
  CHECK(f.post("/api/v1/auth/refresh", {{"refresh_token", "plxr_not-a-real-token"}}).status == 401);
  CHECK(f.post("/api/v1/auth/refresh", {{"refresh_token", "garbage"}}).status == 401);
  CHECK(f.post("/api/v1/auth/refresh", nlohmann::json::object()).status == 400);
  // An access token is not a refresh token.
  CHECK(f.post("/api/v1/auth/refresh", {{"refresh_token", f.admin_token()}}).status == 401);
}

TEST_CASE("logout revokes the session: its access and refresh tokens stop working", "[identity]") {
  IdentityFixture f;
  const auto tokens = f.tokens("admin", kAdminPassword);
  const auto other = f.tokens("admin", kAdminPassword);
  CHECK(f.get("/api/v1/auth/me", access_token_of(tokens)).status == 200);

  const auto logout =
      f.post("/api/v1/auth/logout", {{"refresh_token", refresh_token_of(tokens)}}, access_token_of(tokens));
  CHECK(logout.status == 204);
  const auto after = f.get("/api/v1/auth/me", access_token_of(tokens));
  CHECK(after.status == 401);
  CHECK(after.body["error"]["code"] == "invalid_token");
  CHECK(f.post("/api/v1/auth/refresh", {{"refresh_token", refresh_token_of(tokens)}}).status == 401);
  // Only that session ended.
  CHECK(f.get("/api/v1/auth/me", access_token_of(other)).status == 200);
}

TEST_CASE("logout without a body ends the caller's session", "[identity]") {
  IdentityFixture f;
  const auto token = f.admin_token();
  CHECK(f.request("POST", "/api/v1/auth/logout", nullptr, plexus::test::bearer(token)).status == 204);
  CHECK(f.get("/api/v1/auth/me", token).status == 401);
}

TEST_CASE("changing the own password checks the old one and ends the other sessions", "[identity]") {
  IdentityFixture f;
  const auto admin = f.admin_token();
  f.create_user(admin, "carol", "Quartz-First-Pw-1!", {"viewer"});
  const auto current = f.access_token("carol", "Quartz-First-Pw-1!");
  const auto other = f.access_token("carol", "Quartz-First-Pw-1!");

  const auto wrong =
      f.post("/api/v1/auth/password",
             {{"current_password", "Not-Carols-Pw-1!"}, {"new_password", "Quartz-Second-Pw-2!"}}, current);
  CHECK(wrong.status == 403);
  CHECK(wrong.body["error"]["details"]["field"] == "current_password");

  const auto weak = f.post("/api/v1/auth/password",
                           {{"current_password", "Quartz-First-Pw-1!"}, {"new_password", "short"}}, current);
  CHECK(weak.status == 400);
  CHECK(weak.body["error"]["details"]["field"] == "new_password");
  CHECK_FALSE(weak.body["error"]["details"]["problems"].empty());

  record_secret("Quartz-Second-Pw-2!");
  const auto changed =
      f.post("/api/v1/auth/password",
             {{"current_password", "Quartz-First-Pw-1!"}, {"new_password", "Quartz-Second-Pw-2!"}}, current);
  CHECK(changed.status == 204);
  CHECK(f.get("/api/v1/auth/me", current).status == 200);
  CHECK(f.get("/api/v1/auth/me", other).status == 401);
  CHECK(f.login("carol", "Quartz-First-Pw-1!").status == 401);
  CHECK(f.login("carol", "Quartz-Second-Pw-2!").status == 200);
}

TEST_CASE("disabling a user ends its sessions and refuses its logins", "[identity]") {
  IdentityFixture f;
  const auto admin = f.admin_token();
  const auto id = f.create_user(admin, "dave", "Maple-Secret-71!", {"editor"});
  const auto tokens = f.tokens("dave", "Maple-Secret-71!");
  CHECK(f.get("/api/v1/auth/me", access_token_of(tokens)).status == 200);

  REQUIRE(f.patch("/api/v1/admin/users/" + id, {{"disabled", true}}, admin).status == 200);
  CHECK(f.get("/api/v1/auth/me", access_token_of(tokens)).status == 401);
  CHECK(f.post("/api/v1/auth/refresh", {{"refresh_token", refresh_token_of(tokens)}}).status == 401);
  const auto login = f.login("dave", "Maple-Secret-71!");
  CHECK(login.status == 401);
  CHECK(login.body["error"]["code"] == "invalid_credentials");

  REQUIRE(f.patch("/api/v1/admin/users/" + id, {{"disabled", false}}, admin).status == 200);
  CHECK(f.login("dave", "Maple-Secret-71!").status == 200);
}
