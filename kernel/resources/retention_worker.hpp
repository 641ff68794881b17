// Resource retention on a schedule: every resources.retention.interval, plexusd
// runs ResourceStore::prune with the configured policy and counts what it removed
// in plexus_resource_revisions_pruned_total.
#pragma once

#include <chrono>

#include "kernel/config/config.hpp"
#include "kernel/metrics/registry.hpp"
#include "kernel/resources/resource_store.hpp"
#include "kernel/tasks/periodic_task.hpp"

namespace plexus::resources {

struct RetentionSchedule {
  RetentionPolicy policy;
  std::chrono::milliseconds interval{std::chrono::hours(1)};  // 0: never prune
};

// resources.retention.keep_last, .keep_younger_than and .interval.
RetentionSchedule retention_schedule_of(const config::Config& config);

class RetentionWorker {
 public:
  // An interval of 0 turns it off (no thread). The first run comes `first_run_delay`
  // after start, so a restarting server is not slowed down by a big prune.
  RetentionWorker(ResourceStore& store, RetentionSchedule schedule, metrics::Registry& metrics,
                  std::chrono::milliseconds first_run_delay = std::chrono::seconds(10));
  // Stops promptly: wakes the thread and joins it (a prune in progress finishes first).
  ~RetentionWorker();
  RetentionWorker(const RetentionWorker&) = delete;
  RetentionWorker& operator=(const RetentionWorker&) = delete;

  bool running() const { return task_.running(); }

 private:
  void run_once();

  ResourceStore& store_;
  const RetentionSchedule schedule_;
  metrics::Counter& pruned_;
  tasks::PeriodicTask task_;  // last: starts once everything above is initialised
};

}  // namespace plexus::resources
