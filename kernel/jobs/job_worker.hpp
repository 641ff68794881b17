// A pool of threads that runs jobs of the kinds it has handlers for (DESIGN.md
// "events, jobs, scheduler"). Each thread claims a job, runs its handler and
// completes it with the returned JSON or fails it with what the handler threw.
// Handlers come and go while the worker runs (plugins load and unload): a worker
// without handlers claims nothing, and unhandle() returns only once no handler of
// the kind runs any more.
// A keeper thread extends the claims of running jobs (every claim_duration / 3),
// passes cancel requests on to their handlers, and requeues claims that other
// nodes let expire, so a node that died has its jobs retried here.
//
// Stopping (stop() or the destructor) claims nothing more and waits for running
// handlers to finish, their claims kept alive meanwhile: a clean shutdown never
// abandons a job. A process that is killed instead abandons its jobs; their claims
// expire and another node (or this one after a restart) retries them.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernel/jobs/job_context.hpp"
#include "kernel/jobs/job_queue.hpp"
#include "kernel/tasks/periodic_task.hpp"

namespace plexus::jobs {

// Runs one attempt and returns the job's result, or throws to fail the attempt
// (JobCancelled, from JobContext::throw_if_cancelled, ends it as cancelled).
// Called on a worker thread; several jobs run at once up to the concurrency.
using JobHandler = std::function<nlohmann::json(JobContext&)>;

struct JobWorkerOptions {
  std::string node_id;  // claims are recorded under it: unique per node
  int concurrency = 2;  // jobs run at once
  std::chrono::milliseconds poll_interval{std::chrono::seconds(1)};  // wait when no job is due
  // How long a claim lasts without being extended: the time until another node retries
  // the jobs of a node that died.
  std::chrono::milliseconds claim_duration{std::chrono::seconds(60)};
};

class JobWorker {
 public:
  // Throws std::invalid_argument naming the option for an empty node id, a concurrency
  // below 1, a poll interval that is not positive or a claim duration below 3 ms.
  JobWorker(JobQueue& queue, JobWorkerOptions options);
  ~JobWorker();  // stop()
  JobWorker(const JobWorker&) = delete;
  JobWorker& operator=(const JobWorker&) = delete;

  // Any time, before or after start(). std::invalid_argument for an empty kind or
  // handler, and for a kind that already has a handler unless `replace` (jobs already
  // running keep the handler they started with).
  void handle(const std::string& kind, JobHandler handler, bool replace = false);

  // Takes the kind's handler away: no job of the kind is claimed any more, and it
  // returns once every job of the kind that was running (or being claimed) has
  // finished and been recorded, so after it returns the handler is never called
  // again. False when the kind had no handler. Called from a handler of that very
  // kind it would wait for itself: std::logic_error. `wait_at_most` bounds the wait:
  // a handler stuck longer keeps running (its caller must keep its code alive) and
  // unhandle returns without that guarantee.
  bool unhandle(const std::string& kind,
                std::chrono::milliseconds wait_at_most = std::chrono::milliseconds::max());

  std::vector<std::string> kinds() const;

  // Starts the threads; std::logic_error when already started. Without handlers the
  // threads claim nothing until one is added.
  void start();

  // Claims no more jobs, waits for the running ones to finish, then stops the keeper.
  void stop();

 private:
  void work();
  void run(const Job& job, const std::shared_ptr<RunningJob>& running,
           const std::shared_ptr<const JobHandler>& handler);
  void finish(const JobClaim& claim, const Job& job, const std::optional<nlohmann::json>& result,
              const std::string& error);
  void keep_claims();

  JobQueue& queue_;
  const JobWorkerOptions options_;

  mutable std::mutex mutex_;  // guards everything below but the threads
  std::condition_variable wake_;      // work to claim, or stopping
  std::condition_variable finished_;  // a claim or a job ended (unhandle waits on it)
  bool stopping_ = false;
  std::map<std::string, std::shared_ptr<const JobHandler>> handlers_;
  std::uint64_t handlers_generation_ = 0;  // changes with every handle/unhandle
  std::multiset<std::string> claiming_kinds_;  // the kinds of every claim_next under way
  std::map<std::int64_t, std::shared_ptr<RunningJob>> running_;
  std::multiset<std::string> running_kinds_;

  bool started_ = false;  // start() runs once per worker
  std::vector<std::thread> threads_;
  std::unique_ptr<tasks::PeriodicTask> keeper_;
};

}  // namespace plexus::jobs
