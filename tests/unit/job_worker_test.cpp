// The worker pool running jobs from a real database, on SQLite and PostgreSQL
// (tests/support/postgres_db.hpp). Queue time is a clock the test moves by hand;
// the waits below only guard against a hang, they assert no timing.
#include "kernel/jobs/job_worker.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/postgres_db.hpp"
#include "tests/support/test_support.hpp"
#include "tests/unit/manual_clock.hpp"

using namespace std::chrono_literals;
using nlohmann::json;
using plexus::jobs::JobContext;
using plexus::jobs::JobQueue;
using plexus::jobs::JobQueueOptions;
using plexus::jobs::JobState;
using plexus::jobs::JobWorker;
using plexus::jobs::JobWorkerOptions;
using plexus::store::Database;
using plexus::store::DatabaseOptions;

namespace {

struct Fixture {
  plexus::test::StoreBackend backend;
  plexus::test::TempDir dir;
  Database database{DatabaseOptions{backend.fresh_url(dir)}};
  plexus::test::ManualClock time;
  // Retries at once: these tests are about who runs a job, not when.
  JobQueue queue{database, JobQueueOptions{.clock = time.clock(), .retry = {.base = 0ms, .jitter = 0.0}}};

  JobWorkerOptions options(std::string node) {
    return {.node_id = std::move(node), .concurrency = 2, .poll_interval = 5ms, .claim_duration = 300ms};
  }

  JobState state_of(std::int64_t id) { return queue.get("default", id)->state; }

  // Polls until `done`; false after a minute, which only a hang would take.
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

TEST_CASE("the worker runs jobs of its kinds, keeping results and errors, and leaves other kinds queued") {
  Fixture f;
  JobWorker worker(f.queue, f.options("node-a"));
  worker.handle("sum", [](JobContext& job) {
    job.progress(50, "adding");
    return json{{"sum", job.payload()["a"].get<int>() + job.payload()["b"].get<int>()}};
  });
  worker.handle("broken", [](JobContext&) -> json { throw std::runtime_error("disk full"); });

  const auto sum = f.queue.enqueue({.kind = "sum", .payload = {{"a", 2}, {"b", 3}}});
  const auto broken = f.queue.enqueue({.kind = "broken", .max_attempts = 2});
  const auto foreign = f.queue.enqueue({.kind = "someone-else"});
  worker.start();

  REQUIRE(Fixture::eventually(
      [&] { return f.state_of(sum.id) == JobState::succeeded && f.state_of(broken.id) == JobState::dead; }));
  worker.stop();

  const auto done = f.queue.get("default", sum.id);
  CHECK(done->result == json{{"sum", 5}});
  CHECK(done->progress_message == "adding");
  CHECK(done->claimed_by == "node-a");
  const auto dead = f.queue.get("default", broken.id);
  CHECK(dead->attempts == 2);
  CHECK(dead->last_error == "disk full");
  CHECK(f.state_of(foreign.id) == JobState::queued);
}

TEST_CASE("cancelling a running job reaches its handler, which stops, and the job ends cancelled") {
  Fixture f;
  std::atomic<bool> started{false};
  JobWorker worker(f.queue, f.options("node-a"));
  worker.handle("endless", [&](JobContext& job) -> json {
    started = true;
    while (true) {
      job.throw_if_cancelled();
      std::this_thread::sleep_for(2ms);
    }
  });
  const auto endless = f.queue.enqueue({.kind = "endless", .max_attempts = 5});
  worker.start();
  REQUIRE(Fixture::eventually([&] { return started.load(); }));

  CHECK(f.queue.cancel("default", endless.id) == plexus::jobs::CancelOutcome::requested);
  // The keeper, extending the claim, brings the request to the handler.
  REQUIRE(Fixture::eventually([&] { return f.state_of(endless.id) == JobState::cancelled; }));
  const auto read = f.queue.get("default", endless.id);
  CHECK(read->attempts == 1);
  CHECK(read->last_error == "cancelled on request");
}

TEST_CASE("a job abandoned by a crashed node is requeued by a live worker and completed, never lost") {
  Fixture f;
  const auto job = f.queue.enqueue({.kind = "import", .payload = {{"rows", 7}}, .max_attempts = 3});
  {
    // node-a takes the job, then its process dies: nothing completes or extends the claim.
    const auto claimed = f.queue.claim_next("node-a", 30s, {"import"});
    REQUIRE(claimed);
    REQUIRE(claimed->id == job.id);
  }
  f.time.advance(31s);

  JobWorker worker(f.queue, f.options("node-b"));
  worker.handle("import", [](JobContext& context) { return json{{"imported", context.payload()["rows"]}}; });
  worker.start();
  REQUIRE(Fixture::eventually([&] { return f.state_of(job.id) == JobState::succeeded; }));
  worker.stop();

  const auto read = f.queue.get("default", job.id);
  CHECK(read->attempts == 2);
  CHECK(read->claimed_by == "node-b");
  CHECK(read->result == json{{"imported", 7}});
  CHECK(read->last_error.find("node-a") != std::string::npos);  // the lost attempt is on record
}

TEST_CASE("stopping the worker waits for the running job to finish and records its result") {
  Fixture f;
  std::atomic<bool> started{false}, release{false};
  JobWorker worker(f.queue, f.options("node-a"));
  worker.handle("slow", [&](JobContext&) {
    started = true;
    while (!release) std::this_thread::sleep_for(1ms);
    return json{{"finished", true}};
  });
  const auto slow = f.queue.enqueue({.kind = "slow"});
  worker.start();
  REQUIRE(Fixture::eventually([&] { return started.load(); }));

  // Usually stop() is already waiting when the handler is released; either order must end the same.
  std::thread releaser([&] {
    std::this_thread::sleep_for(50ms);
    release = true;
  });
  worker.stop();
  releaser.join();

  const auto read = f.queue.get("default", slow.id);
  CHECK(read->state == JobState::succeeded);
  CHECK(read->result == json{{"finished", true}});
}

TEST_CASE("the worker refuses bad options and handler registrations") {
  Fixture f;
  CHECK_THROWS_AS(JobWorker(f.queue, {.node_id = ""}), std::invalid_argument);
  CHECK_THROWS_AS(JobWorker(f.queue, {.node_id = "n", .concurrency = 0}), std::invalid_argument);
  JobWorker worker(f.queue, f.options("node-a"));
  worker.handle("a", [](JobContext&) { return json(); });
  CHECK_THROWS_AS(worker.handle("a", [](JobContext&) { return json(); }), std::invalid_argument);
  CHECK_THROWS_AS(worker.handle("", [](JobContext&) { return json(); }), std::invalid_argument);
  CHECK_THROWS_AS(worker.handle("b", nullptr), std::invalid_argument);
  worker.start();
  CHECK_THROWS_AS(worker.start(), std::logic_error);
  worker.handle("b", [](JobContext&) { return json(); });  // while running is fine
  CHECK(worker.kinds() == std::vector<std::string>{"a", "b"});
  CHECK(worker.unhandle("a"));
  CHECK_FALSE(worker.unhandle("a"));
  CHECK(worker.kinds() == std::vector<std::string>{"b"});
}
