// The node's jobs (issue 6): its JobQueue and the JobWorker that runs the kinds some
// part of plexusd has a handler for. Handlers belong to an owner ("kernel" or a plugin
// name) and come and go while the node runs: a plugin registers its kinds when it
// starts and loses them all with unhandle_owner when it unloads.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "kernel/jobs/job_queue.hpp"
#include "kernel/jobs/job_worker.hpp"

namespace plexus::jobs {

struct JobServiceOptions {
  JobWorkerOptions worker;  // node_id: the cluster's node id
  int max_attempts = 5;     // for jobs the kernel enqueues (schedules) and plugins that name none
  JobQueueOptions queue;
};

// Kind and owner of one registered handler.
struct HandlerInfo {
  std::string kind, owner;
};

class JobService {
 public:
  // Applies the queue's migrations; std::invalid_argument for bad worker options or a
  // max_attempts below 1. The worker starts with start().
  JobService(store::Database& database, JobServiceOptions options);
  ~JobService();  // stop()
  JobService(const JobService&) = delete;
  JobService& operator=(const JobService&) = delete;

  JobQueue& queue() { return queue_; }
  int max_attempts() const { return max_attempts_; }

  // Registers `handler` for `kind` on behalf of `owner`; callable any time, before or
  // after start(). False (and nothing changes) when `kind` already has a handler of
  // another owner; the same owner's handler is replaced (jobs already running finish
  // with the old one). std::invalid_argument for an empty kind, owner or handler.
  bool handle(const std::string& kind, JobHandler handler, const std::string& owner);

  // Takes every handler of `owner` away and returns how many. Blocks until none of
  // them runs any more: jobs of its kinds that are running finish (and are recorded)
  // first, claims under way included. After it returns no handler of the owner is ever
  // called again, so a plugin's code can be unloaded. Jobs of those kinds still
  // waiting stay queued until some node has a handler again. Must not be called from
  // one of the owner's own handlers (std::logic_error: it would wait for itself), and
  // a handler must not call handle() while its owner is being unhandled.
  // `wait_at_most` bounds the wait per kind: a handler stuck longer keeps running, and
  // the caller must keep its code loaded (the plugin host does: every call into plugin
  // code holds a lease, and a generation with leases is never unloaded).
  std::size_t unhandle_owner(const std::string& owner,
                             std::chrono::milliseconds wait_at_most = std::chrono::milliseconds::max());

  // The kinds jobs are claimed for now (sorted); a kind whose owner is being unhandled
  // is gone from here at once.
  std::vector<std::string> kinds() const;
  std::vector<HandlerInfo> handlers() const;

  // Starts the worker threads (which claim nothing until a kind has a handler); stop()
  // claims nothing more and waits for running jobs. Both once; stop() before start() is a no-op.
  void start();
  void stop();

 private:
  JobQueue queue_;
  int max_attempts_;
  JobWorker worker_;
  std::mutex change_mutex_;                    // serialises handle and unhandle_owner (which may wait long)
  mutable std::mutex mutex_;                   // guards owners_, held only briefly
  std::map<std::string, std::string> owners_;  // kind -> owner
};

}  // namespace plexus::jobs
