// Schedules and batches of runtime APIs through a running plexusd (issue 7 item 11, API-10),
// on SQLite and PostgreSQL datasources: a batch runs its items in order through the kernel's
// job queue, a failing item does not stop it, every item is a run in the execution log
// (caller batch:<job id>); a higher-priority batch enqueued later runs first on one worker;
// an "@every 1s" schedule runs the API (caller schedule:<name>) until it is deleted; bad
// input is refused naming the field; api.write and api.execute are needed; tenants are apart.
#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <thread>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/api_manager_fixture.hpp"
#include "tests/support/plexusd_process.hpp"
#include "tests/support/postgres_db.hpp"

using nlohmann::json;
using plexus::test::bearer;
using plexus::test::Plexusd;

using namespace plexus::test;  // NOLINT: the fixture's helpers

namespace {

const json kByRole = servers_by_role_api();

// An API whose run fails for some values and not others: the role comes out of a JSON
// document, and a document that is not JSON is an error of the database itself.
json by_document(const std::string& backend) {
  json api = kByRole;
  api["path"] = "ops/servers/by-document";
  api["sql"] = backend == "sqlite"
                   ? "SELECT id, name FROM servers WHERE role = json_extract(:doc, '$.role') ORDER BY id"
                   : "SELECT id, name FROM servers WHERE role = (CAST(:doc AS jsonb) ->> 'role') ORDER BY id";
  api["params"] = {
      {"type", "object"}, {"properties", {{"doc", {{"type", "string"}}}}}, {"required", {"doc"}}};
  return api;
}

std::map<std::string, std::string> one_worker() {
  return {{"PLEXUS_PLUGINS__WATCH", "false"},
          {"PLEXUS_JOBS__CONCURRENCY", "1"},
          {"PLEXUS_JOBS__POLL_INTERVAL", "100ms"}};
}

json get_json(httplib::Client& client, const std::string& token, const std::string& path,
              int expected = 200) {
  const auto got = answer_of(client.Get(path, bearer(token)));
  INFO(path << " -> " << got.status << " " << got.body.dump());
  REQUIRE(got.status == expected);
  return got.body;
}

Answer put(httplib::Client& client, const std::string& token, const std::string& path, const json& body) {
  return answer_of(client.Put(path, bearer(token), body.dump(), "application/json"));
}

// Waits (polling, up to a generous deadline) until `done` holds for the job, and returns it.
json wait_for_job(httplib::Client& client, const std::string& token, std::int64_t id,
                  const std::function<bool(const json&)>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  for (;;) {
    const auto job = get_json(client, token, "/api/v1/jobs/" + std::to_string(id));
    if (done(job)) return job;
    INFO(job.dump());
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

bool finished(const json& job) {
  const auto state = job["state"].get<std::string>();
  return state == "succeeded" || state == "dead" || state == "cancelled";
}

// The runs of `api` in the execution log made by `caller`, oldest first.
std::vector<json> runs_by(httplib::Client& client, const std::string& token, const std::string& api,
                          const std::string& caller) {
  const auto page = get_json(client, token, "/api/v1/api-manager/executions?api=" + api + "&limit=500");
  std::vector<json> out;
  for (const auto& run : page["items"]) {
    if (run["caller"] == caller) out.push_back(run);
  }
  std::reverse(out.begin(), out.end());
  return out;
}

std::int64_t enqueue_batch(httplib::Client& client, const std::string& token, const std::string& api,
                           const json& body) {
  const auto answer = answer_of(client.Post("/api/v1/api-manager/apis/" + api + "/batch", bearer(token),
                                            body.dump(), "application/json"));
  INFO(answer.body.dump());
  REQUIRE(answer.status == 202);
  const auto id = answer.body["job_id"].get<std::int64_t>();
  const auto location = answer.headers.find("Location");
  REQUIRE(location != answer.headers.end());
  CHECK(location->second == "/api/v1/jobs/" + std::to_string(id));
  return id;
}

std::string login_new_user(Plexusd& plexus, httplib::Client& client, const std::string& admin,
                           const std::string& name, const json& roles) {
  const std::string password = "Jobs-Test-Secret-71!x";  // never containing the username
  record_secret(password);
  post(client, admin, "/api/v1/admin/users", {{"username", name}, {"password", password}, {"roles", roles}},
       201);
  return plexus.login(name, password);
}

}  // namespace

TEST_CASE("batches run every item in order, report each one, and higher priorities first",
          "[api-manager][jobs][batch]") {
  const auto backend = plexus::test::each_store_backend();
  INFO("datasource database: " << backend);
  TempDir manifests, files;
  Plexusd plexus(one_worker(), {"--manifests", shipped_manifests(manifests, files.path())});
  const auto admin = plexus.admin_token();
  auto client = plexus.client();
  seed(client, admin, datasource_options(backend, files));
  define_api(client, admin, "by-document", by_document(backend));
  define_api(client, admin, "by-role", kByRole);

  // Three items, the second one failing in the database: the batch goes on, the job succeeds.
  const auto id = enqueue_batch(
      client, admin, "by-document",
      {{"items",
        {{{"doc", R"({"role":"web"})"}}, {{"doc", "this is not JSON"}}, {{"doc", R"({"role":"db"})"}}}}});
  const auto job = wait_for_job(client, admin, id, finished);
  INFO(job.dump());
  REQUIRE(job["state"] == "succeeded");
  CHECK(job["kind"] == "api-manager.run");
  CHECK(job["progress"] == 100);
  const auto& result = job["result"];
  CHECK(result["total"] == 3);
  CHECK(result["succeeded"] == 2);
  CHECK(result["failed"] == 1);
  REQUIRE(result["items"].size() == 3);
  CHECK(result["items"][0] == json{{"index", 0}, {"status", 200}, {"rows", 2}});
  CHECK(result["items"][1]["status"] == 502);
  CHECK(result["items"][1]["error_class"] == "datasource");
  CHECK(result["items"][2] == json{{"index", 2}, {"status", 200}, {"rows", 1}});
  // The job is readable by anyone with jobs.read: the database's own words stay out of it.
  CHECK(result.dump().find("JSON") == std::string::npos);

  const auto runs = runs_by(client, admin, "by-document", "batch:" + std::to_string(id));
  REQUIRE(runs.size() == 3);
  CHECK(runs[0]["status"] == 200);
  CHECK(runs[0]["rows"] == 2);
  CHECK(runs[0]["params"] == json{{"doc", R"({"role":"web"})"}});
  CHECK(runs[1]["status"] == 502);
  CHECK(runs[1]["error_class"] == "datasource");
  CHECK(runs[2]["rows"] == 1);
  CHECK(runs[2]["stage"] == "production");

  // Every item failing fails the job (one attempt: a batch is never run twice).
  const auto doomed = enqueue_batch(client, admin, "by-document",
                                    {{"items", {{{"doc", "not JSON"}}, {{"doc", "nor this"}}}}});
  const auto dead = wait_for_job(client, admin, doomed, finished);
  CHECK(dead["state"] == "dead");
  CHECK(dead["attempts"] == 1);
  CHECK(dead["last_error"].get<std::string>().find("all 2 items failed") != std::string::npos);
  CHECK(runs_by(client, admin, "by-document", "batch:" + std::to_string(doomed)).size() == 2);

  // Refused before anything runs: each bad item named by its index and field.
  auto refused = answer_of(client.Post(
      "/api/v1/api-manager/apis/by-document/batch", bearer(admin),
      json{{"items", {{{"doc", "{}"}}, {{"doc", 5}}, json::object()}}}.dump(), "application/json"));
  REQUIRE(refused.status == 400);
  CHECK(refused.body["error"]["code"] == "invalid_params");
  const auto& fields = refused.body["error"]["details"]["fields"];
  REQUIRE(fields.size() == 2);
  CHECK(fields[0]["index"] == 1);
  CHECK(fields[0]["field"] == "doc");
  CHECK(fields[1]["index"] == 2);
  CHECK(fields[1]["field"] == "doc");
  for (const auto& [body, field] : std::vector<std::pair<json, std::string>>{
           {json::object(), "items"},
           {{{"items", json::array()}}, "items"},
           {{{"items", {"role=web"}}}, "items/0"},
           {{{"items", {json::object()}}, {"priority", 5000}}, "priority"},
           {{{"items", {json::object()}}, {"stage", "canary"}}, "stage"},
           {{{"items", {json::object()}}, {"colour", "red"}}, "colour"}}) {
    refused = answer_of(client.Post("/api/v1/api-manager/apis/by-role/batch", bearer(admin), body.dump(),
                                    "application/json"));
    INFO(body.dump() << " -> " << refused.body.dump());
    CHECK(refused.status == 400);
    CHECK(refused.body["error"]["details"]["field"] == field);
  }
  json too_many = json::array();
  for (int i = 0; i < 10001; ++i) too_many.push_back({{"role", "web"}});
  refused = answer_of(client.Post("/api/v1/api-manager/apis/by-role/batch", bearer(admin),
                                  json{{"items", too_many}}.dump(), "application/json"));
  CHECK(refused.status == 400);
  CHECK(refused.body["error"]["details"]["field"] == "items");
  CHECK(answer_of(client.Post("/api/v1/api-manager/apis/nothing/batch", bearer(admin), R"({"items":[{}]})",
                              "application/json"))
            .status == 404);
  // A viewer may not run APIs, so may not batch them either.
  const auto viewer = login_new_user(plexus, client, admin, "vera", {"viewer"});
  refused = answer_of(client.Post("/api/v1/api-manager/apis/by-role/batch", bearer(viewer),
                                  R"({"items":[{"role":"web"}]})", "application/json"));
  CHECK(refused.status == 403);

  // Priorities on one worker: while a long batch keeps it busy, a low and then a high
  // priority batch are queued; once the long one is cancelled, the high one runs first.
  json long_items = json::array();
  for (int i = 0; i < 10000; ++i) long_items.push_back({{"doc", R"({"role":"web"})"}});
  const auto blocker = enqueue_batch(client, admin, "by-document", {{"items", long_items}});
  wait_for_job(client, admin, blocker, [](const json& j) { return j["state"] != "queued"; });
  const auto low = enqueue_batch(client, admin, "by-role",
                                 {{"items", {{{"role", "web"}}, {{"role", "db"}}}}, {"priority", -10}});
  const auto high = enqueue_batch(client, admin, "by-role",
                                  {{"items", {{{"role", "web"}}, {{"role", "db"}}}}, {"priority", 10}});
  CHECK(post(client, admin, "/api/v1/jobs/" + std::to_string(blocker) + "/cancel", json::object(),
             200)["outcome"] == "requested");
  CHECK(wait_for_job(client, admin, blocker, finished)["state"] == "cancelled");
  CHECK(wait_for_job(client, admin, low, finished)["state"] == "succeeded");
  CHECK(wait_for_job(client, admin, high, finished)["state"] == "succeeded");
  const auto low_runs = runs_by(client, admin, "by-role", "batch:" + std::to_string(low));
  const auto high_runs = runs_by(client, admin, "by-role", "batch:" + std::to_string(high));
  REQUIRE(low_runs.size() == 2);
  REQUIRE(high_runs.size() == 2);
  // Execution ids grow with time on this node: the last high run precedes the first low run.
  CHECK(high_runs.back()["id"].get<std::int64_t>() < low_runs.front()["id"].get<std::int64_t>());
  CHECK(plexus.stop() == 0);
}

TEST_CASE("schedules run an API until deleted, checked up front, per tenant and with permissions",
          "[api-manager][jobs][schedule]") {
  const auto backend = plexus::test::each_store_backend();
  INFO("datasource database: " << backend);
  TempDir manifests, files;
  Plexusd plexus({{"PLEXUS_PLUGINS__WATCH", "false"}, {"PLEXUS_JOBS__POLL_INTERVAL", "100ms"}},
                 {"--manifests", shipped_manifests(manifests, files.path())});
  const auto admin = plexus.admin_token();
  auto client = plexus.client();
  seed(client, admin, datasource_options(backend, files));
  define_api(client, admin, "by-role", kByRole);
  const std::string base = "/api/v1/api-manager/apis/by-role/schedules";

  // Refused up front, naming the field.
  for (const auto& [body, field] : std::vector<std::pair<json, std::string>>{
           {{{"params", {{"role", "db"}}}}, "cron"},
           {{{"cron", "61 * * * *"}, {"params", {{"role", "db"}}}}, "cron"},
           {{{"cron", "@every 1s"}, {"zone", "Mars/Olympus_Mons"}, {"params", {{"role", "db"}}}}, "zone"},
           {{{"cron", "@every 1s"}, {"params", {{"role", "db"}}}, {"priority", 1001}}, "priority"},
           {{{"cron", "@every 1s"}, {"params", "role=db"}}, "params"}}) {
    const auto refused = put(client, admin, base + "/every-second", body);
    INFO(body.dump() << " -> " << refused.body.dump());
    CHECK(refused.status == 400);
    CHECK(refused.body["error"]["details"]["field"] == field);
  }
  auto refused =
      put(client, admin, base + "/every-second", {{"cron", "@every 1s"}, {"params", {{"role", 7}}}});
  CHECK(refused.status == 400);
  CHECK(names_field(refused.body, "role"));
  refused = put(client, admin, base + "/every-second", {{"cron", "@every 1s"}});
  CHECK(refused.status == 400);
  CHECK(names_field(refused.body, "role"));
  CHECK(put(client, admin, base + "/bad.name", {{"cron", "@every 1s"}}).body["error"]["details"]["field"] ==
        "name");
  CHECK(put(client, admin, "/api/v1/api-manager/apis/nothing/schedules/x", {{"cron", "@daily"}}).status ==
        404);
  // Nothing was scheduled by the refusals.
  CHECK(get_json(client, admin, base)["items"].empty());

  // Permissions: api.write on the API to change schedules, and api.execute to run it.
  post(client, admin, "/api/v1/admin/roles",
       {{"name", "api-writer"},
        {"description", "edits APIs, runs none"},
        {"grants", {"api.read", "api.write"}}},
       201);
  const auto viewer = login_new_user(plexus, client, admin, "vic", {"viewer"});
  const auto writer = login_new_user(plexus, client, admin, "wes", {"api-writer"});
  const json every_second{{"cron", "@every 1s"}, {"params", {{"role", "db"}}}};
  refused = put(client, viewer, base + "/every-second", every_second);
  CHECK(refused.status == 403);
  refused = put(client, writer, base + "/every-second", every_second);
  CHECK(refused.status == 403);
  CHECK(refused.body["error"]["details"]["permission"] == "api.execute:by-role");

  auto created = put(client, admin, base + "/every-second", every_second);
  INFO(created.body.dump());
  REQUIRE(created.status == 201);
  CHECK(created.body["name"] == "every-second");
  CHECK(created.body["schedule"] == "api-manager.by-role.every-second");
  CHECK(created.body["cron"] == "@every 1s");
  CHECK(created.body["zone"] == "UTC");
  CHECK_FALSE(created.body["next_run_at"].is_null());
  CHECK(put(client, admin, base + "/every-second", every_second).status == 200);  // the same again
  auto listed = get_json(client, viewer, base);  // api.read is enough to see them
  REQUIRE(listed["items"].size() == 1);
  CHECK(listed["items"][0]["params"] == json{{"role", "db"}});
  // The kernel's schedule belongs to the plugin and enqueues its job kind.
  const auto kernel = get_json(client, admin, "/api/v1/schedules/api-manager.by-role.every-second");
  CHECK(kernel["owner"] == "api-manager");
  CHECK(kernel["job_kind"] == "api-manager.run");

  // Another tenant neither sees nor deletes it.
  const std::string acme_password = "Jobs-Acme-Pass-55!";
  record_secret(acme_password);
  post(
      client, admin, "/api/v1/admin/tenants",
      {{"id", "acme"}, {"name", "Acme"}, {"admin_username", "acme-admin"}, {"admin_password", acme_password}},
      201);
  const auto acme = plexus.login("acme-admin", acme_password, "acme");
  CHECK(answer_of(client.Get(base, bearer(acme))).status == 404);
  CHECK(answer_of(client.Delete(base + "/every-second", bearer(acme))).status == 404);
  CHECK(get_json(client, admin, base)["items"].size() == 1);

  // It runs, at least twice, each run in the execution log under its name.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::vector<json> runs;
  while ((runs = runs_by(client, admin, "by-role", "schedule:every-second")).size() < 2) {
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  for (const auto& run : runs) {
    CHECK(run["status"] == 200);
    CHECK(run["rows"] == 1);
    CHECK(run["params"] == json{{"role", "db"}});
  }

  // Deleted: the writer may (api.write), the schedule is gone here and in the kernel, and
  // once the jobs already queued have run, no more runs come.
  CHECK(answer_of(client.Delete(base + "/every-second", bearer(viewer))).status == 403);
  CHECK(answer_of(client.Delete(base + "/every-second", bearer(writer))).status == 204);
  CHECK(answer_of(client.Delete(base + "/every-second", bearer(admin))).status == 404);
  CHECK(get_json(client, admin, base)["items"].empty());
  get_json(client, admin, "/api/v1/schedules/api-manager.by-role.every-second", 404);
  auto jobs_of_kind = [&] {
    return get_json(client, admin, "/api/v1/jobs?kind=api-manager.run&limit=500")["items"];
  };
  const auto settle = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    const auto items = jobs_of_kind();
    if (std::none_of(items.begin(), items.end(), [](const json& j) { return !finished(j); })) break;
    REQUIRE(std::chrono::steady_clock::now() < settle);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  const auto jobs_before = jobs_of_kind().size();
  const auto runs_before = runs_by(client, admin, "by-role", "schedule:every-second").size();
  std::this_thread::sleep_for(std::chrono::seconds(3));  // three fire times of the deleted schedule
  CHECK(jobs_of_kind().size() == jobs_before);
  CHECK(runs_by(client, admin, "by-role", "schedule:every-second").size() == runs_before);
  CHECK(plexus.stop() == 0);
}
