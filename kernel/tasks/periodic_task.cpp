#include "kernel/tasks/periodic_task.hpp"

namespace plexus::tasks {

PeriodicTask::PeriodicTask(std::chrono::milliseconds interval, std::chrono::milliseconds first_delay,
                           std::function<void()> run)
    : interval_(interval), run_(std::move(run)) {
  if (interval_.count() <= 0) return;
  thread_ = std::thread([this, first_delay] { loop(first_delay); });
}

PeriodicTask::~PeriodicTask() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void PeriodicTask::loop(std::chrono::milliseconds first_delay) {
  auto delay = first_delay;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      if (wake_.wait_for(lock, delay, [this] { return stopping_; })) return;
    }
    run_();
    delay = interval_;
  }
}

}  // namespace plexus::tasks
