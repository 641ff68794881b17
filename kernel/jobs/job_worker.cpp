#include "kernel/jobs/job_worker.hpp"

#include <stdexcept>

#include <spdlog/logger.h>

#include "kernel/log/log.hpp"

namespace plexus::jobs {
namespace {

std::shared_ptr<spdlog::logger> logger() { return log::get("jobs"); }

// The job this thread is running, so unhandle() called from inside a handler of that
// very kind fails instead of waiting for itself.
struct CurrentRun {
  const JobWorker* worker = nullptr;
  const std::string* kind = nullptr;
};
thread_local CurrentRun current_run;

}  // namespace

JobWorker::JobWorker(JobQueue& queue, JobWorkerOptions options)
    : queue_(queue), options_(std::move(options)) {
  if (options_.node_id.empty()) throw std::invalid_argument("node_id must not be empty");
  if (options_.concurrency < 1) throw std::invalid_argument("concurrency must be at least 1");
  if (options_.poll_interval.count() <= 0) throw std::invalid_argument("poll_interval must be positive");
  if (options_.claim_duration.count() < 3)
    throw std::invalid_argument("claim_duration must be at least 3 ms");
}

JobWorker::~JobWorker() { stop(); }

void JobWorker::handle(const std::string& kind, JobHandler handler, bool replace) {
  if (kind.empty()) throw std::invalid_argument("a job kind must not be empty");
  if (!handler) throw std::invalid_argument("the handler of job kind '" + kind + "' is empty");
  {
    std::lock_guard lock(mutex_);
    auto& slot = handlers_[kind];
    if (slot && !replace) throw std::invalid_argument("job kind '" + kind + "' already has a handler");
    slot = std::make_shared<const JobHandler>(std::move(handler));
    ++handlers_generation_;
  }
  wake_.notify_all();  // idle threads claim the new kind at once
}

bool JobWorker::unhandle(const std::string& kind, std::chrono::milliseconds wait_at_most) {
  if (current_run.worker == this && current_run.kind != nullptr && *current_run.kind == kind) {
    throw std::logic_error("a handler of job kind '" + kind + "' cannot take its own kind away");
  }
  std::unique_lock lock(mutex_);
  if (handlers_.erase(kind) == 0) return false;
  ++handlers_generation_;
  // Claims already under way may still return a job of the kind; it runs with the handler
  // they saw, so wait for those claims and for every running job of the kind.
  const auto done = [&] { return claiming_kinds_.count(kind) == 0 && running_kinds_.count(kind) == 0; };
  if (wait_at_most == std::chrono::milliseconds::max()) {
    finished_.wait(lock, done);
  } else {
    finished_.wait_for(lock, wait_at_most, done);
  }
  return true;
}

std::vector<std::string> JobWorker::kinds() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> kinds;
  for (const auto& [kind, handler] : handlers_) kinds.push_back(kind);
  return kinds;
}

void JobWorker::start() {
  if (started_) throw std::logic_error("the job worker was already started");
  started_ = true;
  keeper_ = std::make_unique<tasks::PeriodicTask>(options_.claim_duration / 3, options_.claim_duration / 3,
                                                  [this] { keep_claims(); });
  for (int i = 0; i < options_.concurrency; ++i) threads_.emplace_back([this] { work(); });
}

void JobWorker::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& thread : threads_) thread.join();
  threads_.clear();
  keeper_.reset();  // last: it kept the claims of the jobs that were finishing
}

void JobWorker::work() {
  while (true) {
    std::map<std::string, std::shared_ptr<const JobHandler>> handlers;
    std::vector<std::string> kinds;
    std::uint64_t generation = 0;
    {
      std::unique_lock lock(mutex_);
      if (stopping_) return;
      generation = handlers_generation_;
      if (handlers_.empty()) {
        // No handler: claiming with no kinds would take jobs of every kind.
        wake_.wait(lock, [&] { return stopping_ || handlers_generation_ != generation; });
        continue;
      }
      handlers = handlers_;
      for (const auto& [kind, handler] : handlers) {
        kinds.push_back(kind);
        claiming_kinds_.insert(kind);
      }
    }
    std::optional<Job> job;
    try {
      job = queue_.claim_next(options_.node_id, options_.claim_duration, kinds);
    } catch (const std::exception& error) {
      logger()->warn("could not claim a job, trying again in {} ms: {}", options_.poll_interval.count(),
                     error.what());
    }
    std::shared_ptr<RunningJob> running;
    std::shared_ptr<const JobHandler> handler;
    {
      std::lock_guard lock(mutex_);
      for (const auto& kind : kinds) claiming_kinds_.erase(claiming_kinds_.find(kind));
      if (job) {
        // In the same critical section as the claim's end, so unhandle never misses it.
        running = std::make_shared<RunningJob>();
        running->claim = job->claim();
        running_[job->id] = running;
        running_kinds_.insert(job->kind);
        // The kind's handler now (it may have been replaced during the claim); the one the
        // claim saw when it was taken away meanwhile (unhandle waits for this job).
        const auto current = handlers_.find(job->kind);
        handler = current != handlers_.end() ? current->second : handlers.at(job->kind);
      }
    }
    finished_.notify_all();
    if (job) {
      run(*job, running, handler);
      continue;
    }
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, options_.poll_interval,
                   [&] { return stopping_ || handlers_generation_ != generation; });
  }
}

void JobWorker::run(const Job& job, const std::shared_ptr<RunningJob>& running,
                    const std::shared_ptr<const JobHandler>& handler) {
  JobContext context(queue_, job, *running);
  std::optional<nlohmann::json> result;
  std::string error;
  current_run = {this, &job.kind};
  try {
    result = (*handler)(context);
  } catch (const std::exception& thrown) {
    error = thrown.what();
  } catch (...) {
    error = "the handler threw something other than a std::exception";
  }
  current_run = {};
  finish(running->claim, job, result, error);
  {
    std::lock_guard lock(mutex_);
    running_.erase(job.id);
    running_kinds_.erase(running_kinds_.find(job.kind));
  }
  finished_.notify_all();
}

// Separate from running the handler: a database error while recording a success must not
// turn it into a failed attempt. Either way, unrecorded outcomes end with the claim expiring.
void JobWorker::finish(const JobClaim& claim, const Job& job, const std::optional<nlohmann::json>& result,
                       const std::string& error) {
  try {
    if (result) {
      queue_.complete(claim, *result);
      logger()->debug("job {} ({}) succeeded on attempt {}", job.id, job.kind, claim.attempt);
    } else {
      const auto state = queue_.fail(claim, error);
      logger()->warn("job {} ({}) attempt {} of {} failed, now {}: {}", job.id, job.kind, claim.attempt,
                     job.max_attempts, to_string(state), error);
    }
  } catch (const ClaimLost& lost) {
    logger()->warn("{}; its outcome here is discarded", lost.what());
  } catch (const std::exception& failure) {
    logger()->error(
        "job {} ({}): could not record the outcome of attempt {}, it will be retried once the claim "
        "expires: {}",
        job.id, job.kind, claim.attempt, failure.what());
  }
}

void JobWorker::keep_claims() {
  std::vector<std::shared_ptr<RunningJob>> jobs;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, running] : running_) jobs.push_back(running);
  }
  for (const auto& running : jobs) {
    try {
      if (queue_.extend_claim(running->claim, options_.claim_duration)) running->cancel_requested = true;
    } catch (const ClaimLost&) {
      running->claim_lost = true;
    } catch (const std::exception& error) {
      logger()->warn("job {}: could not extend the claim: {}", running->claim.job_id, error.what());
    }
  }
  try {
    if (const int settled = queue_.requeue_expired(); settled > 0) {
      logger()->warn("settled {} job attempts whose claims expired (a node stopped or lost the database)",
                     settled);
    }
  } catch (const std::exception& error) {
    logger()->warn("could not requeue expired job claims: {}", error.what());
  }
}

}  // namespace plexus::jobs
