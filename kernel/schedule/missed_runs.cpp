#include "kernel/schedule/missed_runs.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace plexus::schedule {

namespace {

using std::chrono::seconds;
using std::chrono::sys_seconds;

// The latest fire time in (not_before, now], given there is one: windows ending at now
// double until one holds a fire time, so a per-second job scans a minute, not the downtime.
sys_seconds latest_fire_at_or_before(const Schedule& schedule, sys_seconds not_before, sys_seconds now) {
  for (seconds window{60};; window *= 2) {
    const auto start = std::max(now - window, not_before);
    auto fire = schedule.next_fire_after(start);
    if (fire <= now) {
      for (auto next = schedule.next_fire_after(fire); next <= now; next = schedule.next_fire_after(next))
        fire = next;
      return fire;
    }
  }
}

}  // namespace

MissedRuns plan_missed_runs(const Schedule& schedule, sys_seconds last_run, sys_seconds now,
                            MissedRunPolicy policy, std::size_t cap) {
  if (policy == MissedRunPolicy::run_all && (cap < 1 || cap > kMaxCatchUpRuns))
    throw std::invalid_argument("run_all cap " + std::to_string(cap) + " must be between 1 and " +
                                std::to_string(kMaxCatchUpRuns));
  MissedRuns plan;
  for (auto fire = schedule.next_fire_after(last_run); fire <= now && plan.missed < kMissedCountLimit;
       fire = schedule.next_fire_after(fire)) {
    ++plan.missed;
    if (policy == MissedRunPolicy::run_all && plan.run_now.size() < cap) plan.run_now.push_back(fire);
  }
  if (policy == MissedRunPolicy::run_once && plan.missed > 0)
    plan.run_now.push_back(latest_fire_at_or_before(schedule, last_run, now));
  plan.next_fire = schedule.next_fire_after(now);
  return plan;
}

}  // namespace plexus::schedule
