#include "kernel/jobs/job_context.hpp"

#include <spdlog/logger.h>

#include "kernel/jobs/job_queue.hpp"
#include "kernel/log/log.hpp"

namespace plexus::jobs {

void JobContext::progress(int percent, const std::string& message) {
  try {
    if (queue_.report_progress(running_.claim, percent, message)) running_.cancel_requested = true;
  } catch (const ClaimLost&) {
    running_.claim_lost = true;
  } catch (const std::invalid_argument&) {
    throw;  // the handler's own mistake
  } catch (const std::exception& error) {
    log::get("jobs")->warn("job {} ({}): progress not recorded: {}", job_.id, job_.kind, error.what());
  }
}

void JobContext::throw_if_cancelled() const {
  if (cancelled()) throw JobCancelled();
}

}  // namespace plexus::jobs
