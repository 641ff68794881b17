#include "kernel/jobs/job_worker.hpp"

#include <stdexcept>

#include <spdlog/logger.h>

#include "kernel/log/log.hpp"

namespace plexus::jobs {
namespace {

std::shared_ptr<spdlog::logger> logger() { return log::get("jobs"); }

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

void JobWorker::handle(const std::string& kind, JobHandler handler) {
  if (started_) throw std::logic_error("handlers must be registered before the worker starts");
  if (kind.empty()) throw std::invalid_argument("a job kind must not be empty");
  if (!handler) throw std::invalid_argument("the handler of job kind '" + kind + "' is empty");
  if (!handlers_.emplace(kind, std::move(handler)).second) {
    throw std::invalid_argument("job kind '" + kind + "' already has a handler");
  }
  kinds_.push_back(kind);
}

void JobWorker::start() {
  if (started_) throw std::logic_error("the job worker was already started");
  if (handlers_.empty())
    throw std::logic_error("the job worker has no handlers: it would take jobs of every kind");
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

bool JobWorker::stopping() {
  std::lock_guard lock(mutex_);
  return stopping_;
}

void JobWorker::work() {
  while (!stopping()) {
    std::optional<Job> job;
    try {
      job = queue_.claim_next(options_.node_id, options_.claim_duration, kinds_);
    } catch (const std::exception& error) {
      logger()->warn("could not claim a job, trying again in {} ms: {}", options_.poll_interval.count(),
                     error.what());
    }
    if (job) {
      run(*job);
      continue;
    }
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, options_.poll_interval, [this] { return stopping_; });
  }
}

void JobWorker::run(const Job& job) {
  auto running = std::make_shared<RunningJob>();
  running->claim = job.claim();
  {
    std::lock_guard lock(mutex_);
    running_[job.id] = running;
  }
  JobContext context(queue_, job, *running);
  std::optional<nlohmann::json> result;
  std::string error;
  try {
    result = handlers_.at(job.kind)(context);
  } catch (const std::exception& thrown) {
    error = thrown.what();
  } catch (...) {
    error = "the handler threw something other than a std::exception";
  }
  finish(running->claim, job, result, error);
  std::lock_guard lock(mutex_);
  running_.erase(job.id);
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
