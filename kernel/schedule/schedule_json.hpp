// A schedule as JSON, the one form REST (/api/v1/schedules) and the plugin host
// (schedule_put) both read and answer with.
#pragma once

#include <nlohmann/json.hpp>

#include "kernel/schedule/scheduler.hpp"

namespace plexus::schedule {

// {"name", "tenant", "owner", "expression", "time_zone", "missed_runs", "catch_up_cap",
//  "singleton", "paused", "job_kind", "payload", "priority", "next_run_at", "last_run_at",
//  "next_runs", "created_at", "updated_at"}; times ISO-8601 UTC or null.
nlohmann::json to_json(const ScheduleInfo& info);

// The settable fields of a schedule ({"expression", "job_kind", "time_zone"?, "missed_runs"?,
// "catch_up_cap"?, "singleton"?, "payload"?, "priority"?}) as a spec without tenant, name
// and owner. Throws InvalidSchedule naming the field: unknown, missing or mistyped.
// Whether the expression and zone mean anything is Scheduler::put's to say.
ScheduleSpec spec_from_json(const nlohmann::json& body);

}  // namespace plexus::schedule
