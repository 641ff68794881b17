// Threads for request handlers that may block: database calls, plugin code.
//
// A pool that wakes a sleeping thread for every task (asio's thread_pool does, while any
// sleeps) pays a futex wake and a context switch per request once it has more threads than
// cores, which costs more than a fast handler. This pool lets tasks queue behind about one
// running thread per core. A task that has run for `blocked_after` no longer counts: the
// thread is taken to be waiting (a datasource across the network) and another is woken in
// its place, up to `max_threads`, as Go's runtime does with threads stuck in system calls.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace plexus::http {

class WorkerPool {
 public:
  struct Options {
    std::size_t max_threads = 8;
    std::size_t eager_threads = 0;  // woken without waiting; 0: one per core, at most max_threads
    std::chrono::microseconds blocked_after{1000};
  };

  explicit WorkerPool(Options options);
  ~WorkerPool();  // stop() and join()
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Tasks run in the order posted. A task that throws is logged; the pool goes on.
  void post(std::function<void()> task);

  // Queued tasks are dropped; running ones finish. Posts after stop() are dropped.
  void stop();
  // Waits for the threads to end; without stop(), first for every queued task to run.
  void join();

  std::size_t eager_threads() const { return eager_; }

  // What the threads are doing now, for the plexus_http_workers_* gauges.
  struct Load {
    std::size_t busy = 0;     // running a task
    std::size_t blocked = 0;  // of those, running for blocked_after or more
    std::size_t queued = 0;   // tasks waiting for a thread
  };
  Load load() const;

 private:
  struct Slot {
    bool running = false;
    bool blocked = false;     // counted in blocked_
    std::uint64_t since = 0;  // the watcher's tick when the task started
  };

  void run_thread(Slot& slot);
  void watch_for_blocked();
  bool wake_one_locked();  // tells a sleeping thread to run; false when none sleeps

  const std::size_t eager_;
  const std::chrono::microseconds blocked_after_;

  mutable std::mutex mutex_;
  std::condition_variable sleepers_;
  std::condition_variable watcher_;
  std::deque<std::function<void()>> tasks_;
  std::size_t awake_ = 0;     // threads not sleeping, counting those told to wake
  std::size_t sleeping_ = 0;
  std::size_t wakes_ = 0;     // wake-ups told but not yet taken by a sleeper
  std::size_t blocked_ = 0;   // awake threads whose task has run for blocked_after or more
  std::uint64_t tick_ = 0;
  std::vector<Slot> slots_;
  bool watcher_parked_ = false;
  bool draining_ = false;     // join() without stop(): run what is queued, then end
  bool stopping_ = false;

  std::vector<std::thread> threads_;
  std::thread watcher_thread_;
};

}  // namespace plexus::http
