// The jobs and schedules REST APIs through a running plexusd (issue 6): a schedule
// enqueues jobs of a kind nobody handles (so they wait, queued), which are then listed,
// inspected, streamed and cancelled; bad input, other tenants and missing permissions.
#include <chrono>
#include <set>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/plexusd_process.hpp"

using nlohmann::json;
using plexus::test::bearer;
using plexus::test::Plexusd;
using plexus::test::record_secret;

namespace {

template <class Condition>
bool eventually(Condition&& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

struct Reply {
  int status = 0;
  json body;
};

Reply call(const Plexusd& node, const std::string& method, const std::string& path, const std::string& token,
           const json& body = nullptr) {
  auto client = node.client();
  const auto text = body.is_null() ? std::string() : body.dump();
  auto result = method == "GET"    ? client.Get(path, bearer(token))
                : method == "PUT"  ? client.Put(path, bearer(token), text, "application/json")
                : method == "POST" ? client.Post(path, bearer(token), text, "application/json")
                                   : client.Delete(path, bearer(token));
  REQUIRE(result);
  Reply reply{result->status, nullptr};
  if (!result->body.empty()) reply.body = json::parse(result->body, nullptr, false);
  return reply;
}

}  // namespace

TEST_CASE("schedules and jobs over REST", "[jobs][schedules]") {
  Plexusd plexus(std::map<std::string, std::string>{{"PLEXUS_PLUGINS__WATCH", "false"}});
  const auto admin = plexus.admin_token();
  const std::string password = "Jobs-Rest-Users-Pass-3!";
  record_secret(password);
  REQUIRE(call(plexus, "POST", "/api/v1/admin/users", admin,
               {{"username", "jobs-viewer"}, {"password", password}, {"roles", {"viewer"}}})
              .status == 201);
  const auto viewer = plexus.login("jobs-viewer", password);
  REQUIRE(call(plexus, "POST", "/api/v1/admin/tenants", admin,
               {{"id", "other"},
                {"name", "Other"},
                {"admin_username", "other-admin"},
                {"admin_password", password}})
              .status == 201);
  const auto other = plexus.login("other-admin", password, "other");

  // Bad schedules: 400 naming the field.
  auto bad =
      call(plexus, "PUT", "/api/v1/schedules/tick", admin, {{"expression", "61 * * * *"}, {"job_kind", "k"}});
  CHECK(bad.status == 400);
  CHECK(bad.body["error"]["details"]["field"] == "expression");
  bad = call(plexus, "PUT", "/api/v1/schedules/tick", admin, {{"expression", "@every 1s"}});
  CHECK(bad.status == 400);
  CHECK(bad.body["error"]["details"]["field"] == "job_kind");
  bad = call(plexus, "PUT", "/api/v1/schedules/tick", admin,
             {{"expression", "@every 1s"}, {"job_kind", "k"}, {"time_zone", "Nowhere/Land"}});
  CHECK(bad.body["error"]["details"]["field"] == "time_zone");
  bad = call(plexus, "PUT", "/api/v1/schedules/tick", admin,
             {{"expression", "@every 1s"}, {"job_kind", "k"}, {"missed_runs", "sometimes"}});
  CHECK(bad.body["error"]["details"]["field"] == "missed_runs");
  bad = call(plexus, "PUT", "/api/v1/schedules/tick", admin,
             {{"expression", "@every 1s"}, {"job_kind", "k"}, {"colour", 1}});
  CHECK(bad.body["error"]["details"]["field"] == "colour");
  CHECK(call(plexus, "PUT", "/api/v1/schedules/bad%20name", admin,
             {{"expression", "@every 1s"}, {"job_kind", "k"}})
            .body["error"]["details"]["field"] == "name");
  // Viewers see but do not change.
  CHECK(
      call(plexus, "PUT", "/api/v1/schedules/tick", viewer, {{"expression", "@every 1s"}, {"job_kind", "k"}})
          .status == 403);

  // A schedule of a kind nothing handles: its jobs wait, queued.
  const json spec = {{"expression", "@every 1s"},
                     {"job_kind", "rest.test"},
                     {"payload", {{"target", "x"}}},
                     {"missed_runs", "skip"}};
  auto made = call(plexus, "PUT", "/api/v1/schedules/tick", admin, spec);
  REQUIRE(made.status == 201);
  CHECK(made.body["owner"] == "api");
  CHECK(made.body["singleton"] == true);
  CHECK(made.body["missed_runs"] == "skip");
  CHECK(made.body["next_runs"].size() == 5);
  CHECK(call(plexus, "PUT", "/api/v1/schedules/tick", admin, spec).status == 200);  // replaced
  auto one = call(plexus, "GET", "/api/v1/schedules/tick?next_runs=2", viewer);
  REQUIRE(one.status == 200);
  CHECK(one.body["next_runs"].size() == 2);
  CHECK(call(plexus, "GET", "/api/v1/schedules/tick?next_runs=x", viewer).status == 400);
  CHECK(call(plexus, "GET", "/api/v1/schedules", viewer).body["items"].size() == 1);
  CHECK(call(plexus, "GET", "/api/v1/schedules", other).body["items"].empty());
  CHECK(call(plexus, "GET", "/api/v1/schedules/tick", other).status == 404);

  json jobs;
  REQUIRE(eventually([&] {
    jobs = call(plexus, "GET", "/api/v1/jobs?kind=rest.test", viewer).body["items"];
    return jobs.size() >= 2;
  }));
  const auto job = jobs[0];
  CHECK(job["state"] == "queued");
  CHECK(job["payload"]["schedule"] == "tick");
  CHECK(job["payload"]["target"] == "x");
  CHECK(job["payload"].contains("scheduled_for"));

  CHECK(call(plexus, "POST", "/api/v1/schedules/tick/pause", admin).body["paused"] == true);
  CHECK(call(plexus, "POST", "/api/v1/schedules/tick/pause", viewer).status == 403);
  const auto id = std::to_string(job["id"].get<std::int64_t>());

  // Inspect, page, filter.
  CHECK(call(plexus, "GET", "/api/v1/jobs/" + id, viewer).body["kind"] == "rest.test");
  CHECK(call(plexus, "GET", "/api/v1/jobs/" + id, other).status == 404);  // another tenant's job
  CHECK(call(plexus, "GET", "/api/v1/jobs/999999", admin).status == 404);
  CHECK(call(plexus, "GET", "/api/v1/jobs/not-a-number", admin).status == 404);
  CHECK(call(plexus, "GET", "/api/v1/jobs", other).body["items"].empty());
  auto page = call(plexus, "GET", "/api/v1/jobs?limit=1", admin);
  REQUIRE(page.body["items"].size() == 1);
  REQUIRE(page.body["next_cursor"].is_string());
  auto next = call(plexus, "GET",
                   "/api/v1/jobs?limit=1&cursor=" + page.body["next_cursor"].get<std::string>(), admin);
  CHECK(next.body["items"][0]["id"].get<std::int64_t>() < page.body["items"][0]["id"].get<std::int64_t>());
  CHECK(call(plexus, "GET", "/api/v1/jobs?state=sleeping", admin).body["error"]["details"]["field"] ==
        "state");
  CHECK(call(plexus, "GET", "/api/v1/jobs?cursor=abc", admin).status == 400);
  CHECK(call(plexus, "GET", "/api/v1/jobs?tenant=*", other).status == 403);
  CHECK(call(plexus, "GET", "/api/v1/jobs?tenant=*&kind=rest.test", admin).body["items"].size() >= 2);
  CHECK(call(plexus, "GET", "/api/v1/jobs?state=queued&kind=rest.test", admin).body["items"].size() >= 2);
  CHECK(call(plexus, "GET", "/api/v1/jobs/kinds", admin).body["items"].is_array());

  // Cancel: viewers may not; another tenant gets 404; the admin cancels once, then 409.
  CHECK(call(plexus, "POST", "/api/v1/jobs/" + id + "/cancel", viewer).status == 403);
  CHECK(call(plexus, "POST", "/api/v1/jobs/" + id + "/cancel", other).status == 404);
  auto cancelled = call(plexus, "POST", "/api/v1/jobs/" + id + "/cancel", admin);
  REQUIRE(cancelled.status == 200);
  CHECK(cancelled.body["outcome"] == "cancelled");
  CHECK(cancelled.body["job"]["state"] == "cancelled");
  CHECK(call(plexus, "POST", "/api/v1/jobs/" + id + "/cancel", admin).status == 409);
  const auto audit = call(plexus, "GET", "/api/v1/admin/audit?action=job.cancel", admin).body["items"];
  std::multiset<std::string> outcomes;
  for (const auto& row : audit) {
    CHECK(row["target"] == "job/" + id);
    outcomes.insert(row["outcome"].get<std::string>());
  }
  CHECK(outcomes.count("success") == 1);  // the cancel; the 409 is recorded as a failure
  CHECK(outcomes.count("failure") == 1);
  CHECK(call(plexus, "GET", "/api/v1/admin/audit?action=schedule.", admin).body["items"].size() >= 3);

  // The progress stream of a finished job: its state, then the final event, then the end.
  auto client = plexus.client();
  auto stream = client.Get("/api/v1/jobs/" + id + "/events", bearer(viewer));
  REQUIRE(stream);
  CHECK(stream->status == 200);
  INFO(stream->body);
  CHECK(stream->body.find("event: progress") != std::string::npos);
  CHECK(stream->body.find("\"state\":\"cancelled\"") != std::string::npos);
  CHECK(stream->body.find("event: finished") != std::string::npos);
  CHECK(call(plexus, "GET", "/api/v1/jobs/" + id + "/events", other).status == 404);

  // Resume, delete.
  CHECK(call(plexus, "POST", "/api/v1/schedules/tick/resume", admin).body["paused"] == false);
  CHECK(call(plexus, "DELETE", "/api/v1/schedules/tick", viewer).status == 403);
  CHECK(call(plexus, "DELETE", "/api/v1/schedules/tick", admin).status == 204);
  CHECK(call(plexus, "DELETE", "/api/v1/schedules/tick", admin).status == 404);
  CHECK(call(plexus, "GET", "/api/v1/schedules/tick", admin).status == 404);
  CHECK(call(plexus, "POST", "/api/v1/schedules/tick/resume", admin).status == 404);
  CHECK(plexus.stop() == 0);
}
