// The scheduler service on SQLite and PostgreSQL: fire times, pause and resume, next
// runs, missed runs after a simulated three-day downtime, and exactly one fire per tick
// when two schedulers both act as leader. Time is a clock the test moves by hand: ticks
// are called directly, nothing sleeps for them.
#include "kernel/schedule/scheduler.hpp"

#include <atomic>
#include <set>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "kernel/jobs/job_queue.hpp"
#include "tests/support/postgres_db.hpp"
#include "tests/support/test_support.hpp"
#include "tests/unit/manual_clock.hpp"

using namespace std::chrono_literals;
using nlohmann::json;
using plexus::jobs::Job;
using plexus::jobs::JobQueue;
using plexus::jobs::JobQueueOptions;
using plexus::schedule::InvalidSchedule;
using plexus::schedule::MissedRunPolicy;
using plexus::schedule::Scheduler;
using plexus::schedule::SchedulerOptions;
using plexus::schedule::ScheduleSpec;
using plexus::store::Database;
using plexus::store::DatabaseOptions;
using plexus::store::format_time;

namespace {

struct Fixture {
  plexus::test::StoreBackend backend;
  plexus::test::TempDir dir;
  Database database{DatabaseOptions{backend.fresh_url(dir)}};
  plexus::test::ManualClock time;  // starts at midnight UTC
  JobQueue queue{database, JobQueueOptions{.clock = time.clock()}};

  SchedulerOptions options(std::string node = "node-a") {
    SchedulerOptions options;
    options.node_id = std::move(node);
    options.clock = time.clock();
    options.misfire_threshold = 10s;
    options.catch_up_cap = 100;
    return options;
  }

  std::vector<Job> jobs(const std::string& tenant = "default") {
    auto page = queue.list({.tenant = tenant, .limit = 1000});
    std::reverse(page.items.begin(), page.items.end());  // oldest first
    return page.items;
  }
  std::vector<std::string> fired(const std::string& tenant = "default") {
    std::vector<std::string> times;
    for (const auto& job : jobs(tenant)) times.push_back(job.payload.at("scheduled_for").get<std::string>());
    return times;
  }
  std::string at(std::chrono::seconds offset) const { return format_time(start + offset); }

  plexus::store::TimePoint start = time.now();
};

ScheduleSpec every(const std::string& name, const std::string& expression) {
  ScheduleSpec spec;
  spec.name = name;
  spec.expression = expression;
  spec.job_kind = "test.run";
  spec.payload = {{"report", "daily"}};
  return spec;
}

}  // namespace

TEST_CASE("put validates every field and names the bad one") {
  Fixture f;
  Scheduler scheduler(f.database, f.queue, f.options());
  auto field_of = [&](ScheduleSpec spec) {
    try {
      scheduler.put(spec);
    } catch (const InvalidSchedule& error) {
      return error.field();
    }
    return std::string("(accepted)");
  };
  auto spec = every("ok", "*/5 * * * *");
  CHECK(field_of(spec) == "(accepted)");
  auto bad = spec;
  bad.name = "has space";
  CHECK(field_of(bad) == "name");
  bad = spec;
  bad.expression = "61 * * * *";
  CHECK(field_of(bad) == "expression");
  bad = spec;
  bad.time_zone = "Mars/Olympus";
  CHECK(field_of(bad) == "time_zone");
  bad = spec;
  bad.job_kind = "";
  CHECK(field_of(bad) == "job_kind");
  bad = spec;
  bad.catch_up_cap = 1001;
  CHECK(field_of(bad) == "catch_up_cap");
  bad = spec;
  bad.payload = json::array();
  CHECK(field_of(bad) == "payload");
  bad = spec;
  bad.tenant = "";
  CHECK(field_of(bad) == "tenant");
}

TEST_CASE("a schedule fires once per fire time, with the fire time in the payload") {
  Fixture f;
  Scheduler scheduler(f.database, f.queue, f.options());
  auto spec = every("heartbeat", "@every 10s");
  spec.priority = 7;
  const auto info = scheduler.put(spec);
  CHECK(info.spec.owner == "kernel");
  CHECK(info.missed_runs == MissedRunPolicy::run_once);  // the configured default
  CHECK(info.catch_up_cap == 100);
  REQUIRE(info.next_run_at);
  CHECK(format_time(*info.next_run_at) == f.at(10s));

  CHECK(scheduler.tick() == 0);  // not due yet
  f.time.advance(10s);
  CHECK(scheduler.tick() == 1);
  CHECK(scheduler.tick() == 0);  // the same fire time never twice
  f.time.advance(5s);
  CHECK(scheduler.tick() == 0);
  f.time.advance(5s);
  CHECK(scheduler.tick() == 1);

  const auto jobs = f.jobs();
  REQUIRE(jobs.size() == 2);
  CHECK(jobs[0].kind == "test.run");
  CHECK(jobs[0].priority == 7);
  CHECK(jobs[0].run_on.empty());
  CHECK(jobs[0].payload ==
        json{{"report", "daily"}, {"schedule", "heartbeat"}, {"scheduled_for", f.at(10s)}});
  CHECK(jobs[1].payload["scheduled_for"] == f.at(20s));
  const auto after = scheduler.get("default", "heartbeat");
  CHECK(format_time(*after->last_run_at) == f.at(20s));
  CHECK(format_time(*after->next_run_at) == f.at(30s));
}

TEST_CASE("get lists the next fire times in the schedule's zone: list is per tenant") {
  Fixture f;
  Scheduler scheduler(f.database, f.queue, f.options());
  auto spec = every("morning", "0 9 * * *");
  spec.time_zone = "Europe/Berlin";
  scheduler.put(spec);
  auto other = every("elsewhere", "@hourly");
  other.tenant = "acme";
  scheduler.put(other);

  const auto info = scheduler.get("default", "morning", 3);
  REQUIRE(info);
  REQUIRE(info->next_runs.size() == 3);
  // The clock starts at midnight UTC on 2024-10-04, in summer time: 09:00 CEST is 07:00 UTC.
  CHECK(format_time(info->next_runs[0]) == f.at(7h));
  CHECK(format_time(info->next_runs[1]) == f.at(31h));
  CHECK(format_time(info->next_runs[2]) == f.at(55h));
  CHECK(scheduler.list("default").size() == 1);
  CHECK(scheduler.list("acme").size() == 1);
  CHECK_FALSE(scheduler.get("acme", "morning"));
  CHECK_FALSE(scheduler.remove("acme", "morning"));
  CHECK(scheduler.remove("default", "morning"));
  CHECK_FALSE(scheduler.get("default", "morning"));
}

TEST_CASE("pause stops firing: resume continues after now, skipping what passed while paused") {
  Fixture f;
  Scheduler scheduler(f.database, f.queue, f.options());
  scheduler.put(every("poll", "@every 1m"));
  CHECK(scheduler.pause("default", "poll"));
  CHECK(scheduler.pause("default", "poll"));  // already paused: no change
  CHECK_FALSE(scheduler.pause("default", "nothing"));
  const auto paused = scheduler.get("default", "poll");
  CHECK(paused->paused);
  CHECK_FALSE(paused->next_run_at);
  CHECK(paused->next_runs.empty());

  f.time.advance(1h);
  CHECK(scheduler.tick() == 0);
  // Replacing a paused schedule keeps it paused.
  auto replaced = every("poll", "@every 1m");
  replaced.priority = 3;
  CHECK(scheduler.put(replaced).paused);

  f.time.advance(30s);
  CHECK(scheduler.resume("default", "poll"));
  const auto resumed = scheduler.get("default", "poll");
  CHECK_FALSE(resumed->paused);
  CHECK(format_time(*resumed->next_run_at) == f.at(61min));
  CHECK(scheduler.tick() == 0);  // the hour while paused is not caught up
  f.time.advance(30s);
  CHECK(scheduler.tick() == 1);
  CHECK(f.fired() == std::vector<std::string>{f.at(61min)});
  CHECK_FALSE(scheduler.resume("default", "nothing"));
}

TEST_CASE("replacing a schedule keeps its next run unless its timing changed") {
  Fixture f;
  Scheduler scheduler(f.database, f.queue, f.options());
  scheduler.put(every("sync", "@every 1h"));
  f.time.advance(90min);  // 01:00 is due (late beyond the threshold: missed)
  auto same = every("sync", "@every 1h");
  same.payload = {{"changed", true}};
  CHECK(format_time(*scheduler.put(same).next_run_at) == f.at(1h));  // still pending
  CHECK(scheduler.tick() == 1);                                      // run_once: the missed 01:00
  CHECK(f.fired() == std::vector<std::string>{f.at(1h)});
  CHECK(f.jobs()[0].payload["changed"] == true);
  CHECK(format_time(*scheduler.put(every("sync", "@every 2h")).next_run_at) ==
        f.at(2h));  // recomputed from now
}

TEST_CASE("after a three-day downtime missed runs follow the schedule's policy") {
  Fixture f;
  Scheduler scheduler(f.database, f.queue, f.options());
  auto skip = every("skip", "* * * * *");
  skip.missed_runs = MissedRunPolicy::skip;
  auto once = every("once", "* * * * *");
  once.missed_runs = MissedRunPolicy::run_once;
  auto all = every("all", "* * * * *");
  all.missed_runs = MissedRunPolicy::run_all;  // cap: the configured 100
  auto all_capped = every("all-capped", "* * * * *");
  all_capped.missed_runs = MissedRunPolicy::run_all;
  all_capped.catch_up_cap = 5;
  auto daily = every("daily", "@daily");
  daily.missed_runs = MissedRunPolicy::run_all;
  for (const auto& spec : {skip, once, all, all_capped, daily}) scheduler.put(spec);

  f.time.advance(72h + 30s);  // the node was down for three days
  CHECK(scheduler.tick() == 0 + 1 + 100 + 5 + 3);
  std::map<std::string, std::vector<std::string>> by_schedule;
  for (const auto& job : f.jobs())
    by_schedule[job.payload["schedule"]].push_back(job.payload["scheduled_for"]);
  CHECK(by_schedule.count("skip") == 0);
  CHECK(by_schedule["once"] == std::vector<std::string>{f.at(72h)});  // the most recent
  REQUIRE(by_schedule["all"].size() == 100);
  CHECK(by_schedule["all"].front() == f.at(1min));  // oldest first
  CHECK(by_schedule["all"].back() == f.at(100min));
  CHECK(by_schedule["all-capped"].size() == 5);
  CHECK(by_schedule["daily"] == std::vector<std::string>{f.at(24h), f.at(48h), f.at(72h)});
  // Every schedule continues at its next future time, and then fires normally.
  for (const auto& name : {"skip", "once", "all", "all-capped"})
    CHECK(format_time(*scheduler.get("default", name)->next_run_at) == f.at(72h + 1min));
  f.time.advance(30s);
  CHECK(scheduler.tick() == 4);
  CHECK(scheduler.tick() == 0);
}

TEST_CASE("fire times late by less than the misfire threshold just run") {
  Fixture f;
  Scheduler scheduler(f.database, f.queue, f.options());
  auto spec = every("fast", "@every 1s");
  spec.missed_runs = MissedRunPolicy::skip;
  scheduler.put(spec);
  f.time.advance(5s);  // a slow tick: 1s..5s are late, but within the 10s threshold
  CHECK(scheduler.tick() == 5);
  CHECK(f.fired() == std::vector<std::string>{f.at(1s), f.at(2s), f.at(3s), f.at(4s), f.at(5s)});
}

TEST_CASE("two schedulers that both think they lead fire each tick exactly once") {
  Fixture f;
  Scheduler a(f.database, f.queue, f.options("node-a"));
  Scheduler b(f.database, f.queue, f.options("node-b"));
  auto spec = every("singleton", "@every 1s");
  spec.missed_runs = MissedRunPolicy::run_all;
  a.put(spec);
  constexpr int kSeconds = 40;
  std::atomic<int> enqueued{0};
  for (int second = 0; second < kSeconds; ++second) {
    f.time.advance(1s);
    // Both race for the same tick, several times each.
    std::thread ta([&] {
      for (int i = 0; i < 3; ++i) enqueued += static_cast<int>(a.tick());
    });
    std::thread tb([&] {
      for (int i = 0; i < 3; ++i) enqueued += static_cast<int>(b.tick());
    });
    ta.join();
    tb.join();
  }
  const auto fired = f.fired();
  CHECK(enqueued == kSeconds);
  REQUIRE(fired.size() == kSeconds);
  const std::set<std::string> distinct(fired.begin(), fired.end());
  CHECK(distinct.size() == fired.size());  // no duplicates
  for (int second = 1; second <= kSeconds; ++second)
    CHECK(distinct.count(f.at(std::chrono::seconds(second))) == 1);  // no gaps
}

TEST_CASE("only the leader fires singleton schedules: per-node schedules fire on every node for it") {
  Fixture f;
  auto follower_options = f.options("node-b");
  follower_options.leader = [] { return false; };
  Scheduler leader(f.database, f.queue, f.options("node-a"));
  Scheduler follower(f.database, f.queue, follower_options);
  leader.put(every("singleton", "@every 10s"));
  auto per_node = every("local-cleanup", "@every 10s");
  per_node.singleton = false;
  leader.put(per_node);
  // Each node starts its per-node row at its first tick.
  CHECK(leader.tick() == 0);
  CHECK(follower.tick() == 0);
  f.time.advance(10s);
  CHECK(follower.tick() == 1);  // its own run of local-cleanup only
  CHECK(leader.tick() == 2);    // the singleton and its own local-cleanup
  std::multiset<std::string> runs;
  for (const auto& job : f.jobs()) runs.insert(job.payload["schedule"].get<std::string>() + "@" + job.run_on);
  CHECK(runs == std::multiset<std::string>{"singleton@", "local-cleanup@node-a", "local-cleanup@node-b"});
  // A job meant for node-b is not claimed by node-a.
  auto first = f.queue.claim_next("node-a", 1min);
  auto second = f.queue.claim_next("node-a", 1min);
  REQUIRE(first);
  REQUIRE(second);
  CHECK_FALSE(f.queue.claim_next("node-a", 1min));
  CHECK(f.queue.claim_next("node-b", 1min)->run_on == "node-b");
}

TEST_CASE("remove_owner removes the owner's schedules only") {
  Fixture f;
  Scheduler scheduler(f.database, f.queue, f.options());
  auto mine = every("a", "@hourly");
  mine.owner = "plugin-x";
  scheduler.put(mine);
  auto also = every("b", "@hourly");
  also.owner = "plugin-x";
  also.tenant = "acme";
  scheduler.put(also);
  scheduler.put(every("c", "@hourly"));
  CHECK(scheduler.remove_owner("plugin-x") == 2);
  CHECK(scheduler.list("default").size() == 1);
  CHECK(scheduler.list("acme").empty());
}
