// Work the kernel repeats on its own (retention of audit rows and revisions): one
// thread that runs a function after a first delay and then every interval, and
// stops promptly when destroyed.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace plexus::tasks {

class PeriodicTask {
 public:
  // An interval of 0 runs nothing (no thread). `run` must not throw.
  PeriodicTask(std::chrono::milliseconds interval, std::chrono::milliseconds first_delay, std::function<void()> run);
  // Wakes the thread and joins it; a run in progress finishes first.
  ~PeriodicTask();
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;

  bool running() const { return thread_.joinable(); }

 private:
  void loop(std::chrono::milliseconds first_delay);

  const std::chrono::milliseconds interval_;
  const std::function<void()> run_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts once everything above is initialised
};

}  // namespace plexus::tasks
