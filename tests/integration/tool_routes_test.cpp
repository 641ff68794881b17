// Tools over REST and for plugins (issue 6, items 5-6; docs/tools.md), through the
// real plexusd with the probe plugin: listing, input validation against the tool's
// schema, the tool's permission for the HTTP caller, the caller the tool sees, an
// ABI 1.0 tool, failures, timeouts, audit, plus the other ABI 1.4 members (tool_call
// for a caller, cluster_leader, queued subscriptions, jobs and schedules) and
// GET /api/v1/admin/services.
#include <chrono>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "sdk/include/plexus/abi.h"
#include "tests/support/plexusd_process.hpp"

using plexus::test::bearer;
using plexus::test::Plexusd;

namespace {

std::string probe_manifest(const std::filesystem::path& release) {
  const auto library = plexus::test::binary_dir() / "lib" / "plexus" / "test" / "libplexus_test_probe_a.so";
  return "name: probe-a\nlibrary: " + library.string() +
         "\nenabled: true\npermissions:\n  events: [probe-a.>]\n  services: [probe-a.>]\nconfig:\n  tools: "
         "\"yes\"\n  jobs: \"yes\"\n"
         "  release_file: " +
         release.string() + "\n";
}

nlohmann::json body_of(const httplib::Result& result) { return nlohmann::json::parse(result->body); }

}  // namespace

TEST_CASE("tools: listed, validated, authorised for the HTTP caller, audited", "[plugins][tools]") {
  plexus::test::TempDir dir;
  const auto release = dir.path() / "release";
  dir.write("manifests/probe-a.yaml", probe_manifest(release));
  Plexusd plexus({{"PLEXUS_PLUGINS__WATCH", "false"}, {"PLEXUS_PLUGINS__TOOL_CALL_TIMEOUT", "500ms"}},
                 {"--manifests", (dir.path() / "manifests").string()});
  const auto admin = plexus.admin_token();
  auto client = plexus.client();
  const std::string password = "Gamma-Kite-Lantern-31!";
  plexus::test::record_secret(password);
  const nlohmann::json viewer{{"username", "tool-viewer"}, {"password", password}, {"roles", {"viewer"}}};
  REQUIRE(client.Post("/api/v1/admin/users", bearer(admin), viewer.dump(), "application/json")->status ==
          201);
  const auto viewer_token = plexus.login("tool-viewer", password);
  auto call = [&](const std::string& token, const std::string& tool, const std::string& input) {
    return client.Post("/api/v1/tools/" + tool + "/call", bearer(token), input, "application/json");
  };

  // The registry, with each tool's schema, plugin and permission.
  CHECK(client.Get("/api/v1/tools")->status == 401);
  auto listed = client.Get("/api/v1/tools", bearer(viewer_token));
  REQUIRE(listed->status == 200);
  std::map<std::string, nlohmann::json> tools;
  const auto listing = body_of(listed);  // a range-for over a temporary's member would dangle
  for (const auto& item : listing["items"]) tools[item["name"].get<std::string>()] = item;
  REQUIRE(tools.count("probe-a.whoami") == 1);
  CHECK(tools["probe-a.whoami"]["plugin"] == "probe-a");
  CHECK(tools["probe-a.whoami"]["input_schema"]["properties"]["n"]["type"] == "integer");
  CHECK(tools["probe-a.whoami"]["permission"] == "authenticated");
  CHECK(tools["probe-a.guarded"]["permission"] == "probe.secret.use");
  CHECK(tools["probe-a.old"]["permission"] == "tools.execute:probe-a.old");
  CHECK(client.Get("/api/v1/tools/probe-a.whoami", bearer(viewer_token))->status == 200);
  CHECK(client.Get("/api/v1/tools/nope", bearer(viewer_token))->status == 404);

  // The tool sees the HTTP caller: tenant, name, kind, and asks the host about it.
  auto seen = call(viewer_token, "probe-a.whoami", R"({"n":7})");
  REQUIRE(seen->status == 200);
  CHECK(body_of(seen)["tenant"] == "default");
  CHECK(body_of(seen)["name"] == "tool-viewer");
  CHECK(body_of(seen)["kind"] == "user");
  CHECK(body_of(seen)["may_read_audit"] == false);
  CHECK(body_of(seen)["input"] == nlohmann::json{{"n", 7}});
  CHECK(body_of(call(admin, "probe-a.whoami", "{}"))["may_read_audit"] == true);

  // Input checked against the schema first, the failing field named.
  auto wrong_type = call(viewer_token, "probe-a.whoami", R"({"n":"seven"})");
  CHECK(wrong_type->status == 400);
  CHECK(body_of(wrong_type)["error"]["details"]["field"] == "/n");
  auto extra = call(viewer_token, "probe-a.whoami", R"({"m":1})");
  CHECK(extra->status == 400);
  CHECK(body_of(extra)["error"]["details"]["field"] == "/m");
  CHECK(call(viewer_token, "probe-a.whoami", "{not json")->status == 400);

  // The tool's permission, for this caller.
  CHECK(call(viewer_token, "probe-a.guarded", "{}")->status == 403);
  CHECK(body_of(call(admin, "probe-a.guarded", "{}"))["secret"] == 42);
  CHECK(client.Post("/api/v1/tools/probe-a.whoami/call", "{}", "application/json")->status == 401);
  CHECK(call(admin, "probe-a.nope", "{}")->status == 404);

  // An ABI 1.0 handler cannot see the caller, so it needs tools.execute:<name>.
  CHECK(call(viewer_token, "probe-a.old", R"({"a":1})")->status == 403);
  auto old = call(admin, "probe-a.old", R"({"a":1})");
  REQUIRE(old->status == 200);
  CHECK(body_of(old)["echo"]["a"] == 1);

  // A tool's refusal reaches the caller; a failure does not leak its details.
  auto refused = call(viewer_token, "probe-a.refuse", "{}");
  CHECK(refused->status == 400);
  CHECK_THAT(refused->body, Catch::Contains("the probe refuses this input"));
  auto failed = call(viewer_token, "probe-a.fail", "{}");
  CHECK(failed->status == 502);
  CHECK_THAT(failed->body, !Catch::Contains("/etc/secret"));

  // A tool that does not answer in time is a 504; the server keeps serving meanwhile.
  auto slow = call(viewer_token, "probe-a.slow", "{}");
  CHECK(slow->status == 504);
  CHECK(client.Get("/api/v1/tools", bearer(viewer_token))->status == 200);
  dir.write("release", "go");
  CHECK(client.Get("/api/v1/probe-a/generation")->status == 200);

  // Audited: tool, caller and outcome, never the input.
  auto rows = client.Get("/api/v1/admin/audit?action=tool.call&limit=100", bearer(admin));
  REQUIRE(rows->status == 200);
  bool saw_denied = false, saw_success = false;
  const auto audit_rows = body_of(rows);
  for (const auto& row : audit_rows["items"]) {
    CHECK_THAT(row.dump(), !Catch::Contains("seven"));
    if (row["target"] == "tool/probe-a.guarded" && row["outcome"] == "denied") saw_denied = true;
    if (row["target"] == "tool/probe-a.whoami" && row["outcome"] == "success" &&
        row["actor"] == "user:tool-viewer") {
      saw_success = true;
    }
  }
  CHECK(saw_denied);
  CHECK(saw_success);
  const auto metrics = client.Get("/metrics")->body;
  CHECK_THAT(metrics, Catch::Contains(R"(plexus_tool_calls_total{tool="probe-a.whoami",outcome="ok"})"));
  CHECK_THAT(metrics, Catch::Contains(R"(plexus_tool_calls_total{tool="probe-a.slow",outcome="timeout"})"));
  CHECK(plexus.stop() == 0);
}

TEST_CASE("ABI 1.4: tool_call for a caller, cluster_leader, queued subscriptions, services",
          "[plugins][abi]") {
  plexus::test::TempDir dir;
  dir.write("manifests/probe-a.yaml", probe_manifest(dir.path() / "release"));
  Plexusd plexus({{"PLEXUS_PLUGINS__WATCH", "false"}}, {"--manifests", (dir.path() / "manifests").string()});
  const auto admin = plexus.admin_token();
  auto client = plexus.client();
  const std::string password = "Gamma-Kite-Lantern-32!";
  plexus::test::record_secret(password);
  const nlohmann::json viewer{{"username", "abi-viewer"}, {"password", password}, {"roles", {"viewer"}}};
  REQUIRE(client.Post("/api/v1/admin/users", bearer(admin), viewer.dump(), "application/json")->status ==
          201);
  const auto viewer_token = plexus.login("abi-viewer", password);

  // A plugin calling a tool for its caller gets that caller's permissions, not its own.
  auto via =
      client.Post("/api/v1/probe-a/call-tool/probe-a.whoami", bearer(viewer_token), "{}", "application/json");
  REQUIRE(via->status == 200);
  CHECK(body_of(via)["name"] == "abi-viewer");
  auto denied = client.Post("/api/v1/probe-a/call-tool/probe-a.guarded", bearer(viewer_token), "{}",
                            "application/json");
  CHECK(denied->status == 400);
  CHECK(body_of(denied)["status"] == PLEXUS_ERR_DENIED);
  auto invalid = client.Post("/api/v1/probe-a/call-tool/probe-a.whoami", bearer(viewer_token), R"({"n":"x"})",
                             "application/json");
  CHECK(body_of(invalid)["status"] == PLEXUS_ERR_INVALID);
  CHECK_THAT(body_of(invalid)["message"].get<std::string>(), Catch::Contains("/n"));
  CHECK(client.Post("/api/v1/probe-a/call-tool/probe-a.guarded", bearer(admin), "{}", "application/json")
            ->status == 200);

  // cluster_leader: a single node takes the lease soon after it starts.
  nlohmann::json leader;
  for (int i = 0; i < 300; ++i) {
    leader = body_of(client.Get("/api/v1/probe-a/leader", bearer(viewer_token)));
    if (leader["leader"] == true) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(leader["leader"] == true);
  CHECK(leader["status"]["leader"] == true);
  CHECK(leader["status"]["node_id"].is_string());
  CHECK(leader["status"]["leader_node"] == leader["status"]["node_id"]);

  // event_subscribe_queued: bad options are refused, naming what is wrong.
  auto subscribe = [&](const std::string& options) {
    return client.Post("/api/v1/probe-a/subscribe-queued", bearer(viewer_token), options, "application/json");
  };
  CHECK(subscribe(R"({"capacity":10,"lanes":2,"overflow":"drop_oldest"})")->status == 200);
  CHECK(subscribe("")->status == 200);
  auto sideways = subscribe(R"({"overflow":"sideways"})");
  CHECK(sideways->status == 400);
  CHECK_THAT(sideways->body, Catch::Contains("overflow"));
  CHECK_THAT(subscribe(R"({"capacity":0})")->body, Catch::Contains("capacity"));
  CHECK_THAT(subscribe(R"({"lanes":1000})")->body, Catch::Contains("lanes"));
  CHECK_THAT(subscribe(R"({"colour":"red"})")->body, Catch::Contains("unknown option"));
  CHECK(body_of(subscribe("[1]"))["status"] == PLEXUS_ERR_INVALID);

  // The services registry, for administrators.
  CHECK(client.Get("/api/v1/admin/services", bearer(viewer_token))->status == 403);
  auto services = client.Get("/api/v1/admin/services", bearer(admin));
  REQUIRE(services->status == 200);
  CHECK(body_of(services)["items"].dump() == R"([{"name":"probe-a.echo","plugin":"probe-a"}])");
  CHECK(plexus.stop() == 0);
}

TEST_CASE("ABI 1.4: a plugin handles, enqueues and reads jobs and keeps schedules of its own",
          "[plugins][jobs]") {
  plexus::test::TempDir dir;
  dir.write("manifests/probe-a.yaml", probe_manifest(dir.path() / "release"));
  Plexusd plexus({{"PLEXUS_PLUGINS__WATCH", "false"}}, {"--manifests", (dir.path() / "manifests").string()});
  const auto admin = plexus.admin_token();
  auto client = plexus.client();
  auto post = [&](const std::string& path, const std::string& body) {
    return client.Post(path, bearer(admin), body, "application/json");
  };
  // Waits until the job has finished, one way or the other.
  auto finished = [&](std::int64_t id) {
    nlohmann::json job;
    for (int i = 0; i < 600; ++i) {
      job = body_of(client.Get("/api/v1/probe-a/job/" + std::to_string(id), bearer(admin)));
      if (job["finished_at"].is_string()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return job;
  };

  auto queued = post("/api/v1/probe-a/jobs/probe-a.double", R"({"n":21})");
  REQUIRE(queued->status == 200);
  auto done = finished(body_of(queued)["id"].get<std::int64_t>());
  CHECK(done["state"] == "succeeded");
  CHECK(done["result"]["doubled"] == 42);
  CHECK(done["result"]["job"]["tenant"] == "default");
  CHECK(done["result"]["job"]["kind"] == "probe-a.double");
  CHECK(done["tenant"] == "default");

  auto failing = post("/api/v1/probe-a/jobs/probe-a.double", R"({"fail":true})");
  auto dead = finished(body_of(failing)["id"].get<std::int64_t>());
  CHECK(dead["state"] == "dead");
  CHECK(dead["last_error"] == "asked to fail");

  // Kinds outside the manifest's permissions.jobs are refused; unknown ids are not found.
  auto other = post("/api/v1/probe-a/jobs/backup.run", "{}");
  CHECK(body_of(other)["status"] == PLEXUS_ERR_DENIED);
  CHECK(body_of(client.Get("/api/v1/probe-a/job/999999", bearer(admin)))["status"] == PLEXUS_ERR_NOT_FOUND);

  // After a reload the new generation handles the kind.
  REQUIRE(post("/api/v1/admin/plugins/probe-a/reload", "")->status == 200);
  auto again = post("/api/v1/probe-a/jobs/probe-a.double", R"({"n":1})");
  CHECK(finished(body_of(again)["id"].get<std::int64_t>())["result"]["doubled"] == 2);

  // Schedules owned by the plugin, checked like PUT /api/v1/schedules/{name}.
  auto put = [&](const std::string& name, const std::string& spec) {
    return client.Put("/api/v1/probe-a/schedules/" + name, bearer(admin), spec, "application/json");
  };
  auto nightly =
      put("nightly", R"({"expression":"0 3 * * *","job_kind":"probe-a.double","payload":{"n":2}})");
  REQUIRE(nightly->status == 200);
  CHECK(body_of(nightly)["owner"] == "probe-a");
  CHECK(body_of(nightly)["next_runs"].size() == 5);
  auto listed = client.Get("/api/v1/schedules", bearer(admin));
  CHECK_THAT(listed->body, Catch::Contains(R"("owner":"probe-a")"));
  auto bad = put("broken", R"({"expression":"every tuesday","job_kind":"probe-a.double"})");
  CHECK(body_of(bad)["status"] == PLEXUS_ERR_INVALID);
  CHECK_THAT(body_of(bad)["message"].get<std::string>(), Catch::Contains("expression"));
  CHECK(body_of(put("foreign", R"({"expression":"@hourly","job_kind":"backup.run"})"))["status"] ==
        PLEXUS_ERR_DENIED);
  CHECK_THAT(
      body_of(put("extra", R"({"expression":"@hourly","job_kind":"probe-a.double","colour":1})"))["message"]
          .get<std::string>(),
      Catch::Contains("colour"));
  // A schedule someone else made is not the plugin's to change.
  REQUIRE(client
              .Put("/api/v1/schedules/theirs", bearer(admin), R"({"expression":"@hourly","job_kind":"x.y"})",
                   "application/json")
              ->status == 201);
  CHECK(body_of(put("theirs", R"({"expression":"@daily","job_kind":"probe-a.double"})"))["status"] ==
        PLEXUS_ERR_CONFLICT);
  CHECK(body_of(client.Delete("/api/v1/probe-a/schedules/theirs", bearer(admin)))["status"] ==
        PLEXUS_ERR_NOT_FOUND);
  CHECK(client.Delete("/api/v1/probe-a/schedules/nightly", bearer(admin))->status == 200);
  CHECK(body_of(client.Delete("/api/v1/probe-a/schedules/nightly", bearer(admin)))["status"] ==
        PLEXUS_ERR_NOT_FOUND);
  CHECK(plexus.stop() == 0);
}
