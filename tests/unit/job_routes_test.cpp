// The job progress stream (GET /api/v1/jobs/{id}/events) through a Router, with a real
// job service running a handler that reports progress: events follow the job's state
// and progress, end with "finished" and close the stream. Other tenants get 404.
#include "kernel/app/job_routes.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "kernel/http/router.hpp"
#include "tests/support/postgres_db.hpp"
#include "tests/support/test_support.hpp"

using namespace std::chrono_literals;
using nlohmann::json;
using plexus::http::HttpError;
using plexus::http::Request;

namespace {

class RecordingStream final : public plexus::http::EventStream {
 public:
  bool send(std::string_view event, std::string_view data, std::string_view) override {
    std::lock_guard lock(mutex_);
    if (closed_) return false;
    events_.push_back({std::string(event), json::parse(data)});
    return true;
  }
  bool send_comment(std::string_view) override { return is_open(); }
  void close() override {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  bool is_open() const override {
    std::lock_guard lock(mutex_);
    return !closed_;
  }
  void on_close(std::function<void()>) override {}

  std::vector<std::pair<std::string, json>> events() const {
    std::lock_guard lock(mutex_);
    return events_;
  }

 private:
  mutable std::mutex mutex_;
  bool closed_ = false;
  std::vector<std::pair<std::string, json>> events_;
};

bool eventually(const std::function<bool()>& done) {
  const auto give_up = std::chrono::steady_clock::now() + 1min;
  while (!done()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

Request request_for(const plexus::http::Router& router, const std::string& path, const std::string& tenant) {
  const auto match = router.match("GET", path, plexus::http::Surface::api);
  REQUIRE(match.outcome == plexus::http::RouteMatch::Outcome::found);
  Request request;
  request.method = "GET";
  request.path = request.target = path;
  request.path_params = match.params;
  auto caller = std::make_shared<plexus::auth::Caller>();
  caller->kind = plexus::auth::CallerKind::user;
  caller->tenant = tenant;
  caller->name = "tester";
  caller->grants = {"*"};
  request.caller = caller;
  return request;
}

}  // namespace

TEST_CASE("the progress stream follows a running job until it finishes") {
  plexus::test::StoreBackend backend;
  plexus::test::TempDir dir;
  plexus::store::Database database{plexus::store::DatabaseOptions{backend.fresh_url(dir)}};
  plexus::audit::AuditLog audit(database);
  plexus::jobs::JobService jobs(database, {.worker = {.node_id = "node-a", .poll_interval = 5ms}});
  plexus::JobRoutes routes(jobs, audit, 5ms);
  plexus::http::Router router;
  routes.register_routes(router);

  std::promise<void> release;
  auto released = release.get_future().share();
  jobs.handle(
      "import",
      [released](plexus::jobs::JobContext& job) {
        job.progress(50, "half way");
        released.wait();
        return json{{"rows", 10}};
      },
      "test");
  jobs.start();
  const auto job = jobs.queue().enqueue({.kind = "import"});
  const auto path = "/api/v1/jobs/" + std::to_string(job.id) + "/events";

  auto request = request_for(router, path, "default");
  const auto response = router.match("GET", path, plexus::http::Surface::api).route->handler(request);
  REQUIRE(response.stream_started);
  auto stream = std::make_shared<RecordingStream>();
  response.stream_started(stream);

  auto saw = [&](const std::string& event, const std::function<bool(const json&)>& match) {
    for (const auto& [name, data] : stream->events())
      if (name == event && match(data)) return true;
    return false;
  };
  REQUIRE(eventually([&] {
    return saw("progress", [](const json& d) {
      return d["state"] == "running" && d["progress"] == 50 && d["message"] == "half way";
    });
  }));
  CHECK(stream->is_open());
  release.set_value();
  REQUIRE(eventually([&] { return !stream->is_open(); }));
  const auto events = stream->events();
  REQUIRE(events.size() >= 2);
  CHECK(events.back().first == "finished");
  CHECK(events.back().second["state"] == "succeeded");
  CHECK(events.back().second["result"] == json{{"rows", 10}});
  CHECK(events[events.size() - 2].second["state"] == "succeeded");  // the last progress event, too

  // Another tenant: the job does not exist there.
  auto foreign = request_for(router, path, "acme");
  try {
    router.match("GET", path, plexus::http::Surface::api).route->handler(foreign);
    FAIL("expected a 404");
  } catch (const HttpError& error) {
    CHECK(error.status() == 404);
  }
  jobs.stop();
}
