#include "kernel/jobs/job_json.hpp"

namespace plexus::jobs {

using nlohmann::json;

json time_or_null(const std::optional<store::TimePoint>& time) {
  return time ? json(store::format_time(*time)) : json(nullptr);
}

json to_json(const Job& job) {
  return {{"id", job.id},
          {"tenant", job.tenant},
          {"kind", job.kind},
          {"payload", job.payload},
          {"priority", job.priority},
          {"state", std::string(to_string(job.state))},
          {"attempts", job.attempts},
          {"max_attempts", job.max_attempts},
          {"next_attempt_at", store::format_time(job.next_attempt_at)},
          {"progress", job.progress},
          {"progress_message", job.progress_message},
          {"result", job.result},
          {"last_error", job.last_error},
          {"cancel_requested", job.cancel_requested},
          {"created_at", store::format_time(job.created_at)},
          {"started_at", time_or_null(job.started_at)},
          {"finished_at", time_or_null(job.finished_at)},
          {"claimed_by", job.claimed_by},
          {"claim_expires_at", time_or_null(job.claim_expires_at)},
          {"run_on", job.run_on.empty() ? json(nullptr) : json(job.run_on)}};
}

}  // namespace plexus::jobs
