// Logs over the admin API (COM-12): read and change log levels at runtime, and
// download the log file, without shell access to the node.
#pragma once

#include <filesystem>

namespace plexus {
namespace http {
class Router;
}
namespace audit {
class AuditLog;
}

// GET /api/v1/admin/logs/levels, PUT /api/v1/admin/logs/levels/{logger} and
// GET /api/v1/admin/logs/download. `log_file` is the file the log writes to, empty
// when logging to a file is off. With `audit`, every level change and every download
// (a sensitive read) is recorded.
void register_log_routes(http::Router& router, std::filesystem::path log_file, audit::AuditLog* audit);

}  // namespace plexus
