#include "kernel/resources/retention_worker.hpp"

#include <exception>

#include <spdlog/logger.h>

#include "kernel/log/log.hpp"

namespace plexus::resources {

RetentionSchedule retention_schedule_of(const config::Config& config) {
  RetentionSchedule schedule;
  schedule.policy.keep_last = config.get_int("resources.retention.keep_last");
  schedule.policy.keep_younger_than = std::chrono::duration_cast<std::chrono::seconds>(
      config.get_duration("resources.retention.keep_younger_than"));
  schedule.interval = config.get_duration("resources.retention.interval");
  return schedule;
}

RetentionWorker::RetentionWorker(ResourceStore& store, RetentionSchedule schedule, metrics::Registry& metrics,
                                 std::chrono::milliseconds first_run_delay)
    : store_(store),
      schedule_(schedule),
      pruned_(metrics
                  .counter("plexus_resource_revisions_pruned_total",
                           "Resource revisions removed by retention (resources.retention)")
                  .with({})),
      task_(schedule.interval, first_run_delay, [this] { run_once(); }) {}

RetentionWorker::~RetentionWorker() = default;

void RetentionWorker::run_once() {
  auto logger = log::get("resources");
  const auto& policy = schedule_.policy;
  try {
    const auto result = store_.prune(policy);
    pruned_.inc(static_cast<double>(result.removed));
    if (result.removed > 0) {
      logger->info(
          "retention: removed {} old revisions (keeping the last {} per resource and those younger than {}s)",
          result.removed, policy.keep_last, policy.keep_younger_than.count());
    } else {
      logger->debug("retention: no revisions to remove");
    }
  } catch (const std::exception& error) {
    // Not fatal: history grows until the next run succeeds.
    logger->error("retention failed, will retry in {}s: {}",
                  std::chrono::duration_cast<std::chrono::seconds>(schedule_.interval).count(), error.what());
  }
}

}  // namespace plexus::resources
