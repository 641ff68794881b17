#include "kernel/http/worker_pool.hpp"

#include <algorithm>
#include <exception>

#include <spdlog/logger.h>

#include "kernel/log/log.hpp"

namespace plexus::http {
namespace {

std::size_t eager_count(const WorkerPool::Options& options) {
  const std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
  const std::size_t wanted = options.eager_threads > 0 ? options.eager_threads : cores;
  return std::clamp<std::size_t>(wanted, 1, std::max<std::size_t>(1, options.max_threads));
}

}  // namespace

WorkerPool::WorkerPool(Options options)
    : eager_(eager_count(options)),
      blocked_after_(std::max(options.blocked_after, std::chrono::microseconds(1))),
      slots_(std::max<std::size_t>(1, options.max_threads)) {
  std::lock_guard lock(mutex_);
  sleeping_ = slots_.size();  // each thread starts waiting to be woken
  threads_.reserve(slots_.size());
  for (auto& slot : slots_) threads_.emplace_back([this, &slot] { run_thread(slot); });
  watcher_thread_ = std::thread([this] { watch_for_blocked(); });
}

WorkerPool::~WorkerPool() {
  stop();
  join();
}

void WorkerPool::post(std::function<void()> task) {
  bool wake_watcher = false;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    tasks_.push_back(std::move(task));
    if (awake_ - blocked_ < eager_) wake_one_locked();
    if (watcher_parked_) {
      watcher_parked_ = false;
      wake_watcher = true;
    }
  }
  if (wake_watcher) watcher_.notify_one();
}

bool WorkerPool::wake_one_locked() {
  if (sleeping_ <= wakes_) return false;
  ++wakes_;
  ++awake_;
  sleepers_.notify_one();
  return true;
}

void WorkerPool::run_thread(Slot& slot) {
  std::unique_lock lock(mutex_);
  for (;;) {
    sleepers_.wait(lock, [this] { return wakes_ > 0 || stopping_ || draining_; });
    --sleeping_;
    if (wakes_ > 0) {
      --wakes_;  // awake_ was counted by whoever woke us
    } else {
      ++awake_;
    }
    while (!tasks_.empty()) {
      auto task = std::move(tasks_.front());
      tasks_.pop_front();
      slot = Slot{.running = true, .blocked = false, .since = tick_};
      lock.unlock();
      try {
        task();
      } catch (const std::exception& e) {
        log::get("http")->error("a worker task failed: {}", e.what());
      } catch (...) {
        log::get("http")->error("a worker task failed with an unknown exception");
      }
      task = nullptr;  // what it holds is released outside the lock
      lock.lock();
      if (slot.blocked) --blocked_;
      slot = Slot{};
    }
    --awake_;
    if (stopping_ || draining_) return;
    ++sleeping_;
  }
}

// Every blocked_after: tasks that started before the previous tick have run at least that
// long, so their threads stop counting against eager_ and sleepers are woken for the queue.
void WorkerPool::watch_for_blocked() {
  std::unique_lock lock(mutex_);
  while (!stopping_ && !draining_) {
    if (awake_ == 0) {  // nothing runs, nothing can block: sleep until the next post
      watcher_parked_ = true;
      watcher_.wait(lock, [this] { return !watcher_parked_ || stopping_ || draining_; });
      continue;
    }
    watcher_.wait_for(lock, blocked_after_, [this] { return stopping_ || draining_; });
    ++tick_;
    for (auto& slot : slots_) {
      if (slot.running && !slot.blocked && slot.since + 1 < tick_) {
        slot.blocked = true;
        ++blocked_;
      }
    }
    for (std::size_t queued = tasks_.size(); queued > 0 && awake_ - blocked_ < eager_; --queued) {
      if (!wake_one_locked()) break;
    }
  }
}

WorkerPool::Load WorkerPool::load() const {
  std::lock_guard lock(mutex_);
  Load load{.blocked = blocked_, .queued = tasks_.size()};
  load.busy = static_cast<std::size_t>(
      std::count_if(slots_.begin(), slots_.end(), [](const Slot& slot) { return slot.running; }));
  return load;
}

void WorkerPool::stop() {
  std::deque<std::function<void()>> dropped;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    dropped.swap(tasks_);
  }
  sleepers_.notify_all();
  watcher_.notify_all();
}

void WorkerPool::join() {
  {
    std::lock_guard lock(mutex_);
    draining_ = true;
  }
  sleepers_.notify_all();
  watcher_.notify_all();
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  if (watcher_thread_.joinable()) watcher_thread_.join();
}

}  // namespace plexus::http
