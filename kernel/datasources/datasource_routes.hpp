// /api/v1/datasources: what datasources and drivers exist, and queries, statements,
// schema and ping on one datasource. Defining datasources is the resource API's job
// (/api/v1/resources/datasource).
#pragma once

#include "kernel/audit/audit_log.hpp"
#include "kernel/datasources/datasources.hpp"
#include "kernel/http/router.hpp"

namespace plexus::datasources {

// Statements run through .../execute (writes) are audited: the SQL, not its values.
void register_datasource_routes(http::Router& router, Datasources& datasources, resources::ResourceStore& store,
                                audit::AuditLog& audit);

// The HTTP answer for a failed Reply: 404, 400, 403 (read-only), 504, 503 or 502.
http::Response error_response(const Reply& reply);

}  // namespace plexus::datasources
