// Whole jobs read from query_json rows. Internal to plexus_jobs.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "kernel/jobs/job.hpp"

namespace plexus::jobs::job_rows {

// The columns job_from_row expects, in order: "SELECT <kColumns> FROM jobs ...", "RETURNING <kColumns>".
inline constexpr std::string_view kColumns =
    "id, tenant_id, kind, payload_json, priority, state, attempts, max_attempts, next_attempt_at, progress, "
    "progress_message, result_json, last_error, cancel_requested, created_at, started_at, finished_at, "
    "claimed_by, claim_expires_at, run_on";

// Throws std::runtime_error naming the job and column when a stored value is malformed.
Job job_from_row(const nlohmann::json& row);

}  // namespace plexus::jobs::job_rows
