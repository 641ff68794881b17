// What to run after downtime: the fire times a schedule missed between its last run
// and now, reduced by an explicit policy so that a node waking up after days never
// starts thousands of runs.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernel/schedule/schedule.hpp"

namespace plexus::schedule {

enum class MissedRunPolicy {
  skip,      // run nothing now; continue with the next future fire time
  run_once,  // one run now (for the most recent missed fire time) if any was missed
  run_all,   // each missed fire time, oldest first, up to a cap; the newer rest is dropped
};

// The most run_all may be asked to catch up.
inline constexpr std::size_t kMaxCatchUpRuns = 1000;
// Counting the missed fire times stops here (a per-second job after a year's downtime).
inline constexpr std::uint64_t kMissedCountLimit = 1'000'000;

struct MissedRuns {
  std::vector<std::chrono::sys_seconds> run_now;  // fire times to run now, oldest first
  std::uint64_t missed = 0;                       // fire times in (last_run, now], at most kMissedCountLimit
  std::chrono::sys_seconds next_fire;             // the first fire time strictly after now

  std::uint64_t dropped() const { return missed - run_now.size(); }
};

// Pure: the same inputs give the same plan. A fire time equal to `now` counts as
// missed (it is due). `cap` applies to run_all only and must be 1..kMaxCatchUpRuns
// (std::invalid_argument otherwise). A `now` before `last_run` (the clock went back)
// misses nothing.
MissedRuns plan_missed_runs(const Schedule& schedule, std::chrono::sys_seconds last_run,
                            std::chrono::sys_seconds now, MissedRunPolicy policy,
                            std::size_t cap = kMaxCatchUpRuns);

}  // namespace plexus::schedule
