// The generated authorisation matrix (issue 4, COM-1): every route the node serves,
// kernel and plugin, as listed by its own OpenAPI document, called as anonymous,
// viewer, editor, admin and an admin of another tenant, and checked against the
// permission the route declares. A route added later is covered without touching
// this file; a route that declares nothing fails here.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <regex>

#include "kernel/auth/caller.hpp"
#include "tests/support/plexusd_process.hpp"

using namespace std::chrono_literals;
using plexus::test::bearer;
using plexus::test::Plexusd;
using plexus::test::record_secret;

namespace {

constexpr const char* kProbe = "matrix-probe";

struct Operation {
  std::string method, path_template, permission;
};

struct Identity {
  std::string label;
  std::string token;  // empty: anonymous
  std::vector<std::string> grants;
  bool default_tenant = true;
};

// The manifests directory with the hello example enabled, so plugin routes are in the matrix.
plexus::test::TempDir& manifests_with_hello() {
  static plexus::test::TempDir dir;
  auto text = plexus::test::read_file(plexus::test::source_dir() / "manifests" / "examples" / "hello.yaml");
  text.replace(text.find("enabled: false"), 14, "enabled: true");
  dir.write("hello.yaml", text);
  return dir;
}

std::vector<Operation> operations_of(const nlohmann::json& openapi) {
  std::vector<Operation> out;
  for (const auto& [path, item] : openapi.at("paths").items()) {
    for (const auto& [method, operation] : item.items()) {
      std::string upper = method;
      std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
      out.push_back({upper, path, operation.value("x-permission", "")});
    }
  }
  // Logging out ends the caller's session: do it last.
  std::stable_partition(out.begin(), out.end(), [](const Operation& o) { return o.path_template != "/api/v1/auth/logout"; });
  return out;
}

std::string concrete(const std::string& text) { return std::regex_replace(text, std::regex(R"(\{[^}]*\})"), kProbe); }

// Status line only, over a raw socket: an event stream never ends, but its status does arrive.
int call(int port, const Operation& op, const std::string& token) {
  plexus::test::RawConnection connection(port);
  std::string request = op.method + " " + concrete(op.path_template) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  if (!token.empty()) request += "Authorization: Bearer " + token + "\r\n";
  request += "Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";
  REQUIRE(connection.send(request));
  return plexus::test::status_of(connection.read_some(10s, "\r\n"));
}

std::vector<std::string> grants_of(const std::string& role) { return *plexus::auth::builtin_role_grants(role); }

void create_user(Plexusd& plexus, const std::string& admin, const std::string& name, const std::string& role,
                 const std::string& password) {
  auto client = plexus.client();
  const nlohmann::json body{{"username", name}, {"password", password}, {"roles", {role}}};
  auto created = client.Post("/api/v1/admin/users", bearer(admin), body.dump(), "application/json");
  REQUIRE(created);
  INFO(created->body);
  REQUIRE(created->status == 201);
}

}  // namespace

TEST_CASE("every route enforces its declared permission for every kind of caller", "[authz][matrix]") {
  Plexusd plexus({{"PLEXUS_PLUGINS__WATCH", "false"}}, {"--manifests", manifests_with_hello().path().string()});
  const std::string password = "Matrix-Users-Pass-42!";
  record_secret(password);
  const auto admin = plexus.admin_token();
  create_user(plexus, admin, "matrix-viewer", "viewer", password);
  create_user(plexus, admin, "matrix-editor", "editor", password);
  auto client = plexus.client();
  const nlohmann::json tenant{{"id", "other"}, {"name", "Other tenant"}, {"admin_username", "other-admin"},
                              {"admin_password", password}};
  auto made = client.Post("/api/v1/admin/tenants", bearer(admin), tenant.dump(), "application/json");
  REQUIRE(made);
  INFO(made->body);
  REQUIRE(made->status == 201);

  const std::vector<Identity> callers = {
      {"anonymous", "", {}},
      {"viewer", plexus.login("matrix-viewer", password), grants_of("viewer")},
      {"editor", plexus.login("matrix-editor", password), grants_of("editor")},
      {"admin", plexus.admin_token(), grants_of("admin")},
      {"admin of another tenant", plexus.login("other-admin", password, "other"), grants_of("admin"), false},
  };

  auto openapi = client.Get("/api/v1/openapi.json");
  REQUIRE(openapi);
  REQUIRE(openapi->status == 200);
  const auto operations = operations_of(nlohmann::json::parse(openapi->body));
  // The kernel's own routes and the plugin's are both in the matrix.
  auto has = [&](const std::string& path) {
    return std::any_of(operations.begin(), operations.end(), [&](const Operation& o) { return o.path_template == path; });
  };
  REQUIRE(has("/api/v1/admin/users"));
  REQUIRE(has("/api/v1/admin/audit"));
  REQUIRE(has("/api/v1/hello/greeting"));
  REQUIRE(operations.size() >= 30);
  // The declarations themselves: administration is never public, nor open to any
  // signed-in caller, except share links, which every user may make for what they hold.
  for (const auto& op : operations) {
    if (!op.path_template.starts_with("/api/v1/admin/")) continue;
    INFO(op.method << " " << op.path_template << " declares " << op.permission);
    if (op.path_template.starts_with("/api/v1/admin/share-links")) {
      CHECK(op.permission == "authenticated");
    } else {
      CHECK(op.permission.starts_with("admin."));
    }
  }

  std::size_t checked = 0;
  for (const auto& caller : callers) {
    for (const auto& op : operations) {
      INFO(caller.label << ": " << op.method << " " << op.path_template << " (permission " << op.permission << ")");
      REQUIRE(op.permission.find("none") == std::string::npos);  // every route declares who may call it
      const int status = call(plexus.port, op, caller.token);
      CHECK(status >= 200);
      CHECK(status < 500);  // dummy input must be refused cleanly, never crash a handler
      if (op.permission == "public") {
        CHECK(status != 401);
        CHECK(status != 403);
      } else if (op.permission == "optional") {
        // Anyone gets through to the handler, which decides (the probe path names nothing: 404).
        CHECK(status != 401);
        CHECK(status != 403);
      } else if (caller.token.empty()) {
        CHECK(status == 401);
      } else if (op.permission == "authenticated") {
        CHECK(status != 401);
        CHECK(status != 403);
      } else {
        plexus::auth::Caller model;
        model.kind = plexus::auth::CallerKind::user;
        model.grants = caller.grants;
        // Installation-wide: tenants, and the event bus (whose events carry no tenant).
        const bool tenant_admin_route = op.path_template.starts_with("/api/v1/admin/tenants") ||
                                        op.path_template.starts_with("/api/v1/admin/events");
        const bool allowed = model.can(concrete(op.permission)) && (caller.default_tenant || !tenant_admin_route);
        if (allowed) {
          CHECK(status != 401);
          CHECK(status != 403);
        } else {
          CHECK(status == 403);
        }
      }
      ++checked;
    }
  }
  CHECK(checked == callers.size() * operations.size());
  CHECK(plexus.stop() == 0);
}

TEST_CASE("nothing of one tenant is visible to another", "[authz][tenants]") {
  Plexusd plexus;
  const std::string password = "Tenant-Isolation-Pass-7!";
  record_secret(password);
  const auto admin = plexus.admin_token();
  auto client = plexus.client();
  const nlohmann::json tenant{{"id", "acme"}, {"name", "Acme"}, {"admin_username", "acme-admin"},
                              {"admin_password", password}};
  REQUIRE(client.Post("/api/v1/admin/tenants", bearer(admin), tenant.dump(), "application/json")->status == 201);
  const auto acme = plexus.login("acme-admin", password, "acme");

  // Users: each admin sees only its own tenant's, and a foreign id is simply not there.
  const auto default_users = nlohmann::json::parse(client.Get("/api/v1/admin/users", bearer(admin))->body)["items"];
  const auto acme_users = nlohmann::json::parse(client.Get("/api/v1/admin/users", bearer(acme))->body)["items"];
  REQUIRE(acme_users.size() == 1);
  CHECK(acme_users[0]["username"] == "acme-admin");
  std::string default_admin_id;
  for (const auto& user : default_users) {
    CHECK(user["username"] != "acme-admin");
    if (user["username"] == "admin") default_admin_id = user["id"];
  }
  REQUIRE_FALSE(default_admin_id.empty());
  CHECK(client.Get("/api/v1/admin/users/" + default_admin_id, bearer(acme))->status == 404);
  const nlohmann::json disable{{"disabled", true}};
  CHECK(client.Patch("/api/v1/admin/users/" + default_admin_id, bearer(acme), disable.dump(), "application/json")
            ->status == 404);

  // The audit log: acme's admin sees acme's rows only, and may not ask for others.
  const auto rows = nlohmann::json::parse(client.Get("/api/v1/admin/audit?limit=1000", bearer(acme))->body)["items"];
  REQUIRE_FALSE(rows.empty());
  for (const auto& row : rows) CHECK(row["tenant"] == "acme");
  CHECK(client.Get("/api/v1/admin/audit?tenant=default", bearer(acme))->status == 403);
  CHECK(client.Get("/api/v1/admin/audit?tenant=acme", bearer(admin))->status == 200);

  // Logging in to the wrong tenant is just a failed login.
  const nlohmann::json wrong{{"username", "acme-admin"}, {"password", password}, {"tenant", "default"}};
  CHECK(client.Post("/api/v1/auth/login", wrong.dump(), "application/json")->status == 401);
  CHECK(plexus.stop() == 0);
}
