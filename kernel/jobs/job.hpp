// A job of the persistent queue (DESIGN.md "events, jobs, scheduler"): what to run
// (kind and payload), for whom (tenant), and where it stands.
//
//   queued -> running -> succeeded
//                     -> failed     (attempts left: taken again once next_attempt_at is reached)
//                     -> dead       (no attempts left: the dead letter, error kept)
//                     -> cancelled  (cancel requested, and the worker stopped)
//   queued, failed -> cancelled     (cancelled while waiting)
// A running job whose claim expired (its node died) is settled like a failed attempt.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "kernel/store/clock.hpp"

namespace plexus::jobs {

enum class JobState { queued, running, succeeded, failed, dead, cancelled };

std::string_view to_string(JobState state);
// nullopt for anything but the names above.
std::optional<JobState> parse_job_state(std::string_view name);
bool is_finished(JobState state);  // succeeded, dead or cancelled: nothing changes any more

// Identifies one attempt at a job: the node that claimed it and the attempt number.
// Every call on a running job names its claim, so a node whose claim expired (and
// whose job went to another node) cannot complete or fail the newer attempt.
struct JobClaim {
  std::int64_t job_id = 0;
  std::string node_id;
  int attempt = 0;
};

struct Job {
  std::int64_t id = 0;
  std::string tenant = "default";
  std::string kind;  // which handler runs it: "documents.parse", "backup.run"
  nlohmann::json payload;
  int priority = 0;  // higher runs first
  JobState state = JobState::queued;
  int attempts = 0;  // attempts started so far, the running one included
  int max_attempts = 1;
  store::TimePoint next_attempt_at;  // a queued job is not taken before this
  int progress = 0;                  // 0..100, of the current or last attempt
  std::string progress_message;
  nlohmann::json result;   // what the handler returned; null until it succeeded
  std::string last_error;  // the last failure; kept when the job goes dead
  bool cancel_requested = false;
  store::TimePoint created_at;
  std::optional<store::TimePoint> started_at;        // the start of the last attempt
  std::optional<store::TimePoint> finished_at;       // once succeeded, dead or cancelled
  std::string claimed_by;                            // the node of the last attempt; "" before the first
  std::optional<store::TimePoint> claim_expires_at;  // while running
  std::string run_on;                                // "": any node takes it; else only this node

  JobClaim claim() const { return {id, claimed_by, attempts}; }
};

}  // namespace plexus::jobs
