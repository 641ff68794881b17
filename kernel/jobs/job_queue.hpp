// The persistent job queue (DESIGN.md "events, jobs, scheduler"): jobs survive
// restarts because they live in the kernel database (component "kernel.jobs"), and
// several nodes sharing one PostgreSQL take jobs from it without ever taking the
// same one twice (SELECT ... FOR UPDATE SKIP LOCKED; on SQLite a write transaction).
//
// A worker claims a job for a while (claim_next), keeps the claim alive while it
// works (extend_claim, report_progress), then completes or fails it. A node that
// dies stops extending; requeue_expired, run by any node, settles its expired
// claims like failed attempts, so the job is retried elsewhere and never lost.
// The states are described in job.hpp; the backoff between attempts in retry_policy.hpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernel/jobs/database_clock.hpp"
#include "kernel/jobs/job.hpp"
#include "kernel/jobs/retry_policy.hpp"
#include "kernel/store/database.hpp"

namespace soci {
class session;
}

namespace plexus::jobs {

struct JobRequest {
  std::string tenant = "default";
  std::string kind;
  nlohmann::json payload = nlohmann::json::object();
  int priority = 0;
  int max_attempts = 5;                // 1: no retries
  std::chrono::milliseconds delay{0};  // not taken before enqueue time + delay
  std::string run_on;                  // "": any node; else only the node of this id takes it
};

inline constexpr int kMaxListLimit = 1000;

struct JobQuery {
  std::optional<std::string> tenant;  // nullopt: every tenant (system administrators only)
  std::optional<JobState> state;
  std::string kind;                       // empty: any
  int limit = 50;                         // 1..kMaxListLimit
  std::optional<std::int64_t> before_id;  // paging cursor: jobs older than this
};

struct JobPage {
  std::vector<Job> items;                   // newest first
  std::optional<std::int64_t> next_cursor;  // before_id of the next page; nullopt on the last
};

enum class CancelOutcome {
  cancelled,         // it was waiting and will never run
  requested,         // it is running; its worker sees cancel_requested and stops
  already_finished,  // succeeded, dead or cancelled before
  not_found,         // no such job in this tenant
};

// The claim named in a call is no longer the job's current attempt: it expired and was
// settled by requeue_expired, or the job was cancelled meanwhile. The caller stops
// working on it; whatever it would have written is discarded.
class ClaimLost : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct JobQueueOptions {
  Clock clock = database_clock();
  RetryPolicy retry;
};

class JobQueue {
 public:
  // Applies the "kernel.jobs" migrations; throws store::MigrationError for a newer schema.
  explicit JobQueue(store::Database& database, JobQueueOptions options = {});

  // Stores a queued job. Throws std::invalid_argument naming the field for an empty
  // tenant or kind, max_attempts below 1 or a negative delay.
  Job enqueue(const JobRequest& request);
  // The same on the caller's session, inside the caller's transaction (store::Transaction):
  // the job exists only if that transaction commits (the scheduler advances a schedule and
  // enqueues its run atomically).
  Job enqueue(soci::session& sql, const JobRequest& request);

  // Takes the best waiting job whose time has come (priority, highest first, then
  // next_attempt_at, then id) among `kinds` (empty: any) meant for any node or for
  // `node_id` (JobRequest::run_on), marks it running for `node_id`
  // until now + claim_duration and counts the attempt. nullopt when there is none.
  std::optional<Job> claim_next(const std::string& node_id, std::chrono::milliseconds claim_duration,
                                const std::vector<std::string>& kinds = {});

  // Moves the claim's expiry to now + claim_duration. Returns cancel_requested.
  // Throws ClaimLost.
  bool extend_claim(const JobClaim& claim, std::chrono::milliseconds claim_duration);

  // Records progress (0..100, std::invalid_argument otherwise) and a message.
  // Returns cancel_requested. Throws ClaimLost.
  bool report_progress(const JobClaim& claim, int percent, const std::string& message);

  // The attempt succeeded: the job is finished with `result`. Throws ClaimLost.
  void complete(const JobClaim& claim, const nlohmann::json& result);

  // The attempt failed with `error`: the job waits for a retry (failed), or is dead when
  // it has no attempts left, or is cancelled when a cancel was requested. Returns the new
  // state. Throws ClaimLost.
  JobState fail(const JobClaim& claim, const std::string& error);

  CancelOutcome cancel(const std::string& tenant, std::int64_t id);

  // Settles every running job whose claim expired as a failed attempt (see fail).
  // Safe on any number of nodes at once. Returns how many it settled.
  int requeue_expired();

  std::optional<Job> get(const std::string& tenant, std::int64_t id);
  // Throws std::invalid_argument for a limit outside 1..kMaxListLimit.
  JobPage list(const JobQuery& query);

 private:
  JobState settle_failure(soci::session& sql, std::int64_t id, int attempts, int max_attempts,
                          bool cancel_requested, const std::string& error, store::TimePoint now);

  store::Database& database_;
  JobQueueOptions options_;
};

}  // namespace plexus::jobs
