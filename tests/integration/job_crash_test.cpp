// Issue 6: a job survives a crash of the node running it. plexusd runs a plugin job
// (the probe's "hold_first": its first attempt works until the process dies), is
// killed with SIGKILL mid-job and started again on the same database: the job's
// claim expires, the restarted node takes it again and completes it. Retried, never
// lost, the lost attempt on record. On SQLite and PostgreSQL.
#include <chrono>
#include <functional>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/plexusd_process.hpp"
#include "tests/support/postgres_db.hpp"

using namespace std::chrono_literals;
using nlohmann::json;
using plexus::test::bearer;

namespace {

std::string probe_manifest() {
  const auto library = plexus::test::binary_dir() / "lib" / "plexus" / "test" / "libplexus_test_probe_a.so";
  return "name: probe-a\nlibrary: " + library.string() +
         "\nenabled: true\npermissions:\n  events: [probe-a.>]\n  services: [probe-a.>]\nconfig:\n  jobs: \"yes\"\n";
}

// Polls GET /api/v1/jobs/{id} until `done` holds (or a minute passes: a hang, not a timing check).
json job_when(plexus::test::Plexusd& plexus, const std::string& token, std::int64_t id,
              const std::function<bool(const json&)>& done) {
  auto client = plexus.client();
  json job;
  const auto give_up = std::chrono::steady_clock::now() + 1min;
  while (std::chrono::steady_clock::now() < give_up) {
    const auto answer = client.Get("/api/v1/jobs/" + std::to_string(id), bearer(token));
    if (answer && answer->status == 200) {
      job = json::parse(answer->body);
      if (done(job)) return job;
    }
    std::this_thread::sleep_for(20ms);
  }
  return job;
}

}  // namespace

TEST_CASE("kill -9 in the middle of a job: after the restart the job is retried and completed", "[jobs][crash]") {
  plexus::test::StoreBackend backend;
  plexus::test::TempDir dir;
  dir.write("manifests/probe-a.yaml", probe_manifest());
  // A short claim, so the restarted node does not wait a minute for the dead attempt's claim.
  plexus::test::Plexusd plexus({{"PLEXUS_STORE__URL", backend.fresh_url(dir)},
                                {"PLEXUS_PLUGINS__WATCH", "false"},
                                {"PLEXUS_JOBS__CLAIM_DURATION", "1500ms"},
                                {"PLEXUS_JOBS__POLL_INTERVAL", "100ms"}},
                               {"--manifests", (dir.path() / "manifests").string()});
  auto token = plexus.admin_token();
  auto client = plexus.client();
  const auto enqueued = client.Post("/api/v1/probe-a/jobs/probe-a.double?max_attempts=3", bearer(token),
                                    R"({"n":21,"hold_first":true})", "application/json");
  REQUIRE(enqueued);
  REQUIRE(enqueued->status == 200);
  const auto id = json::parse(enqueued->body)["id"].get<std::int64_t>();

  const auto holding = job_when(plexus, token, id, [](const json& job) {
    return job["state"] == "running" && job["progress_message"] == "holding";
  });
  REQUIRE(holding["state"] == "running");
  CHECK(holding["attempts"] == 1);

  plexus.kill();
  plexus.restart();
  token = plexus.admin_token();

  const auto finished = job_when(plexus, token, id, [](const json& job) { return job["finished_at"].is_string(); });
  INFO(finished.dump());
  REQUIRE(finished["state"] == "succeeded");
  CHECK(finished["attempts"] == 2);
  CHECK(finished["result"]["doubled"] == 42);
  CHECK(finished["result"]["job"]["attempts"] == 2);
  // The attempt the crash cut short is on record as the last failure.
  CHECK_FALSE(finished["last_error"].get<std::string>().empty());
}
