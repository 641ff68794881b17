// What ABI 1.1 gives plugins (issue 4, item 6): the caller in every handler, route
// permissions enforced by the kernel, authz_check for per-data questions, and audit
// rows in the kernel's hash-chained log. Exercised through the hello example.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/plexusd_process.hpp"

using plexus::test::bearer;
using plexus::test::Plexusd;

TEST_CASE("a plugin handler sees the caller and asks the host about permissions", "[plugins][authz]") {
  plexus::test::TempDir manifests;
  auto text = plexus::test::read_file(plexus::test::source_dir() / "manifests" / "examples" / "hello.yaml");
  text.replace(text.find("enabled: false"), 14, "enabled: true");
  manifests.write("hello.yaml", text);
  Plexusd plexus({{"PLEXUS_PLUGINS__WATCH", "false"}}, {"--manifests", manifests.path().string()});
  const auto admin = plexus.admin_token();
  auto client = plexus.client();
  const std::string password = "Plugin-Viewer-Pass-31!";
  plexus::test::record_secret(password);
  const nlohmann::json viewer{{"username", "hello-viewer"}, {"password", password}, {"roles", {"viewer"}}};
  REQUIRE(client.Post("/api/v1/admin/users", bearer(admin), viewer.dump(), "application/json")->status == 201);
  const auto viewer_token = plexus.login("hello-viewer", password);

  CHECK(client.Get("/api/v1/hello/me")->status == 401);
  auto me = client.Get("/api/v1/hello/me", bearer(viewer_token));
  REQUIRE(me->status == 200);
  const auto seen = nlohmann::json::parse(me->body);
  CHECK(seen["tenant"] == "default");
  CHECK(seen["name"] == "hello-viewer");
  CHECK(seen["kind"] == "user");
  CHECK(seen["may_greet"] == false);
  CHECK(nlohmann::json::parse(client.Get("/api/v1/hello/me", bearer(admin))->body)["may_greet"] == true);

  const std::string change = R"({"greeting":"Hi from the test"})";
  CHECK(client.Put("/api/v1/hello/greeting", bearer(viewer_token), change, "application/json")->status == 403);
  auto changed = client.Put("/api/v1/hello/greeting", bearer(admin), change, "application/json");
  REQUIRE(changed->status == 200);
  CHECK(nlohmann::json::parse(client.Get("/api/v1/hello")->body)["greeting"] == "Hi from the test");

  // The plugin's audit call landed in the kernel's log, prefixed with its name.
  auto rows = client.Get("/api/v1/admin/audit?action=hello.greeting.update", bearer(admin));
  REQUIRE(rows->status == 200);
  const auto items = nlohmann::json::parse(rows->body)["items"];
  REQUIRE(items.size() == 1);
  CHECK(items[0]["actor"] == "user:admin");
  CHECK(items[0]["before"] == "Hello from the manifest");
  CHECK(items[0]["after"] == "Hi from the test");
  auto verify = client.Get("/api/v1/admin/audit/verify", bearer(admin));
  CHECK(nlohmann::json::parse(verify->body)["ok"] == true);
  CHECK(plexus.stop() == 0);
}
