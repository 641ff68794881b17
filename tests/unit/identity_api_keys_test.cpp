// API keys: shown once, accepted in both headers, scoped by their roles, revocable,
// expiring, with their last use recorded.
#include <thread>

#include <catch2/catch.hpp>

#include "tests/support/plexusd_process.hpp"
#include "tests/unit/identity_fixture.hpp"

using plexus::test::IdentityFixture;
using plexus::test::kAdminPassword;
using plexus::test::record_secret;

namespace {

nlohmann::json create_key(const IdentityFixture& f, const std::string& token, nlohmann::json body) {
  const auto result = f.post("/api/v1/admin/api-keys", body, token);
  INFO(result.raw);
  REQUIRE(result.status == 201);
  record_secret(result.body.at("key").get<std::string>());
  return result.body;
}

plexus::test::HttpResult with_api_key_header(const IdentityFixture& f, const std::string& path,
                                             const std::string& key) {
  return f.request("GET", path, nullptr, {{"X-API-Key", key}});
}

}  // namespace

TEST_CASE("an API key is shown once and works in both headers", "[identity][api-keys]") {
  IdentityFixture f;
  const auto admin = f.admin_token();
  const auto created =
      create_key(f, admin, {{"name", "ci-bot"}, {"roles", {"viewer"}}, {"expires_in", "30d"}});
  const auto key = created.at("key").get<std::string>();
  const auto id = created.at("id").get<std::string>();
  CHECK(key.starts_with("plx_" + id + "_"));
  CHECK(key.size() >= 4 + 32 + 1 + 43);
  CHECK(created.at("name") == "ci-bot");
  CHECK(created.at("roles") == nlohmann::json::array({"viewer"}));
  CHECK(created.at("expires_at").is_string());
  CHECK(created.at("created_at").is_string());

  const auto by_bearer = f.get("/api/v1/test/whoami", key);
  REQUIRE(by_bearer.status == 200);
  CHECK(by_bearer.body.at("kind") == "api_key");
  CHECK(by_bearer.body.at("name") == "ci-bot");
  CHECK(by_bearer.body.at("tenant") == "default");
  CHECK(by_bearer.body.at("credential_id") == id);
  const auto admin_id = f.get("/api/v1/auth/me", admin).body.at("user_id");
  CHECK(by_bearer.body.at("user_id") == admin_id);

  const auto by_header = with_api_key_header(f, "/api/v1/test/whoami", key);
  REQUIRE(by_header.status == 200);
  CHECK(by_header.body.at("kind") == "api_key");

  // The key's roles, not its creator's, decide.
  CHECK(with_api_key_header(f, "/api/v1/test/docs/9", key).status == 200);
  CHECK(f.post("/api/v1/test/docs/9", nlohmann::json::object(), key).status == 403);
  CHECK(with_api_key_header(f, "/api/v1/admin/users", key).status == 403);

  // The list never shows the key or its hash.
  const auto list = f.get("/api/v1/admin/api-keys", admin);
  REQUIRE(list.status == 200);
  REQUIRE(list.body.at("items").size() == 1);
  CHECK(list.raw.find(key.substr(4 + 32 + 1)) == std::string::npos);
  CHECK_FALSE(list.body["items"][0].contains("key"));
  CHECK_FALSE(list.body["items"][0].contains("key_hash"));
}

TEST_CASE("a revoked API key is refused", "[identity][api-keys]") {
  IdentityFixture f;
  const auto admin = f.admin_token();
  const auto created = create_key(f, admin, {{"name", "temp"}, {"roles", {"viewer"}}});
  const auto key = created.at("key").get<std::string>();
  CHECK(f.get("/api/v1/test/whoami", key).status == 200);
  CHECK(f.del("/api/v1/admin/api-keys/" + created.at("id").get<std::string>(), admin).status == 204);
  const auto refused = f.get("/api/v1/test/whoami", key);
  CHECK(refused.status == 401);
  CHECK(refused.body["error"]["code"] == "invalid_token");
  CHECK(refused.raw.find(key) == std::string::npos);
  CHECK(with_api_key_header(f, "/api/v1/test/whoami", key).status == 401);
  CHECK(f.del("/api/v1/admin/api-keys/00000000000000000000000000000000", admin).status == 404);
}

TEST_CASE("an expired API key is refused", "[identity][api-keys]") {
  IdentityFixture f;
  const auto admin = f.admin_token();
  const auto created =
      create_key(f, admin, {{"name", "short-lived"}, {"roles", {"viewer"}}, {"expires_in", 1}});
  const auto key = created.at("key").get<std::string>();
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  CHECK(f.get("/api/v1/test/whoami", key).status == 401);

  const auto past =
      f.post("/api/v1/admin/api-keys",
             {{"name", "past"}, {"roles", {"viewer"}}, {"expires_at", "2001-01-01T00:00:00Z"}}, admin);
  CHECK(past.status == 400);
  CHECK(past.body["error"]["details"]["field"] == "expires_at");
}

TEST_CASE("a forged or altered API key is refused", "[identity][api-keys]") {
  IdentityFixture f;
  const auto admin = f.admin_token();
  const auto key =
      create_key(f, admin, {{"name", "real"}, {"roles", {"viewer"}}}).at("key").get<std::string>();
  auto altered = key;
  altered.back() = altered.back() == 'A' ? 'B' : 'A';
  CHECK(f.get("/api/v1/test/whoami", altered).status == 401);
  CHECK(f.get("/api/v1/test/whoami", "plx_short").status == 401);
  CHECK(with_api_key_header(f, "/api/v1/test/whoami", "not-a-key").status == 401);
}

TEST_CASE("API key last use is recorded with time and address", "[identity][api-keys]") {
  IdentityFixture f;
  const auto admin = f.admin_token();
  const auto created = create_key(f, admin, {{"name", "used"}, {"roles", {"viewer"}}});
  auto list = f.get("/api/v1/admin/api-keys", admin);
  CHECK(list.body["items"][0]["last_used_at"].is_null());
  REQUIRE(f.get("/api/v1/test/whoami", created.at("key").get<std::string>()).status == 200);
  list = f.get("/api/v1/admin/api-keys", admin);
  CHECK(list.body["items"][0]["last_used_at"].is_string());
  CHECK(list.body["items"][0]["last_used_ip"] == "127.0.0.1");
}

TEST_CASE("an API key cannot carry roles its creator does not hold", "[identity][api-keys]") {
  IdentityFixture f;
  const auto admin = f.admin_token();
  REQUIRE(f.post("/api/v1/admin/roles",
                 {{"name", "key-manager"},
                  {"grants", {"admin.api-keys.manage", "admin.api-keys.view", "*.read"}}},
                 admin)
              .status == 201);
  f.create_user(admin, "kim", "Koala-Secret-77!", {"key-manager"});
  const auto kim = f.access_token("kim", "Koala-Secret-77!");

  const auto escalate = f.post("/api/v1/admin/api-keys", {{"name", "x"}, {"roles", {"admin"}}}, kim);
  CHECK(escalate.status == 403);
  const auto unknown = f.post("/api/v1/admin/api-keys", {{"name", "x"}, {"roles", {"no-such-role"}}}, kim);
  CHECK(unknown.status == 400);
  CHECK(unknown.body["error"]["details"]["field"] == "roles");
  CHECK(f.post("/api/v1/admin/api-keys", {{"name", "reader"}, {"roles", {"viewer"}}}, kim).status == 403);
  const auto ok = f.post("/api/v1/admin/api-keys", {{"name", "reader"}, {"roles", {"key-manager"}}}, kim);
  CHECK(ok.status == 201);
  if (ok.status == 201) record_secret(ok.body.at("key").get<std::string>());
}

TEST_CASE("API key routes need their permissions", "[identity][api-keys]") {
  IdentityFixture f;
  const auto admin = f.admin_token();
  f.create_user(admin, "vic", "Violet-Secret-77!", {"viewer"});
  const auto viewer = f.access_token("vic", "Violet-Secret-77!");
  CHECK(f.get("/api/v1/admin/api-keys", viewer).status == 403);
  CHECK(f.post("/api/v1/admin/api-keys", {{"name", "x"}, {"roles", {"viewer"}}}, viewer).status == 403);
}
