// resources.bootstrap as plexusd runs it: bundles are imported after the plugins
// started (a datasource needs the sqlite connector's driver), create-only across
// restarts, unknown kinds are skipped, and a malformed bundle stops the start with
// the file named.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/plexusd_process.hpp"

using nlohmann::json;
using plexus::test::bearer;

namespace {

// A manifests directory with the sqlite connector, enabled.
std::string manifests_with_sqlite_connector(const plexus::test::TempDir& dir) {
  dir.write(
      "connector-sqlite.yaml",
      "name: connector-sqlite\nlibrary: libplexus_connector_sqlite.so\nversion: \"*\"\nenabled: true\n");
  return dir.path().string();
}

json get_ops(const plexus::test::Plexusd& plexus) {
  auto client = plexus.client();
  auto response = client.Get("/api/v1/resources/datasource/ops", bearer(plexus.admin_token()));
  REQUIRE(response);
  INFO(response->body);
  REQUIRE(response->status == 200);
  return json::parse(response->body);
}

}  // namespace

TEST_CASE("plexusd imports bootstrap bundles after its plugins and never overwrites",
          "[resources][bootstrap]") {
  plexus::test::TempDir manifests, bundles;
  bundles.write("ops.yaml", R"(format: plexus-bundle/1
resources:
  - kind: datasource
    id: ops
    content: {driver: sqlite, path: /tmp/ops.db, read_only: true}
  - kind: dashboard
    id: home
    content: {title: Home}
)");
  const auto manifest_dir = manifests_with_sqlite_connector(manifests);
  plexus::test::Plexusd plexus(
      {{"PLEXUS_RESOURCES__BOOTSTRAP", bundles.path().string()}, {"PLEXUS_PLUGINS__WATCH", "false"}},
      {"--manifests", manifest_dir});
  const auto created = get_ops(plexus);
  CHECK(created["revision"] == 1);
  CHECK(created["created_by"] == "system:bootstrap");

  // An operator's change survives the next start.
  auto headers = bearer(plexus.admin_token());
  headers.emplace("If-Match", "\"1\"");
  const json change{{"content", {{"driver", "sqlite"}, {"path", "/tmp/ops-moved.db"}, {"read_only", true}}}};
  auto client = plexus.client();
  const auto updated =
      client.Put("/api/v1/resources/datasource/ops", headers, change.dump(), "application/json");
  REQUIRE(updated);
  REQUIRE(updated->status == 200);
  REQUIRE(plexus.stop() == 0);
  plexus.restart();
  const auto kept = get_ops(plexus);
  CHECK(kept["revision"] == 2);
  CHECK(kept["content"]["path"] == "/tmp/ops-moved.db");
  REQUIRE(plexus.stop() == 0);
  const auto log = plexus::test::read_file(plexus.log_file());
  CHECK_THAT(
      log, Catch::Contains("ops.yaml: 1 created, 0 skipped (exist already), 1 skipped (unknown kind)") &&
               Catch::Contains("ops.yaml: 0 created, 1 skipped (exist already), 1 skipped (unknown kind)") &&
               Catch::Contains("skipped dashboard/home: no resource kind 'dashboard' is registered"));

  // A bundle that does not parse stops the start, naming the file and the line.
  bundles.write("zz-broken.yaml", "format: plexus-bundle/1\nresources: [\n");
  const auto failed = plexus::test::run_command(
      {plexus::test::plexusd_binary().string(), "--config", plexus::test::shipped_config().string(),
       "--data-dir", plexus.data.path().string(), "--port", "0", "--manifests", manifest_dir},
      "",
      {{"PLEXUS_RESOURCES__BOOTSTRAP", bundles.path().string()},
       {"PLEXUS_PLUGINS__WATCH", "false"},
       {"PLEXUS_LOG__FILE", plexus.log_file().string()}});
  CHECK(failed.exit_code == 1);
  CHECK_THAT(
      failed.err,
      Catch::Contains("resources.bootstrap: " + (bundles.path() / "zz-broken.yaml").string() + ": line 3"));
}
