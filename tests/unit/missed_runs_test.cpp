// The missed-run policy after a simulated 3-day downtime: skip, run once, or run all up
// to a cap, and never thousands of runs.
#include "kernel/schedule/missed_runs.hpp"

#include <catch2/catch.hpp>

using plexus::schedule::CronExpression;
using plexus::schedule::MissedRunPolicy;
using plexus::schedule::plan_missed_runs;
using plexus::schedule::Schedule;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using std::chrono::sys_seconds;

namespace {

const sys_seconds kLastRun = date::sys_days{date::year{2025} / 6 / 1} + hours{1};  // 03:00 in Berlin
const sys_seconds kNow = kLastRun + hours{72} + minutes{30};                       // 3 days later

Schedule schedule(const std::string& expression) {
  return {CronExpression::parse(expression), "Europe/Berlin"};
}

}  // namespace

TEST_CASE("an every-minute schedule after 3 days of downtime") {
  const auto every_minute = schedule("* * * * *");
  const std::uint64_t missed = 72 * 60 + 30;

  const auto skipped = plan_missed_runs(every_minute, kLastRun, kNow, MissedRunPolicy::skip);
  CHECK(skipped.run_now.empty());
  CHECK(skipped.missed == missed);
  CHECK(skipped.dropped() == missed);
  CHECK(skipped.next_fire == kNow + minutes{1});

  const auto once = plan_missed_runs(every_minute, kLastRun, kNow, MissedRunPolicy::run_once);
  REQUIRE(once.run_now.size() == 1);
  CHECK(once.run_now.front() == kNow);  // due now, the most recent missed time
  CHECK(once.dropped() == missed - 1);
  CHECK(once.next_fire == kNow + minutes{1});

  const auto all = plan_missed_runs(every_minute, kLastRun, kNow, MissedRunPolicy::run_all, 100);
  REQUIRE(all.run_now.size() == 100);
  CHECK(all.run_now.front() == kLastRun + minutes{1});  // the oldest first
  CHECK(all.run_now.back() == kLastRun + minutes{100});
  CHECK(std::is_sorted(all.run_now.begin(), all.run_now.end()));
  CHECK(all.dropped() == missed - 100);
  CHECK(all.next_fire == kNow + minutes{1});
}

TEST_CASE("a daily schedule after 3 days of downtime") {
  const auto daily = schedule("0 3 * * *");
  CHECK(plan_missed_runs(daily, kLastRun, kNow, MissedRunPolicy::skip).run_now.empty());

  const auto once = plan_missed_runs(daily, kLastRun, kNow, MissedRunPolicy::run_once);
  CHECK(once.run_now == std::vector{kLastRun + hours{72}});
  CHECK(once.missed == 3);

  const auto all = plan_missed_runs(daily, kLastRun, kNow, MissedRunPolicy::run_all, 100);
  CHECK(all.run_now == std::vector{kLastRun + hours{24}, kLastRun + hours{48}, kLastRun + hours{72}});
  CHECK(all.dropped() == 0);
  CHECK(all.next_fire == kLastRun + hours{96});

  const auto capped = plan_missed_runs(daily, kLastRun, kNow, MissedRunPolicy::run_all, 2);
  CHECK(capped.run_now == std::vector{kLastRun + hours{24}, kLastRun + hours{48}});
  CHECK(capped.dropped() == 1);
}

TEST_CASE("a per-second schedule never yields thousands of runs") {
  const auto every_second = schedule("* * * * * *");
  const auto once = plan_missed_runs(every_second, kLastRun, kNow, MissedRunPolicy::run_once);
  CHECK(once.run_now == std::vector{kNow});
  CHECK(once.missed == 72 * 3600 + 30 * 60);
  const auto all = plan_missed_runs(every_second, kLastRun, kNow, MissedRunPolicy::run_all,
                                    plexus::schedule::kMaxCatchUpRuns);
  CHECK(all.run_now.size() == plexus::schedule::kMaxCatchUpRuns);
  CHECK(all.next_fire == kNow + seconds{1});
}

TEST_CASE("counting missed times stops at the limit, the plan stays right") {
  const auto every_second = schedule("* * * * * *");
  const auto now = kLastRun + hours{24 * 30};  // 2.6 million missed seconds
  const auto once = plan_missed_runs(every_second, kLastRun, now, MissedRunPolicy::run_once);
  CHECK(once.missed == plexus::schedule::kMissedCountLimit);
  CHECK(once.run_now == std::vector{now});
  CHECK(once.next_fire == now + seconds{1});
}

TEST_CASE("nothing is missed without downtime or when the clock went back") {
  const auto daily = schedule("0 3 * * *");
  const auto none = plan_missed_runs(daily, kLastRun, kLastRun + hours{1}, MissedRunPolicy::run_all, 10);
  CHECK(none.run_now.empty());
  CHECK(none.missed == 0);
  CHECK(none.next_fire == kLastRun + hours{24});
  const auto back = plan_missed_runs(daily, kLastRun, kLastRun - hours{30}, MissedRunPolicy::run_once);
  CHECK(back.run_now.empty());
  CHECK(back.missed == 0);
}

TEST_CASE("the run_all cap is bounded") {
  const auto daily = schedule("0 3 * * *");
  CHECK_THROWS_WITH(plan_missed_runs(daily, kLastRun, kNow, MissedRunPolicy::run_all, 0),
                    "run_all cap 0 must be between 1 and 1000");
  CHECK_THROWS_WITH(plan_missed_runs(daily, kLastRun, kNow, MissedRunPolicy::run_all, 1001),
                    "run_all cap 1001 must be between 1 and 1000");
  CHECK_NOTHROW(plan_missed_runs(daily, kLastRun, kNow, MissedRunPolicy::skip, 0));  // the cap is run_all's
}
