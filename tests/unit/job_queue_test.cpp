// The job queue in a real database: every storage case runs on SQLite and on
// PostgreSQL (tests/support/postgres_db.hpp), with a clock the test moves by hand.
#include "kernel/jobs/job_queue.hpp"

#include <chrono>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/postgres_db.hpp"
#include "tests/support/test_support.hpp"
#include "tests/unit/manual_clock.hpp"

using namespace std::chrono_literals;
using nlohmann::json;
using plexus::jobs::CancelOutcome;
using plexus::jobs::ClaimLost;
using plexus::jobs::Job;
using plexus::jobs::JobQueue;
using plexus::jobs::JobQueueOptions;
using plexus::jobs::JobRequest;
using plexus::jobs::JobState;
using plexus::jobs::RetryPolicy;
using plexus::store::Database;
using plexus::store::DatabaseOptions;

namespace {

// Exact delays: 10 s, 20 s, 40 s ... capped at 60 s.
RetryPolicy exact_backoff() { return {.base = 10s, .factor = 2.0, .max = 60s, .jitter = 0.0, .random = {}}; }

struct Fixture {
  plexus::test::StoreBackend backend;
  plexus::test::TempDir dir;
  std::string url = backend.fresh_url(dir);
  Database database{DatabaseOptions{url}};
  plexus::test::ManualClock time;
  JobQueue queue{database, JobQueueOptions{.clock = time.clock(), .retry = exact_backoff()}};

  Job enqueue(std::string kind, int priority = 0, int max_attempts = 3, std::string tenant = "default") {
    return queue.enqueue({.tenant = std::move(tenant),
                          .kind = std::move(kind),
                          .payload = {{"n", 1}},
                          .priority = priority,
                          .max_attempts = max_attempts,
                          .delay = 0ms});
  }
};

}  // namespace

TEST_CASE("retry delays grow exponentially up to the cap, and jitter only shortens them") {
  RetryPolicy policy = exact_backoff();
  CHECK(plexus::jobs::retry_delay(policy, 1) == 10s);
  CHECK(plexus::jobs::retry_delay(policy, 2) == 20s);
  CHECK(plexus::jobs::retry_delay(policy, 3) == 40s);
  CHECK(plexus::jobs::retry_delay(policy, 4) == 60s);
  CHECK(plexus::jobs::retry_delay(policy, 500) == 60s);

  policy.jitter = 0.5;
  policy.random = [] { return 0.5; };
  CHECK(plexus::jobs::retry_delay(policy, 2) == 15s);  // 20 s less a quarter
  policy.random = [] { return 0.0; };
  CHECK(plexus::jobs::retry_delay(policy, 2) == 20s);

  policy.factor = 0.5;
  CHECK_THROWS_AS(plexus::jobs::retry_delay(policy, 1), std::invalid_argument);
}

TEST_CASE("an enqueued job is stored with its request and read back per tenant") {
  Fixture f;
  const auto job = f.queue.enqueue({.tenant = "acme",
                                    .kind = "documents.parse",
                                    .payload = {{"file", "a.pdf"}},
                                    .priority = 5,
                                    .max_attempts = 4});
  CHECK(job.id > 0);
  CHECK(job.state == JobState::queued);
  CHECK(job.attempts == 0);
  CHECK(job.created_at == f.time.now());
  CHECK(job.next_attempt_at == f.time.now());

  const auto read = f.queue.get("acme", job.id);
  REQUIRE(read);
  CHECK(read->kind == "documents.parse");
  CHECK(read->payload == json{{"file", "a.pdf"}});
  CHECK(read->priority == 5);
  CHECK(read->max_attempts == 4);
  CHECK(read->result.is_null());
  CHECK_FALSE(read->started_at);

  CHECK_FALSE(f.queue.get("other", job.id));  // tenants see only their own jobs
  CHECK(f.queue.cancel("other", job.id) == CancelOutcome::not_found);

  CHECK_THROWS_AS(f.queue.enqueue({.kind = ""}), std::invalid_argument);
  CHECK_THROWS_AS(f.queue.enqueue({.kind = "x", .max_attempts = 0}), std::invalid_argument);
}

TEST_CASE(
    "jobs are claimed by priority, then due time, then age, only of the asked kinds and not before their "
    "delay") {
  Fixture f;
  const auto low = f.enqueue("a", 0);
  const auto high = f.enqueue("a", 10);
  const auto other_kind = f.enqueue("b", 100);
  const auto low_second = f.enqueue("a", 0);
  const auto delayed = f.queue.enqueue({.kind = "a", .priority = 50, .delay = 30s});

  std::vector<std::int64_t> order;
  while (auto job = f.queue.claim_next("node-a", 1min, {"a"})) order.push_back(job->id);
  CHECK(order == std::vector<std::int64_t>{high.id, low.id, low_second.id});

  f.time.advance(30s);
  const auto due = f.queue.claim_next("node-a", 1min, {"a"});
  REQUIRE(due);
  CHECK(due->id == delayed.id);

  const auto any = f.queue.claim_next("node-a", 1min);
  REQUIRE(any);
  CHECK(any->id == other_kind.id);
  CHECK_FALSE(f.queue.claim_next("node-a", 1min));
}

TEST_CASE("a claimed job records its node, attempt and claim, and keeps progress and result") {
  Fixture f;
  const auto queued = f.enqueue("report");
  const auto job = f.queue.claim_next("node-a", 30s);
  REQUIRE(job);
  CHECK(job->id == queued.id);
  CHECK(job->state == JobState::running);
  CHECK(job->attempts == 1);
  CHECK(job->claimed_by == "node-a");
  CHECK(job->started_at == f.time.now());
  CHECK(job->claim_expires_at == f.time.now() + 30s);

  CHECK_FALSE(f.queue.report_progress(job->claim(), 40, "page 4 of 10"));
  auto read = f.queue.get("default", job->id);
  CHECK(read->progress == 40);
  CHECK(read->progress_message == "page 4 of 10");
  CHECK_THROWS_AS(f.queue.report_progress(job->claim(), 101, ""), std::invalid_argument);

  f.time.advance(20s);
  CHECK_FALSE(f.queue.extend_claim(job->claim(), 30s));
  CHECK(f.queue.get("default", job->id)->claim_expires_at == f.time.now() + 30s);

  f.queue.complete(job->claim(), {{"pages", 10}});
  read = f.queue.get("default", job->id);
  CHECK(read->state == JobState::succeeded);
  CHECK(read->result == json{{"pages", 10}});
  CHECK(read->progress == 100);
  CHECK(read->progress_message == "page 4 of 10");
  CHECK(read->finished_at == f.time.now());
  CHECK_FALSE(read->claim_expires_at);

  CHECK_THROWS_AS(f.queue.complete(job->claim(), {}), ClaimLost);  // only once
  CHECK(f.queue.cancel("default", job->id) == CancelOutcome::already_finished);
}

TEST_CASE("a failing job is retried after exponential backoff and goes dead after max attempts, error kept") {
  Fixture f;
  const auto queued = f.enqueue("flaky", 0, 3);

  auto job = f.queue.claim_next("node-a", 1min);
  REQUIRE(job);
  CHECK(f.queue.fail(job->claim(), "timeout 1") == JobState::failed);
  auto read = f.queue.get("default", queued.id);
  CHECK(read->state == JobState::failed);
  CHECK(read->last_error == "timeout 1");
  CHECK(read->next_attempt_at == f.time.now() + 10s);
  CHECK_FALSE(read->finished_at);

  f.time.advance(9999ms);
  CHECK_FALSE(f.queue.claim_next("node-a", 1min));
  f.time.advance(1ms);
  job = f.queue.claim_next("node-a", 1min);
  REQUIRE(job);
  CHECK(job->attempts == 2);
  CHECK(f.queue.fail(job->claim(), "timeout 2") == JobState::failed);
  CHECK(f.queue.get("default", queued.id)->next_attempt_at == f.time.now() + 20s);

  f.time.advance(20s);
  job = f.queue.claim_next("node-b", 1min);
  REQUIRE(job);
  CHECK(job->attempts == 3);
  CHECK(f.queue.fail(job->claim(), "timeout 3") == JobState::dead);

  read = f.queue.get("default", queued.id);
  CHECK(read->state == JobState::dead);
  CHECK(read->attempts == 3);
  CHECK(read->last_error == "timeout 3");
  CHECK(read->claimed_by == "node-b");
  CHECK(read->finished_at == f.time.now());
  f.time.advance(1h);
  CHECK_FALSE(f.queue.claim_next("node-a", 1min));  // the dead letter is never taken again

  const auto dead = f.queue.list({.state = JobState::dead});
  REQUIRE(dead.items.size() == 1);
  CHECK(dead.items[0].id == queued.id);
}

TEST_CASE("cancelling a waiting job ends it at once, a running one is asked to stop") {
  Fixture f;
  const auto waiting = f.enqueue("a");
  CHECK(f.queue.cancel("default", waiting.id) == CancelOutcome::cancelled);
  CHECK(f.queue.get("default", waiting.id)->state == JobState::cancelled);
  CHECK_FALSE(f.queue.claim_next("node-a", 1min));

  const auto queued = f.enqueue("a");
  const auto running = f.queue.claim_next("node-a", 1min);
  REQUIRE(running);
  CHECK(f.queue.cancel("default", queued.id) == CancelOutcome::requested);
  CHECK(f.queue.get("default", queued.id)->state == JobState::running);

  SECTION("the worker sees the request through progress and extend, and its failure ends the job cancelled") {
    CHECK(f.queue.report_progress(running->claim(), 10, ""));
    CHECK(f.queue.extend_claim(running->claim(), 1min));
    CHECK(f.queue.fail(running->claim(), "cancelled on request") == JobState::cancelled);
    const auto read = f.queue.get("default", queued.id);
    CHECK(read->state == JobState::cancelled);
    CHECK(read->attempts == 1);  // cancelled, not retried
    CHECK(read->finished_at);
  }
  SECTION("a job that finishes despite the request keeps its result") {
    f.queue.complete(running->claim(), {{"done", true}});
    CHECK(f.queue.get("default", queued.id)->state == JobState::succeeded);
  }
}

TEST_CASE("a job whose node crashed is requeued when its claim expires, then retried and completed") {
  Fixture f;
  const auto queued = f.enqueue("backup", 0, 3);
  const auto crashed = f.queue.claim_next("node-a", 30s);
  REQUIRE(crashed);
  f.queue.report_progress(crashed->claim(), 50, "half way");
  // node-a dies here: no complete, no fail, no more extends.

  f.time.advance(29s);
  CHECK(f.queue.requeue_expired() == 0);
  CHECK_FALSE(f.queue.claim_next("node-b", 30s));  // still node-a's

  f.time.advance(1s);
  CHECK(f.queue.requeue_expired() == 1);
  auto read = f.queue.get("default", queued.id);
  CHECK(read->state == JobState::failed);
  CHECK(read->attempts == 1);
  CHECK(read->last_error.find("node-a") != std::string::npos);
  CHECK(read->next_attempt_at == f.time.now() + 10s);
  CHECK(f.queue.requeue_expired() == 0);

  f.time.advance(10s);
  const auto retry = f.queue.claim_next("node-b", 30s);
  REQUIRE(retry);
  CHECK(retry->id == queued.id);
  CHECK(retry->attempts == 2);
  CHECK(retry->progress == 0);  // progress belongs to an attempt

  // node-a comes back late: its attempt is no longer the job's, whatever it reports is refused.
  CHECK_THROWS_AS(f.queue.complete(crashed->claim(), {{"from", "node-a"}}), ClaimLost);
  CHECK_THROWS_AS(f.queue.fail(crashed->claim(), "late"), ClaimLost);
  CHECK_THROWS_AS(f.queue.extend_claim(crashed->claim(), 30s), ClaimLost);

  f.queue.complete(retry->claim(), {{"from", "node-b"}});
  read = f.queue.get("default", queued.id);
  CHECK(read->state == JobState::succeeded);
  CHECK(read->result == json{{"from", "node-b"}});
}

TEST_CASE("an expired claim on the last attempt sends the job to the dead letter") {
  Fixture f;
  const auto queued = f.enqueue("backup", 0, 1);
  REQUIRE(f.queue.claim_next("node-a", 30s));
  f.time.advance(31s);
  CHECK(f.queue.requeue_expired() == 1);
  const auto read = f.queue.get("default", queued.id);
  CHECK(read->state == JobState::dead);
  CHECK_FALSE(read->last_error.empty());
}

TEST_CASE("jobs are listed newest first with filters and paging, per tenant") {
  Fixture f;
  std::vector<std::int64_t> acme;
  for (int i = 0; i < 5; ++i) acme.push_back(f.enqueue(i % 2 == 0 ? "even" : "odd", 0, 3, "acme").id);
  f.enqueue("even", 0, 3, "globex");

  auto page = f.queue.list({.tenant = "acme", .limit = 2});
  REQUIRE(page.items.size() == 2);
  CHECK(page.items[0].id == acme[4]);
  CHECK(page.items[1].id == acme[3]);
  REQUIRE(page.next_cursor);
  page = f.queue.list({.tenant = "acme", .limit = 2, .before_id = page.next_cursor});
  CHECK(page.items.size() == 2);
  page = f.queue.list({.tenant = "acme", .limit = 2, .before_id = page.next_cursor});
  CHECK(page.items.size() == 1);
  CHECK_FALSE(page.next_cursor);

  CHECK(f.queue.list({.tenant = "acme", .kind = "even"}).items.size() == 3);
  CHECK(f.queue.list({.kind = "even"}).items.size() == 4);  // every tenant
  CHECK(f.queue.list({.tenant = "acme", .state = JobState::running}).items.empty());
  CHECK_THROWS_AS(f.queue.list({.limit = 0}), std::invalid_argument);
}

TEST_CASE("two nodes claiming at once from one database take 1,000 jobs and run each exactly once") {
  Fixture f;
  constexpr int kJobs = 1000;
  for (int i = 0; i < kJobs; ++i) f.enqueue("bulk");

  // Two nodes: each its own connection pool (on PostgreSQL, its own connections to the server).
  struct Node {
    std::string id;
    std::unique_ptr<Database> database;
    std::unique_ptr<JobQueue> queue;
    std::map<std::int64_t, int> runs;
    std::string error;
  };
  std::vector<Node> nodes(2);
  for (int i = 0; i < 2; ++i) {
    nodes[i].id = "node-" + std::to_string(i);
    nodes[i].database = std::make_unique<Database>(DatabaseOptions{.url = f.url, .pool_size = 2});
    nodes[i].queue = std::make_unique<JobQueue>(*nodes[i].database, JobQueueOptions{.clock = f.time.clock()});
  }
  std::vector<std::thread> threads;
  for (auto& node : nodes) {
    threads.emplace_back([&node] {
      try {
        while (auto job = node.queue->claim_next(node.id, 5min, {"bulk"})) {
          ++node.runs[job->id];
          node.queue->complete(job->claim(), {{"by", node.id}});
        }
      } catch (const std::exception& error) {
        node.error = error.what();
      }
    });
  }
  for (auto& thread : threads) thread.join();

  CHECK(nodes[0].error.empty());
  CHECK(nodes[1].error.empty());
  std::map<std::int64_t, int> runs;
  for (const auto& node : nodes) {
    for (const auto& [id, count] : node.runs) runs[id] += count;
  }
  CHECK(runs.size() == kJobs);
  int more_than_once = 0;
  for (const auto& [id, count] : runs) more_than_once += count == 1 ? 0 : 1;
  CHECK(more_than_once == 0);
  INFO("node-0 ran " << nodes[0].runs.size() << ", node-1 ran " << nodes[1].runs.size());
  CHECK(f.queue.list({.state = JobState::succeeded, .limit = 1000}).items.size() == kJobs);
  CHECK(f.queue.list({.state = JobState::queued}).items.empty());
}
