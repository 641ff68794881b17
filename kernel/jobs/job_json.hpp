// A job as JSON, the one form REST (GET /api/v1/jobs/{id}) and the plugin host
// (job_get) both answer with. Times are ISO-8601 UTC; absent times are null.
#pragma once

#include <optional>

#include <nlohmann/json.hpp>

#include "kernel/jobs/job.hpp"
#include "kernel/store/clock.hpp"

namespace plexus::jobs {

nlohmann::json to_json(const Job& job);
// An ISO-8601 UTC time, or null.
nlohmann::json time_or_null(const std::optional<store::TimePoint>& time);

}  // namespace plexus::jobs
