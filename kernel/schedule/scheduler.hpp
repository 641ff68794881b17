// The scheduler service (issue 6): schedules stored in the kernel database, fired by a
// tick on every node. Firing a schedule enqueues a job of its kind, with the fire time
// in the payload:
//   {"schedule": <name>, "scheduled_for": "2026-11-27T10:00:00.000Z", ...the schedule's payload}
//
// Singleton schedules (the default) fire on the node holding the leader lease; the
// others fire on every node, as work each node does for itself (its jobs are taken only
// by that node, JobRequest::run_on).
//
// Exactly once per fire time: each schedule has a "next run" row (one for a singleton;
// one per node otherwise). A tick advances it with a compare-and-set on its old value
// (UPDATE ... WHERE next_run_at = <the value read>) in the same transaction that enqueues
// the jobs. Two nodes that both believe they lead (a lease handover) read the same row;
// only one UPDATE matches, the other rolls back together with its jobs.
//
// Fire times later than the misfire threshold are "missed" (the node was down, or no node
// led) and follow the schedule's MissedRunPolicy (missed_runs.hpp); later times within the
// threshold run as usual.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernel/jobs/database_clock.hpp"
#include "kernel/jobs/job_queue.hpp"
#include "kernel/schedule/missed_runs.hpp"
#include "kernel/store/database.hpp"

namespace plexus::tasks {
class PeriodicTask;
}

namespace plexus::schedule {

struct ScheduleSpec {
  std::string tenant = "default";
  std::string name;              // 1..128 of A-Z a-z 0-9 . _ -
  std::string owner = "kernel";  // "kernel", "api" (REST) or the plugin that made it
  std::string expression;        // cron fields, a macro or @every (cron_expression.hpp)
  std::string time_zone = "UTC";
  std::optional<MissedRunPolicy> missed_runs;  // nullopt: SchedulerOptions::missed_runs
  std::size_t catch_up_cap = 0;                // run_all's cap; 0: SchedulerOptions::catch_up_cap
  bool singleton = true;                       // false: fires on every node, for that node
  std::string job_kind;
  nlohmann::json payload = nlohmann::json::object();
  int priority = 0;
};

struct ScheduleInfo {
  ScheduleSpec spec;
  MissedRunPolicy missed_runs = MissedRunPolicy::run_once;  // in effect (spec's or the default)
  std::size_t catch_up_cap = 0;                             // in effect
  bool paused = false;
  // This node's view: the shared row of a singleton, this node's row otherwise.
  // nullopt while paused, or before this node's first tick saw a per-node schedule.
  std::optional<store::TimePoint> next_run_at;
  std::optional<store::TimePoint> last_run_at;  // the last fire time that enqueued a job
  store::TimePoint created_at, updated_at;
  std::vector<store::TimePoint> next_runs;  // get(): the next N fire times; empty while paused
};

// A bad schedule; field() names the member ("name", "expression", "time_zone", ...).
class InvalidSchedule : public std::invalid_argument {
 public:
  InvalidSchedule(std::string field, const std::string& message)
      : std::invalid_argument(message), field_(std::move(field)) {}
  const std::string& field() const { return field_; }

 private:
  std::string field_;
};

std::string_view to_string(MissedRunPolicy policy);
std::optional<MissedRunPolicy> parse_missed_run_policy(std::string_view name);

struct SchedulerOptions {
  std::string node_id;                                 // the cluster's node id
  std::function<bool()> leader = [] { return true; };  // singleton schedules fire only while true
  MissedRunPolicy missed_runs = MissedRunPolicy::run_once;
  std::size_t catch_up_cap = 100;
  std::chrono::milliseconds misfire_threshold{std::chrono::seconds(10)};
  std::chrono::milliseconds tick{std::chrono::seconds(1)};  // start()'s pace
  int max_attempts = 5;                                     // of the jobs it enqueues
  jobs::Clock clock = jobs::database_clock();
};

class Scheduler {
 public:
  // Applies the "kernel.schedules" migrations. std::invalid_argument for an empty node
  // id, a catch_up_cap outside 1..kMaxCatchUpRuns or a negative threshold.
  Scheduler(store::Database& database, jobs::JobQueue& queue, SchedulerOptions options);
  ~Scheduler();  // stop()
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Creates or replaces a schedule; throws InvalidSchedule. A replaced schedule keeps
  // its paused state and created_at; its next run is recomputed from now only when the
  // expression, time zone or singleton flag changed (so a plugin putting the same
  // schedule on every start keeps its pending and missed runs).
  ScheduleInfo put(const ScheduleSpec& spec);
  bool remove(const std::string& tenant, const std::string& name);
  // Every schedule of `owner`, all tenants. plexusd does not call it when a plugin
  // unloads: schedules outlive reloads; it is for removing a plugin for good.
  std::size_t remove_owner(const std::string& owner);
  // False when there is no such schedule. Pausing a paused one (or resuming a running
  // one) changes nothing and returns true.
  bool pause(const std::string& tenant, const std::string& name);
  // Continues at the next fire time after now: times that passed while paused are
  // skipped, whatever the missed-runs policy.
  bool resume(const std::string& tenant, const std::string& name);
  std::optional<ScheduleInfo> get(const std::string& tenant, const std::string& name, int next_runs = 5);
  std::vector<ScheduleInfo> list(const std::string& tenant);  // by name

  // Fires every schedule that is due now on this node; returns how many jobs it
  // enqueued. start() calls it every options.tick; tests call it directly.
  std::size_t tick();

  void start();  // once
  void stop();   // waits for a tick in progress

 private:
  struct Row;
  std::vector<Row> rows(soci::session& sql, const std::string& where, const nlohmann::json& params);
  ScheduleInfo info_of(const Row& row) const;
  void write(soci::session& sql, const ScheduleSpec& spec);
  void reset_runs(soci::session& sql, const std::string& tenant, const std::string& name, bool singleton,
                  store::TimePoint now);
  std::size_t fire(soci::session& sql, const Row& row, store::TimePoint now);

  store::Database& database_;
  jobs::JobQueue& queue_;
  SchedulerOptions options_;
  std::unique_ptr<tasks::PeriodicTask> task_;
};

}  // namespace plexus::schedule
