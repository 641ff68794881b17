// JobService: handlers registered and removed per owner while the worker runs, on
// SQLite and PostgreSQL. The waits only guard against a hang; nothing asserts timing.
#include "kernel/jobs/job_service.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <stdexcept>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/postgres_db.hpp"
#include "tests/support/test_support.hpp"
#include "tests/unit/manual_clock.hpp"

using namespace std::chrono_literals;
using nlohmann::json;
using plexus::jobs::JobContext;
using plexus::jobs::JobService;
using plexus::jobs::JobServiceOptions;
using plexus::jobs::JobState;
using plexus::store::Database;
using plexus::store::DatabaseOptions;

namespace {

struct Fixture {
  plexus::test::StoreBackend backend;
  plexus::test::TempDir dir;
  Database database{DatabaseOptions{backend.fresh_url(dir)}};
  plexus::test::ManualClock time;
  JobService service{
      database,
      JobServiceOptions{
          .worker = {.node_id = "node-a", .concurrency = 2, .poll_interval = 5ms, .claim_duration = 300ms},
          .max_attempts = 3,
          .queue = {.clock = time.clock(), .retry = {.base = 0ms, .jitter = 0.0}}}};

  JobState state_of(std::int64_t id) { return service.queue().get("default", id)->state; }

  static bool eventually(const std::function<bool()>& done) {
    const auto give_up = std::chrono::steady_clock::now() + 1min;
    while (!done()) {
      if (std::chrono::steady_clock::now() > give_up) return false;
      std::this_thread::sleep_for(5ms);
    }
    return true;
  }
};

}  // namespace

TEST_CASE("a running job service claims only kinds that have a handler, added at any time") {
  Fixture f;
  f.service.start();
  const auto job = f.service.queue().enqueue({.kind = "report.build", .payload = {{"n", 2}}});
  // No handler yet: it stays queued (an idle worker never takes jobs of every kind).
  std::this_thread::sleep_for(30ms);
  CHECK(f.state_of(job.id) == JobState::queued);

  REQUIRE(f.service.handle(
      "report.build",
      [](JobContext& c) {
        return json{{"twice", c.payload()["n"].get<int>() * 2}};
      },
      "reports"));
  REQUIRE(Fixture::eventually([&] { return f.state_of(job.id) == JobState::succeeded; }));
  CHECK(f.service.queue().get("default", job.id)->result == json{{"twice", 4}});
  CHECK(f.service.kinds() == std::vector<std::string>{"report.build"});
  REQUIRE(f.service.handlers().size() == 1);
  CHECK(f.service.handlers()[0].owner == "reports");
}

TEST_CASE("a kind belongs to one owner: the same owner replaces its handler") {
  Fixture f;
  f.service.start();
  CHECK(f.service.handle(
      "sync", [](JobContext&) { return json("first"); }, "plugin-a"));
  CHECK_FALSE(f.service.handle(
      "sync", [](JobContext&) { return json("other"); }, "plugin-b"));
  CHECK(f.service.handle(
      "sync", [](JobContext&) { return json("second"); }, "plugin-a"));
  CHECK_THROWS_AS(f.service.handle(
                      "", [](JobContext&) { return json(); }, "plugin-a"),
                  std::invalid_argument);
  CHECK_THROWS_AS(f.service.handle(
                      "x", [](JobContext&) { return json(); }, ""),
                  std::invalid_argument);
  CHECK_THROWS_AS(f.service.handle("x", nullptr, "plugin-a"), std::invalid_argument);
  const auto job = f.service.queue().enqueue({.kind = "sync"});
  REQUIRE(Fixture::eventually([&] { return f.state_of(job.id) == JobState::succeeded; }));
  CHECK(f.service.queue().get("default", job.id)->result == json("second"));
}

TEST_CASE("unhandle_owner waits for the owner's running handlers: afterwards none of them runs") {
  Fixture f;
  f.service.start();
  std::promise<void> started;
  std::promise<void> release;
  auto released = release.get_future().share();
  std::atomic<int> calls{0};
  REQUIRE(f.service.handle(
      "slow",
      [&, released](JobContext&) {
        if (calls++ == 0) started.set_value();
        released.wait();
        return json("done");
      },
      "plugin-a"));
  REQUIRE(f.service.handle(
      "other", [](JobContext&) { return json("other"); }, "plugin-b"));
  const auto running = f.service.queue().enqueue({.kind = "slow"});
  started.get_future().wait();

  std::atomic<bool> returned{false};
  std::size_t removed = 0;
  std::thread unloading([&] {
    removed = f.service.unhandle_owner("plugin-a");
    returned = true;
  });
  // The kind is gone for new claims at once, while its running job keeps the unload waiting.
  REQUIRE(Fixture::eventually(
      [&] { return f.service.kinds() == std::vector<std::string>{"other"} || returned; }));
  CHECK_FALSE(returned);
  release.set_value();
  unloading.join();
  CHECK(removed == 1);
  // The running job finished and was recorded before unhandle_owner returned.
  CHECK(f.state_of(running.id) == JobState::succeeded);
  const int calls_at_return = calls;
  // Other owners are untouched; the removed kind's new job waits for a handler.
  const auto waiting = f.service.queue().enqueue({.kind = "slow"});
  const auto other = f.service.queue().enqueue({.kind = "other"});
  REQUIRE(Fixture::eventually([&] { return f.state_of(other.id) == JobState::succeeded; }));
  CHECK(f.state_of(waiting.id) == JobState::queued);
  CHECK(calls == calls_at_return);
  CHECK(f.service.unhandle_owner("plugin-a") == 0);
}

TEST_CASE("unhandle_owner with a bound returns while a stuck handler still runs, the job ends later") {
  Fixture f;
  f.service.start();
  std::promise<void> started;
  std::promise<void> release;
  auto released = release.get_future().share();
  REQUIRE(f.service.handle(
      "stuck",
      [&, released](JobContext&) {
        started.set_value();
        released.wait();
        return json("late");
      },
      "plugin-a"));
  const auto job = f.service.queue().enqueue({.kind = "stuck"});
  started.get_future().wait();
  // Returns although the handler has not: an unload is never held up forever by one job.
  CHECK(f.service.unhandle_owner("plugin-a", 20ms) == 1);
  CHECK(f.service.kinds().empty());
  CHECK(f.state_of(job.id) == JobState::running);
  release.set_value();
  REQUIRE(Fixture::eventually([&] { return f.state_of(job.id) == JobState::succeeded; }));
}

TEST_CASE("a handler cannot unhandle its own owner (it would wait for itself)") {
  Fixture f;
  f.service.start();
  REQUIRE(f.service.handle(
      "self",
      [&](JobContext&) {
        try {
          f.service.unhandle_owner("plugin-a");
        } catch (const std::logic_error&) {
          return json("refused");
        }
        return json("removed");
      },
      "plugin-a"));
  const auto job = f.service.queue().enqueue({.kind = "self"});
  REQUIRE(Fixture::eventually([&] { return f.state_of(job.id) == JobState::succeeded; }));
  CHECK(f.service.queue().get("default", job.id)->result == json("refused"));
}

TEST_CASE("handlers registered while jobs are claimed concurrently run each job once") {
  Fixture f;
  f.service.start();
  std::atomic<int> runs{0};
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 20; ++i)
    ids.push_back(f.service.queue().enqueue({.kind = "k" + std::to_string(i % 4)}).id);
  for (int round = 0; round < 3; ++round) {
    for (int k = 0; k < 4; ++k) {
      f.service.handle(
          "k" + std::to_string(k),
          [&](JobContext&) {
            ++runs;
            return json();
          },
          "p" + std::to_string(k));
    }
    for (int k = 0; k < 4; ++k) f.service.unhandle_owner("p" + std::to_string(k));
  }
  for (int k = 0; k < 4; ++k)
    f.service.handle(
        "k" + std::to_string(k),
        [&](JobContext&) {
          ++runs;
          return json();
        },
        "p" + std::to_string(k));
  REQUIRE(Fixture::eventually([&] {
    for (const auto id : ids)
      if (f.state_of(id) != JobState::succeeded) return false;
    return true;
  }));
  CHECK(runs == 20);
}
