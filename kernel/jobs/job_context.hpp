// What a job handler sees while it runs: the job, a way to report progress, and
// whether it should stop (a cancel was requested, or its claim was lost to an
// expiry so the job will run elsewhere anyway).
#pragma once

#include <atomic>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "kernel/jobs/job.hpp"

namespace plexus::jobs {

class JobQueue;

// Thrown by JobContext::throw_if_cancelled; the worker records the attempt as cancelled.
class JobCancelled : public std::runtime_error {
 public:
  JobCancelled() : std::runtime_error("cancelled on request") {}
};

// Shared by the worker thread running the job and the worker's claim keeper.
struct RunningJob {
  JobClaim claim;
  std::atomic<bool> cancel_requested{false};
  std::atomic<bool> claim_lost{false};
};

class JobContext {
 public:
  JobContext(JobQueue& queue, const Job& job, RunningJob& running)
      : queue_(queue), job_(job), running_(running) {}

  const Job& job() const { return job_; }
  const nlohmann::json& payload() const { return job_.payload; }

  // Records progress (0..100) for GET /jobs/{id} and the progress stream; also picks up a
  // cancel request at once. Database errors are logged, not thrown: progress is advisory.
  void progress(int percent, const std::string& message = {});

  // True once the handler should stop. It stops by throwing (throw_if_cancelled does):
  // returning records whatever it returns as the job's successful result.
  bool cancelled() const { return running_.cancel_requested || running_.claim_lost; }
  void throw_if_cancelled() const;

 private:
  JobQueue& queue_;
  const Job& job_;
  RunningJob& running_;
};

}  // namespace plexus::jobs
