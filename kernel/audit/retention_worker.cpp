#include "kernel/audit/retention_worker.hpp"

#include <exception>

#include <spdlog/logger.h>

#include "kernel/log/log.hpp"

namespace plexus::audit {

RetentionWorker::RetentionWorker(AuditLog& log, std::chrono::milliseconds retention, std::filesystem::path export_dir,
                                 std::chrono::milliseconds interval, std::chrono::milliseconds first_run_delay)
    : log_(log),
      retention_(retention),
      export_dir_(std::move(export_dir)),
      interval_(interval),
      task_(retention.count() > 0 ? interval : std::chrono::milliseconds(0), first_run_delay, [this] { run_once(); }) {}

RetentionWorker::~RetentionWorker() = default;

void RetentionWorker::run_once() {
  auto logger = log::get("audit");
  try {
    const auto cutoff = std::chrono::system_clock::now() - retention_;
    const auto result = log_.apply_retention(cutoff, export_dir_);
    if (result.exported > 0) {
      logger->info("retention: exported {} audit rows (sequence {} to {}) older than {} to {}, then deleted them",
                   result.exported, result.first_sequence, result.last_sequence, store::format_time(cutoff),
                   result.file.string());
    } else {
      logger->debug("retention: no audit rows older than {}", store::format_time(cutoff));
    }
  } catch (const std::exception& error) {
    logger->error("retention failed, will retry in {}s: {}",
                  std::chrono::duration_cast<std::chrono::seconds>(interval_).count(), error.what());
  }
}

}  // namespace plexus::audit
