// Login history and lockout: repeated failures lock a (tenant, username) pair, the
// same way whether or not the user exists, and every attempt is recorded.
#include <algorithm>
#include <thread>

#include <catch2/catch.hpp>

#include "kernel/audit/audit_log.hpp"
#include "tests/support/plexusd_process.hpp"
#include "tests/unit/identity_fixture.hpp"

using plexus::test::IdentityFixture;
using plexus::test::kAdminPassword;
using plexus::test::record_secret;

namespace {

constexpr const char* kWrongPassword = "Wrong-Guess-Password-1!";

auto three_failures(std::chrono::milliseconds duration) {
  return [duration](plexus::identity::IdentityOptions& options) {
    options.lockout_max_failures = 3;
    options.lockout_duration = duration;
  };
}

// The error without its request id: what must not differ between users.
nlohmann::json error_of(const plexus::test::HttpResult& result) {
  auto error = result.body.at("error");
  error.erase("request_id");
  return error;
}

}  // namespace

TEST_CASE("lockout answers 429 after N failures for existing and unknown users alike",
          "[identity][lockout]") {
  record_secret(kWrongPassword);
  IdentityFixture f(three_failures(std::chrono::minutes(15)));
  const auto admin = f.admin_token();  // before the lock

  std::vector<nlohmann::json> existing, unknown;
  for (int i = 0; i < 3; ++i) {
    const auto a = f.login("admin", kWrongPassword);
    const auto b = f.login("nobody-here", kWrongPassword);
    REQUIRE(a.status == 401);
    REQUIRE(b.status == 401);
    existing.push_back(error_of(a));
    unknown.push_back(error_of(b));
  }
  CHECK(existing == unknown);
  CHECK(existing[0].at("code") == "invalid_credentials");

  const auto locked_existing = f.login("admin", kAdminPassword);  // even the right password
  const auto locked_unknown = f.login("nobody-here", kWrongPassword);
  CHECK(locked_existing.status == 429);
  CHECK(locked_unknown.status == 429);
  CHECK(locked_existing.body["error"]["code"] == "too_many_attempts");
  CHECK(error_of(locked_existing) == error_of(locked_unknown));
  const auto retry_after = std::stoi(locked_existing.header("Retry-After"));
  CHECK(retry_after > 0);
  CHECK(retry_after <= 15 * 60);
  CHECK(locked_unknown.header("Retry-After").size() > 0);

  // The lock is per username: another account is not affected, nor a session in progress.
  f.create_user(admin, "erin", "Orbit-Secret-12!", {"viewer"});
  CHECK(f.login("erin", "Orbit-Secret-12!").status == 200);
  CHECK(f.get("/api/v1/auth/me", admin).status == 200);
}

TEST_CASE("a successful login resets the failure count", "[identity][lockout]") {
  record_secret(kWrongPassword);
  IdentityFixture f(three_failures(std::chrono::minutes(15)));
  for (int round = 0; round < 2; ++round) {
    CHECK(f.login("admin", kWrongPassword).status == 401);
    CHECK(f.login("admin", kWrongPassword).status == 401);
    CHECK(f.login("admin", kAdminPassword).status == 200);
  }
}

TEST_CASE("a lock ends lockout_duration after the last failure", "[identity][lockout]") {
  record_secret(kWrongPassword);
  IdentityFixture f(three_failures(std::chrono::milliseconds(1000)));
  for (int i = 0; i < 3; ++i) CHECK(f.login("admin", kWrongPassword).status == 401);
  CHECK(f.login("admin", kAdminPassword).status == 429);
  std::this_thread::sleep_for(std::chrono::milliseconds(1300));
  CHECK(f.login("admin", kAdminPassword).status == 200);
}

TEST_CASE("every login attempt is in the login history", "[identity][lockout]") {
  record_secret(kWrongPassword);
  IdentityFixture f(three_failures(std::chrono::minutes(15)));
  const auto admin = f.admin_token();
  const auto carl_id = f.create_user(admin, "carl", "Cedar-Secret-12!", {"viewer"});
  REQUIRE(f.patch("/api/v1/admin/users/" + carl_id, {{"disabled", true}}, admin).status == 200);
  CHECK(f.login("carl", "Cedar-Secret-12!").status == 401);
  for (int i = 0; i < 3; ++i) CHECK(f.login("mallory", kWrongPassword).status == 401);
  CHECK(f.login("mallory", kWrongPassword).status == 429);

  const auto mallory = f.get("/api/v1/admin/login-history?username=mallory", admin);
  REQUIRE(mallory.status == 200);
  const auto& items = mallory.body.at("items");
  REQUIRE(items.size() == 4);
  CHECK(items[0].at("outcome") == "locked");  // newest first
  for (int i = 1; i < 4; ++i) CHECK(items[i].at("outcome") == "bad_credentials");
  CHECK(items[0].at("ip") == "127.0.0.1");
  CHECK(items[0].at("tenant") == "default");
  CHECK(items[0].at("user_id").is_null());
  CHECK_FALSE(items[0].at("user_agent").get<std::string>().empty());
  CHECK(mallory.raw.find(kWrongPassword) == std::string::npos);

  const auto disabled = f.get("/api/v1/admin/login-history?outcome=disabled", admin);
  REQUIRE(disabled.body.at("items").size() == 1);
  CHECK(disabled.body["items"][0].at("username") == "carl");
  CHECK(disabled.body["items"][0].at("user_id") == carl_id);

  const auto success = f.get("/api/v1/admin/login-history?outcome=success&username=admin", admin);
  REQUIRE(success.body.at("items").size() == 1);

  // Paging: two at a time walks all six attempts once.
  std::vector<std::string> seen;
  std::string path = "/api/v1/admin/login-history?limit=2";
  for (int page = 0; page < 10; ++page) {
    const auto result = f.get(path, admin);
    REQUIRE(result.status == 200);
    for (const auto& item : result.body.at("items")) seen.push_back(item.at("id").get<std::string>());
    if (result.body.at("next_cursor").is_null()) break;
    path = "/api/v1/admin/login-history?limit=2&cursor=" + result.body.at("next_cursor").get<std::string>();
  }
  CHECK(seen.size() == 6);
  std::sort(seen.begin(), seen.end());
  CHECK(std::unique(seen.begin(), seen.end()) == seen.end());

  CHECK(f.get("/api/v1/admin/login-history?outcome=bogus", admin).status == 400);
  CHECK(f.get("/api/v1/admin/login-history?from=yesterday", admin).status == 400);

  plexus::audit::AuditQuery query;
  query.tenant = "default";
  query.action_prefix = "auth.login";
  query.outcome = "failure";
  CHECK(f.audit->query(query).items.size() == 4);
  query.action_prefix = "login-history.read";
  query.outcome = "";
  CHECK_FALSE(f.audit->query(query).items.empty());
}

TEST_CASE("login history is scoped to the caller's tenant", "[identity][lockout]") {
  IdentityFixture f;
  const auto admin = f.admin_token();
  REQUIRE(f.post("/api/v1/admin/tenants",
                 {{"id", "b"}, {"admin_username", "boss"}, {"admin_password", "Bravo-Tenant-Key-1!"}}, admin)
              .status == 201);
  record_secret("Bravo-Tenant-Key-1!");
  const auto boss = f.access_token("boss", "Bravo-Tenant-Key-1!", "b");
  const auto history = f.get("/api/v1/admin/login-history", boss);
  REQUIRE(history.status == 200);
  for (const auto& item : history.body.at("items")) CHECK(item.at("tenant") == "b");
  CHECK(history.body.at("items").size() == 1);
}
