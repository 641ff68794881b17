#include "kernel/jobs/job_service.hpp"

#include <stdexcept>

namespace plexus::jobs {

JobService::JobService(store::Database& database, JobServiceOptions options)
    : queue_(database, std::move(options.queue)),
      max_attempts_(options.max_attempts),
      worker_(queue_, std::move(options.worker)) {
  if (max_attempts_ < 1) throw std::invalid_argument("max_attempts must be at least 1");
}

JobService::~JobService() { stop(); }

bool JobService::handle(const std::string& kind, JobHandler handler, const std::string& owner) {
  if (owner.empty()) throw std::invalid_argument("the owner of a job handler must not be empty");
  std::lock_guard change(change_mutex_);
  {
    std::lock_guard lock(mutex_);
    if (const auto it = owners_.find(kind); it != owners_.end() && it->second != owner) return false;
  }
  worker_.handle(kind, std::move(handler), true);  // validates kind and handler
  std::lock_guard lock(mutex_);
  owners_[kind] = owner;
  return true;
}

std::size_t JobService::unhandle_owner(const std::string& owner, std::chrono::milliseconds wait_at_most) {
  std::lock_guard change(change_mutex_);
  std::vector<std::string> kinds;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [kind, holder] : owners_)
      if (holder == owner) kinds.push_back(kind);
  }
  for (const auto& kind : kinds) {
    worker_.unhandle(kind, wait_at_most);  // waits for that kind's running jobs
    std::lock_guard lock(mutex_);
    owners_.erase(kind);
  }
  return kinds.size();
}

std::vector<std::string> JobService::kinds() const { return worker_.kinds(); }

std::vector<HandlerInfo> JobService::handlers() const {
  const auto kinds = worker_.kinds();  // a kind being unhandled is already gone from here
  std::lock_guard lock(mutex_);
  std::vector<HandlerInfo> handlers;
  for (const auto& kind : kinds) {
    if (const auto it = owners_.find(kind); it != owners_.end()) handlers.push_back({kind, it->second});
  }
  return handlers;
}

void JobService::start() { worker_.start(); }

void JobService::stop() { worker_.stop(); }

}  // namespace plexus::jobs
