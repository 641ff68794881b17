// The admin REST API of identity: users, roles, permissions, tenants; tenant
// isolation, self-protection, password policy and the audit rows of changes.
#include <catch2/catch.hpp>

#include "kernel/audit/audit_log.hpp"
#include "tests/support/plexusd_process.hpp"
#include "tests/unit/identity_fixture.hpp"

using plexus::test::IdentityFixture;
using plexus::test::kAdminPassword;
using plexus::test::record_secret;

namespace {

constexpr const char* kBossPassword = "Bravo-Tenant-Key-1!";

// Tenant "b" with its own admin "boss"; returns boss's token.
std::string tenant_b(const IdentityFixture& f, const std::string& admin) {
  record_secret(kBossPassword);
  const auto created = f.post(
      "/api/v1/admin/tenants",
      {{"id", "b"}, {"name", "Tenant B"}, {"admin_username", "boss"}, {"admin_password", kBossPassword}},
      admin);
  INFO(created.raw);
  REQUIRE(created.status == 201);
  CHECK(created.body.at("admin").at("username") == "boss");
  return f.access_token("boss", kBossPassword, "b");
}

}  // namespace

TEST_CASE("admin creates, lists, reads and updates users", "[identity][admin]") {
  IdentityFixture f;
  const auto admin = f.admin_token();
  record_secret("Uplands-Secret-1!");
  const auto created = f.post("/api/v1/admin/users",
                              {{"username", "ursula"},
                               {"password", "Uplands-Secret-1!"},
                               {"roles", {"editor"}},
                               {"display_name", "Ursula U."}},
                              admin);
  REQUIRE(created.status == 201);
  const auto id = created.body.at("id").get<std::string>();
  CHECK(created.body.at("username") == "ursula");
  CHECK(created.body.at("display_name") == "Ursula U.");
  CHECK(created.body.at("roles") == nlohmann::json::array({"editor"}));
  CHECK(created.body.at("disabled") == false);
  CHECK_FALSE(created.body.contains("password_hash"));
  CHECK(created.raw.find("argon2") == std::string::npos);

  const auto list = f.get("/api/v1/admin/users", admin);
  REQUIRE(list.status == 200);
  REQUIRE(list.body.at("items").size() == 2);
  CHECK(list.body.at("next_cursor").is_null());
  CHECK(list.body["items"][0].at("username") == "admin");
  CHECK(list.body["items"][0].at("last_login_at").is_string());
  CHECK(list.body["items"][1].at("last_login_at").is_null());
  CHECK(list.raw.find("argon2") == std::string::npos);

  const auto one = f.get("/api/v1/admin/users/" + id, admin);
  REQUIRE(one.status == 200);
  CHECK(one.body.at("username") == "ursula");
  CHECK(f.get("/api/v1/admin/users/does-not-exist", admin).status == 404);

  const auto patched =
      f.patch("/api/v1/admin/users/" + id, {{"display_name", "Ursula"}, {"roles", {"viewer"}}}, admin);
  REQUIRE(patched.status == 200);
  CHECK(patched.body.at("roles") == nlohmann::json::array({"viewer"}));
  CHECK(patched.body.at("display_name") == "Ursula");

  const auto duplicate =
      f.post("/api/v1/admin/users", {{"username", "ursula"}, {"password", "Another-Password-9!"}}, admin);
  CHECK(duplicate.status == 409);
  CHECK(duplicate.body["error"]["details"]["field"] == "username");
}

TEST_CASE("the user list pages with limit and cursor", "[identity][admin]") {
  IdentityFixture f;
  const auto admin = f.admin_token();
  for (const auto* name : {"u1", "u2", "u3", "u4"})
    f.create_user(admin, name, "Paging-Password-1!", {"viewer"});
  std::vector<std::string> seen;
  std::string path = "/api/v1/admin/users?limit=2";
  for (int i = 0; i < 5; ++i) {
    const auto page = f.get(path, admin);
    REQUIRE(page.status == 200);
    for (const auto& item : page.body.at("items")) seen.push_back(item.at("username").get<std::string>());
    if (page.body.at("next_cursor").is_null()) break;
    path = "/api/v1/admin/users?limit=2&cursor=" + page.body.at("next_cursor").get<std::string>();
  }
  CHECK(seen == std::vector<std::string>{"admin", "u1", "u2", "u3", "u4"});
  CHECK(f.get("/api/v1/admin/users?limit=0", admin).status == 400);
}

TEST_CASE("password policy errors name the field and list the problems", "[identity][admin]") {
  IdentityFixture f;
  const auto admin = f.admin_token();
  const auto weak = f.post("/api/v1/admin/users", {{"username", "paula"}, {"password", "short"}}, admin);
  REQUIRE(weak.status == 400);
  CHECK(weak.body["error"]["code"] == "weak_password");
  CHECK(weak.body["error"]["details"]["field"] == "password");
  CHECK(weak.body["error"]["details"]["problems"].is_array());
  CHECK_FALSE(weak.body["error"]["details"]["problems"].empty());
  CHECK(weak.raw.find("\"short\"") == std::string::npos);

  const auto with_name =
      f.post("/api/v1/admin/users", {{"username", "paula"}, {"password", "Paula-paula-2024!"}}, admin);
  CHECK(with_name.status == 400);
  CHECK(with_name.body["error"]["details"]["field"] == "password");

  const auto id = f.create_user(admin, "paula", "Long-Enough-Pass-9!", {});
  const auto reset = f.put("/api/v1/admin/users/" + id + "/password", {{"password", "weak"}}, admin);
  CHECK(reset.status == 400);
  CHECK(reset.body["error"]["details"]["field"] == "password");
  const auto no_username = f.post("/api/v1/admin/users", {{"password", "Long-Enough-Pass-9!"}}, admin);
  CHECK(no_username.status == 400);
  CHECK(no_username.body["error"]["details"]["field"] == "username");
}

TEST_CASE("setting a user's password ends its sessions", "[identity][admin]") {
  IdentityFixture f;
  const auto admin = f.admin_token();
  const auto id = f.create_user(admin, "rita", "Ridge-Secret-01!", {"viewer"});
  const auto rita = f.access_token("rita", "Ridge-Secret-01!");
  record_secret("Ridge-Secret-02!");
  CHECK(f.put("/api/v1/admin/users/" + id + "/password", {{"password", "Ridge-Secret-02!"}}, admin).status ==
        204);
  CHECK(f.get("/api/v1/auth/me", rita).status == 401);
  CHECK(f.login("rita", "Ridge-Secret-02!").status == 200);
}

TEST_CASE("unknown roles are refused naming the role", "[identity][admin]") {
  IdentityFixture f;
  const auto admin = f.admin_token();
  const auto result =
      f.post("/api/v1/admin/users",
             {{"username", "x"}, {"password", "Good-Password-12!"}, {"roles", {"wizard"}}}, admin);
  CHECK(result.status == 400);
  CHECK(result.body["error"]["details"]["field"] == "roles");
  CHECK(result.body["error"]["details"]["role"] == "wizard");
}

TEST_CASE("an admin cannot disable themselves or drop their own admin role", "[identity][admin]") {
  IdentityFixture f;
  const auto admin = f.admin_token();
  const auto me = f.get("/api/v1/auth/me", admin).body.at("user_id").get<std::string>();
  CHECK(f.patch("/api/v1/admin/users/" + me, {{"disabled", true}}, admin).status == 409);
  CHECK(f.patch("/api/v1/admin/users/" + me, {{"roles", {"viewer"}}}, admin).status == 409);
  CHECK(f.patch("/api/v1/admin/users/" + me, {{"display_name", "The Admin"}}, admin).status == 200);
  CHECK(f.get("/api/v1/auth/me", admin).status == 200);
}

TEST_CASE("a user manager cannot hand out or touch more than it holds", "[identity][admin]") {
  IdentityFixture f;
  const auto admin = f.admin_token();
  REQUIRE(f.post("/api/v1/admin/roles",
                 {{"name", "user-manager"}, {"grants", {"admin.users.view", "admin.users.manage", "*.read"}}},
                 admin)
              .status == 201);
  f.create_user(admin, "mona", "Monsoon-Secret-12!", {"user-manager"});
  const auto mona = f.access_token("mona", "Monsoon-Secret-12!");
  const auto admin_id = f.get("/api/v1/auth/me", admin).body.at("user_id").get<std::string>();

  CHECK(f.post("/api/v1/admin/users",
               {{"username", "x1"}, {"password", "Good-Password-12!"}, {"roles", {"admin"}}}, mona)
            .status == 403);
  CHECK(f.patch("/api/v1/admin/users/" + admin_id, {{"disabled", true}}, mona).status == 403);
  CHECK(f.put("/api/v1/admin/users/" + admin_id + "/password", {{"password", "Taken-Over-Pw-12!"}}, mona)
            .status == 403);
  record_secret("Good-Password-12!");
  CHECK(f.post("/api/v1/admin/users",
               {{"username", "x2"}, {"password", "Good-Password-12!"}, {"roles", {"user-manager"}}}, mona)
            .status == 201);
}

TEST_CASE("custom roles: create, update, delete, and built-ins stay fixed", "[identity][admin]") {
  IdentityFixture f;
  const auto admin = f.admin_token();
  const auto roles = f.get("/api/v1/admin/roles", admin);
  REQUIRE(roles.status == 200);
  REQUIRE(roles.body.at("items").size() == 3);
  CHECK(roles.body["items"][0].at("name") == "admin");
  CHECK(roles.body["items"][0].at("builtin") == true);
  CHECK(roles.body["items"][0].at("grants") == nlohmann::json::array({"*"}));

  const auto created = f.post(
      "/api/v1/admin/roles",
      {{"name", "cep-ops"}, {"description", "CEP operators"}, {"grants", {"cep.*", "menu.cep"}}}, admin);
  REQUIRE(created.status == 201);
  CHECK(created.body.at("builtin") == false);

  CHECK(f.post("/api/v1/admin/roles", {{"name", "cep-ops"}, {"grants", {"x.read"}}}, admin).status == 409);
  CHECK(f.post("/api/v1/admin/roles", {{"name", "viewer"}, {"grants", {"x.read"}}}, admin).status == 409);
  const auto bad_name = f.post("/api/v1/admin/roles", {{"name", "Bad Name"}, {"grants", {"x.read"}}}, admin);
  CHECK(bad_name.status == 400);
  CHECK(bad_name.body["error"]["details"]["field"] == "name");
  const auto bad_grant = f.post("/api/v1/admin/roles", {{"name", "ok"}, {"grants", {"has space"}}}, admin);
  CHECK(bad_grant.status == 400);
  CHECK(bad_grant.body["error"]["details"]["field"] == "grants");
  CHECK(f.post("/api/v1/admin/roles", {{"name", "ok"}, {"grants", nlohmann::json::array()}}, admin).status ==
        400);

  CHECK(f.put("/api/v1/admin/roles/admin", {{"grants", {"x.read"}}}, admin).status == 409);
  CHECK(f.del("/api/v1/admin/roles/viewer", admin).status == 409);
  CHECK(f.put("/api/v1/admin/roles/missing", {{"grants", {"x.read"}}}, admin).status == 404);

  // A role change reaches the holders' grants.
  f.create_user(admin, "olga", "Ocean-Secret-12!", {"cep-ops"});
  const auto olga = f.access_token("olga", "Ocean-Secret-12!");
  CHECK(f.get("/api/v1/test/docs/1", olga).status == 403);
  const auto updated = f.put("/api/v1/admin/roles/cep-ops", {{"grants", {"cep.*", "docs.read"}}}, admin);
  REQUIRE(updated.status == 200);
  CHECK(updated.body.at("description") == "CEP operators");
  CHECK(f.get("/api/v1/test/docs/1", olga).status == 200);

  const auto held = f.del("/api/v1/admin/roles/cep-ops", admin);
  CHECK(held.status == 409);
  CHECK(held.body["error"]["details"]["users"] == nlohmann::json::array({"olga"}));

  const auto olga_id = f.get("/api/v1/auth/me", olga).body.at("user_id").get<std::string>();
  REQUIRE(f.patch("/api/v1/admin/users/" + olga_id, {{"roles", nlohmann::json::array()}}, admin).status ==
          200);
  CHECK(f.del("/api/v1/admin/roles/cep-ops", admin).status == 204);
  CHECK(f.get("/api/v1/admin/roles", admin).body.at("items").size() == 3);
}

TEST_CASE("the permission catalogue lists kernel and route permissions", "[identity][admin]") {
  IdentityFixture f;
  const auto admin = f.admin_token();
  const auto result = f.get("/api/v1/admin/permissions", admin);
  REQUIRE(result.status == 200);
  std::map<std::string, nlohmann::json> by_name;
  for (const auto& item : result.body.at("items")) by_name[item.at("permission").get<std::string>()] = item;
  CHECK(by_name.count("admin.users.manage") == 1);
  CHECK_FALSE(by_name["admin.users.manage"].at("description").get<std::string>().empty());
  CHECK(by_name.count("docs.read:{id}") == 1);
  CHECK(by_name["docs.read:{id}"].at("owner") == "test");
  CHECK(by_name.count("admin.secret.view") == 1);
  CHECK(by_name.count("public") == 0);
  CHECK(by_name.count("authenticated") == 0);
}

TEST_CASE("the permission catalogue lists what running plugins declare, the kernel's own words first",
          "[identity][admin][plugins]") {
  IdentityFixture f;
  const auto admin = f.admin_token();
  f.plugin_permissions = {{"notes.publish", "Publish notes", "notes"},
                          {"admin.users.manage", "a plugin's words", "rogue"},
                          {"docs.read:{id}", "Read a document", "docs"}};
  const auto listed = [&] {
    const auto result = f.get("/api/v1/admin/permissions", admin);
    REQUIRE(result.status == 200);
    std::map<std::string, nlohmann::json> by_name;
    for (const auto& item : result.body.at("items")) by_name[item.at("permission").get<std::string>()] = item;
    return by_name;
  };
  auto by_name = listed();
  REQUIRE(by_name.count("notes.publish") == 1);
  CHECK(by_name["notes.publish"] == nlohmann::json{{"permission", "notes.publish"},
                                                   {"description", "Publish notes"},
                                                   {"owner", "notes"},
                                                   {"routes", nlohmann::json::array()}});
  CHECK(by_name["admin.users.manage"].at("owner") == "kernel");
  CHECK(by_name["admin.users.manage"].at("description") != "a plugin's words");
  // A declared permission that a route checks too lists the route under the declaration.
  CHECK(by_name["docs.read:{id}"].at("owner") == "docs");
  CHECK(by_name["docs.read:{id}"].at("description") == "Read a document");
  CHECK(by_name["docs.read:{id}"].at("routes") == nlohmann::json{"GET /api/v1/test/docs/{id}"});
  // The plugin stops: its declarations go with it.
  f.plugin_permissions.clear();
  by_name = listed();
  CHECK(by_name.count("notes.publish") == 0);
  CHECK(by_name["docs.read:{id}"].at("owner") == "test");
}

TEST_CASE("tenant isolation: an admin of tenant b sees nothing of tenant default",
          "[identity][admin][tenants]") {
  IdentityFixture f;
  const auto admin = f.admin_token();
  const auto default_admin_id = f.get("/api/v1/auth/me", admin).body.at("user_id").get<std::string>();
  const auto boss = tenant_b(f, admin);

  const auto me = f.get("/api/v1/auth/me", boss);
  CHECK(me.body.at("tenant") == "b");
  CHECK(me.body.at("roles") == nlohmann::json::array({"admin"}));

  const auto users = f.get("/api/v1/admin/users", boss);
  REQUIRE(users.status == 200);
  REQUIRE(users.body.at("items").size() == 1);
  CHECK(users.body["items"][0].at("username") == "boss");
  CHECK(f.get("/api/v1/admin/users/" + default_admin_id, boss).status == 404);
  CHECK(f.patch("/api/v1/admin/users/" + default_admin_id, {{"disabled", true}}, boss).status == 404);
  CHECK(f.put("/api/v1/admin/users/" + default_admin_id + "/password", {{"password", "Hijack-Password-1!"}},
              boss)
            .status == 404);

  // Tenants are managed from tenant default only, whatever the grants.
  CHECK(f.get("/api/v1/admin/tenants", boss).status == 403);
  CHECK(f.post("/api/v1/admin/tenants", {{"id", "c"}}, boss).status == 403);
  CHECK(f.patch("/api/v1/admin/tenants/default", {{"name", "mine"}}, boss).status == 403);

  // Same username in two tenants: two different users.
  record_secret("Bravo-Chief-Pw-1!");
  const auto b_admin_id = f.create_user(boss, "admin", "Bravo-Chief-Pw-1!", {"viewer"});
  CHECK(b_admin_id != default_admin_id);
  CHECK(f.login("admin", "Bravo-Chief-Pw-1!", "b").status == 200);
  CHECK(f.login("admin", "Bravo-Chief-Pw-1!").status == 401);

  // Roles, keys and links of b stay in b.
  REQUIRE(f.post("/api/v1/admin/roles", {{"name", "b-only"}, {"grants", {"docs.read"}}}, boss).status == 201);
  const auto default_roles = f.get("/api/v1/admin/roles", admin);
  CHECK(default_roles.body.at("items").size() == 3);
  const auto key = f.post("/api/v1/admin/api-keys", {{"name", "b-key"}, {"roles", {"viewer"}}}, boss);
  REQUIRE(key.status == 201);
  record_secret(key.body.at("key").get<std::string>());
  CHECK(f.get("/api/v1/admin/api-keys", admin).body.at("items").empty());
  CHECK(f.del("/api/v1/admin/api-keys/" + key.body.at("id").get<std::string>(), admin).status == 404);
}

TEST_CASE("tenants: list, create, rename and disable", "[identity][admin][tenants]") {
  IdentityFixture f;
  const auto admin = f.admin_token();
  const auto boss = tenant_b(f, admin);
  const auto list = f.get("/api/v1/admin/tenants", admin);
  REQUIRE(list.status == 200);
  REQUIRE(list.body.at("items").size() == 2);

  CHECK(f.post("/api/v1/admin/tenants", {{"id", "b"}}, admin).status == 409);
  CHECK(f.post("/api/v1/admin/tenants", {{"id", "Not Valid"}}, admin).status == 400);
  const auto weak = f.post("/api/v1/admin/tenants",
                           {{"id", "c"}, {"admin_username", "x"}, {"admin_password", "weak"}}, admin);
  CHECK(weak.status == 400);
  CHECK(weak.body["error"]["details"]["field"] == "admin_password");

  const auto renamed = f.patch("/api/v1/admin/tenants/b", {{"name", "Bravo"}}, admin);
  REQUIRE(renamed.status == 200);
  CHECK(renamed.body.at("name") == "Bravo");
  CHECK(f.patch("/api/v1/admin/tenants/default", {{"disabled", true}}, admin).status == 409);
  CHECK(f.patch("/api/v1/admin/tenants/nope", {{"name", "x"}}, admin).status == 404);

  // A disabled tenant: no logins, no tokens.
  REQUIRE(f.patch("/api/v1/admin/tenants/b", {{"disabled", true}}, admin).status == 200);
  CHECK(f.get("/api/v1/auth/me", boss).status == 401);
  CHECK(f.login("boss", kBossPassword, "b").status == 401);
  REQUIRE(f.patch("/api/v1/admin/tenants/b", {{"disabled", false}}, admin).status == 200);
  CHECK(f.login("boss", kBossPassword, "b").status == 200);
}

TEST_CASE("changes are audited with before and after, never with hashes", "[identity][admin][audit]") {
  IdentityFixture f;
  const auto admin = f.admin_token();
  const auto id = f.create_user(admin, "audrey", "Aurora-Secret-1!", {"viewer"});
  REQUIRE(f.patch("/api/v1/admin/users/" + id, {{"roles", {"editor"}}}, admin).status == 200);
  REQUIRE(f.get("/api/v1/admin/users", admin).status == 200);

  plexus::audit::AuditQuery query;
  query.tenant = "default";
  query.action_prefix = "user.create";
  query.target = "user/" + id;
  const auto created = f.audit->query(query);
  REQUIRE(created.items.size() == 1);
  const auto& row = created.items[0];
  CHECK(row.actor == "user:admin");
  CHECK(row.outcome == "success");
  CHECK(row.before.is_null());
  CHECK(row.after.at("username") == "audrey");
  CHECK(row.after.at("roles") == nlohmann::json::array({"viewer"}));
  CHECK_FALSE(row.after.contains("password_hash"));
  CHECK(row.after.dump().find("argon2") == std::string::npos);
  CHECK(row.ip == "127.0.0.1");
  CHECK_FALSE(row.request_id.empty());

  query.action_prefix = "user.update";
  const auto updated = f.audit->query(query);
  REQUIRE(updated.items.size() == 1);
  CHECK(updated.items[0].before.at("roles") == nlohmann::json::array({"viewer"}));
  CHECK(updated.items[0].after.at("roles") == nlohmann::json::array({"editor"}));

  plexus::audit::AuditQuery reads;
  reads.tenant = "default";
  reads.action_prefix = "user.read";
  CHECK(f.audit->query(reads).items.size() == 1);

  // Bootstrap was recorded too, by the system.
  plexus::audit::AuditQuery bootstrap;
  bootstrap.tenant = "default";
  bootstrap.actor = "system";
  CHECK(f.audit->query(bootstrap).items.size() >= 2);
}

TEST_CASE("admin routes refuse viewers and editors", "[identity][admin]") {
  IdentityFixture f;
  const auto admin = f.admin_token();
  f.create_user(admin, "ed", "Harbor-Secret-1!", {"editor"});
  const auto editor = f.access_token("ed", "Harbor-Secret-1!");
  for (const auto* path :
       {"/api/v1/admin/users", "/api/v1/admin/roles", "/api/v1/admin/permissions", "/api/v1/admin/tenants",
        "/api/v1/admin/api-keys", "/api/v1/admin/login-history"}) {
    INFO(path);
    CHECK(f.get(path, editor).status == 403);
  }
  CHECK(f.get("/api/v1/admin/share-links", editor).status == 200);
}
