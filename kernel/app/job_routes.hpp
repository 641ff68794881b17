// The jobs REST API (issue 6), scoped to the caller's tenant:
//   GET  /api/v1/jobs?state=&kind=&limit=&cursor=   newest first
//   GET  /api/v1/jobs/kinds                         kinds with a handler on this node
//   GET  /api/v1/jobs/{id}
//   POST /api/v1/jobs/{id}/cancel                   audited
//   GET  /api/v1/jobs/{id}/events                   Server-Sent Events until the job finishes
// Administrators of tenant default with admin.tenants.manage may list every tenant's
// jobs with ?tenant=* (or one with ?tenant=<id>), as with the audit log.
//
// Progress may be written by any node, so the streams read it from the database: one
// thread polls the jobs of all open streams every poll interval (250 ms) and sends an
// event when something changed; no thread per client.
#pragma once

#include <chrono>
#include <memory>

#include "kernel/audit/audit_log.hpp"
#include "kernel/http/router.hpp"
#include "kernel/jobs/job_service.hpp"

namespace plexus {

class JobRoutes {
 public:
  JobRoutes(jobs::JobService& jobs, audit::AuditLog& audit,
            std::chrono::milliseconds poll_interval = std::chrono::milliseconds(250));
  ~JobRoutes();  // closes the open streams
  JobRoutes(const JobRoutes&) = delete;
  JobRoutes& operator=(const JobRoutes&) = delete;

  void register_routes(http::Router& router);

 private:
  struct Streams;
  jobs::JobService& jobs_;
  audit::AuditLog& audit_;
  std::shared_ptr<Streams> streams_;
};

}  // namespace plexus
