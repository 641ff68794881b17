// The HTTP handler pool (kernel/http/worker_pool.hpp): tasks queue behind the eager threads
// while those keep up, and a task that runs past blocked_after lets another thread in.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <stdexcept>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "kernel/http/worker_pool.hpp"

using plexus::http::WorkerPool;
using namespace std::chrono_literals;

namespace {

// A deadlock shows as a failed wait instead of a test that never ends.
constexpr auto kPatience = 60s;

template <typename T>
bool arrives(std::future<T>& future) {
  return future.wait_for(kPatience) == std::future_status::ready;
}

// Counts the tasks running at once and the most seen.
struct Concurrency {
  std::atomic<int> now{0};
  std::atomic<int> peak{0};
  void enter() {
    const int running = ++now;
    int seen = peak.load();
    while (running > seen && !peak.compare_exchange_weak(seen, running)) {
    }
  }
  void leave() { --now; }
};

}  // namespace

TEST_CASE("every posted task runs, in the order posted") {
  WorkerPool pool({.max_threads = 1});
  std::vector<int> order;
  for (int i = 0; i < 100; ++i) pool.post([&order, i] { order.push_back(i); });
  pool.join();  // without stop(): runs what is queued first
  REQUIRE(order.size() == 100);
  for (int i = 0; i < 100; ++i) CHECK(order[static_cast<std::size_t>(i)] == i);
}

TEST_CASE("short tasks queue behind the eager threads instead of waking the others") {
  WorkerPool pool({.max_threads = 4, .eager_threads = 1, .blocked_after = std::chrono::microseconds(10s)});
  REQUIRE(pool.eager_threads() == 1);
  Concurrency concurrency;
  std::promise<void> done;
  std::atomic<int> left{200};
  for (int i = 0; i < 200; ++i) {
    pool.post([&] {
      concurrency.enter();
      std::this_thread::yield();  // a second thread, were one awake, would get in here
      concurrency.leave();
      if (--left == 0) done.set_value();
    });
  }
  auto finished = done.get_future();
  REQUIRE(arrives(finished));
  CHECK(concurrency.peak == 1);
}

TEST_CASE("a task that blocks past blocked_after lets another thread run the queue") {
  WorkerPool pool({.max_threads = 2, .eager_threads = 1, .blocked_after = std::chrono::microseconds(1ms)});
  std::promise<void> second_ran;
  auto second = second_ran.get_future().share();
  std::promise<bool> first_released;
  // The first task waits for the second: with one thread only, neither would ever end.
  pool.post([second, &first_released] {
    first_released.set_value(second.wait_for(kPatience) == std::future_status::ready);
  });
  pool.post([&second_ran] { second_ran.set_value(); });
  auto released = first_released.get_future();
  REQUIRE(arrives(released));
  CHECK(released.get());
}

TEST_CASE("blocked tasks take threads up to max_threads and no more") {
  WorkerPool pool({.max_threads = 3, .eager_threads = 1, .blocked_after = std::chrono::microseconds(1ms)});
  Concurrency concurrency;
  std::promise<void> release;
  auto go = release.get_future().share();
  std::promise<void> all_done;
  std::atomic<int> left{8};
  std::promise<void> three_running;
  std::atomic<bool> told{false};
  for (int i = 0; i < 8; ++i) {
    pool.post([&, go] {
      concurrency.enter();
      if (concurrency.now == 3 && !told.exchange(true)) three_running.set_value();
      go.wait();
      concurrency.leave();
      if (--left == 0) all_done.set_value();
    });
  }
  auto three = three_running.get_future();
  REQUIRE(arrives(three));
  release.set_value();
  auto done = all_done.get_future();
  REQUIRE(arrives(done));
  CHECK(concurrency.peak == 3);
}

TEST_CASE("stop drops the queued tasks and lets the running one finish") {
  WorkerPool pool({.max_threads = 1});
  std::promise<void> started;
  std::promise<void> release;
  auto go = release.get_future().share();
  std::atomic<int> ran{0};
  pool.post([&, go] {
    started.set_value();
    go.wait();
    ++ran;
  });
  for (int i = 0; i < 5; ++i) pool.post([&ran] { ++ran; });
  auto running = started.get_future();
  REQUIRE(arrives(running));
  pool.stop();
  pool.post([&ran] { ++ran; });  // after stop(): dropped
  release.set_value();
  pool.join();
  CHECK(ran == 1);
}

TEST_CASE("a task that throws leaves its thread serving the next") {
  WorkerPool pool({.max_threads = 1});
  std::promise<void> next_ran;
  pool.post([] { throw std::runtime_error("handler bug"); });
  pool.post([] { throw 42; });
  pool.post([&next_ran] { next_ran.set_value(); });
  auto next = next_ran.get_future();
  REQUIRE(arrives(next));
}

TEST_CASE("eager threads default to one per core and never exceed max_threads") {
  WorkerPool one({.max_threads = 1, .eager_threads = 8});
  CHECK(one.eager_threads() == 1);
  WorkerPool cores({.max_threads = 64});
  CHECK(cores.eager_threads() == std::min(64u, std::max(1u, std::thread::hardware_concurrency())));
}

TEST_CASE("load counts busy, blocked and queued tasks") {
  WorkerPool pool({.max_threads = 1, .blocked_after = std::chrono::microseconds(1ms)});
  CHECK(pool.load().busy == 0);
  std::promise<void> release;
  auto go = release.get_future().share();
  std::promise<void> started;
  pool.post([&started, go] {
    started.set_value();
    go.wait();
  });
  pool.post([] {});
  auto running = started.get_future();
  REQUIRE(arrives(running));
  auto load = pool.load();
  for (int i = 0; i < 6000 && load.blocked == 0; ++i) {  // marked at the watcher's next ticks
    std::this_thread::sleep_for(10ms);
    load = pool.load();
  }
  CHECK(load.busy == 1);
  CHECK(load.blocked == 1);
  CHECK(load.queued == 1);
  release.set_value();
  pool.join();
  load = pool.load();
  CHECK(load.busy == 0);
  CHECK(load.blocked == 0);
  CHECK(load.queued == 0);
}
