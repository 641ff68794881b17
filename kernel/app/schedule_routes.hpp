// The schedules REST API (issue 6), scoped to the caller's tenant; changes are audited:
//   GET    /api/v1/schedules
//   GET    /api/v1/schedules/{name}?next_runs=5
//   PUT    /api/v1/schedules/{name}           create (201) or replace (200)
//   DELETE /api/v1/schedules/{name}
//   POST   /api/v1/schedules/{name}/pause     and /resume
#pragma once

#include "kernel/audit/audit_log.hpp"
#include "kernel/http/router.hpp"
#include "kernel/schedule/scheduler.hpp"

namespace plexus {

void register_schedule_routes(http::Router& router, schedule::Scheduler& scheduler, audit::AuditLog& audit);

}  // namespace plexus
