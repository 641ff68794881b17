// Applies audit retention in the background: every `interval`, rows older than
// `retention` are exported to `export_dir` and deleted (AuditLog::apply_retention).
#pragma once

#include <chrono>
#include <filesystem>

#include "kernel/audit/audit_log.hpp"
#include "kernel/tasks/periodic_task.hpp"

namespace plexus::audit {

class RetentionWorker {
 public:
  // retention 0 turns it off (no thread). The first run comes `first_run_delay`
  // after start, so a restarting server is not slowed down by a big export.
  RetentionWorker(AuditLog& log, std::chrono::milliseconds retention, std::filesystem::path export_dir,
                  std::chrono::milliseconds interval = std::chrono::hours(1),
                  std::chrono::milliseconds first_run_delay = std::chrono::seconds(10));
  // Stops promptly: wakes the thread and joins it (an export in progress finishes first).
  ~RetentionWorker();
  RetentionWorker(const RetentionWorker&) = delete;
  RetentionWorker& operator=(const RetentionWorker&) = delete;

  bool running() const { return task_.running(); }

 private:
  void run_once();

  AuditLog& log_;
  const std::chrono::milliseconds retention_;
  const std::filesystem::path export_dir_;
  const std::chrono::milliseconds interval_;
  tasks::PeriodicTask task_;  // last: starts once everything above is initialised
};

}  // namespace plexus::audit
