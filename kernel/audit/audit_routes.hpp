// The audit log's REST API (kernel routes, permission admin.audit.view):
//   GET /api/v1/admin/audit          filters and paging; tenant-isolated; itself audited
//   GET /api/v1/admin/audit/verify   the whole chain against its head
#pragma once

#include "kernel/audit/audit_log.hpp"
#include "kernel/http/router.hpp"

namespace plexus::audit {

void register_audit_routes(http::Router& router, AuditLog& log);

}  // namespace plexus::audit
