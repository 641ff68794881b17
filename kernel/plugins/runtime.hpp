// Threads the plugin host runs plugin work on: an io_context for timers and a
// small worker pool for timer callbacks and service calls with a timeout.
#pragma once

#include <optional>
#include <thread>

#include "kernel/http/asio.hpp"
#include "kernel/plugins/plugin_host.hpp"

namespace plexus::plugins {

struct PluginHost::Runtime {
  explicit Runtime(int worker_count) : workers(static_cast<std::size_t>(worker_count)) {
    keep_running.emplace(timers.get_executor());
    timer_thread = std::thread([this] { timers.run(); });
  }
  ~Runtime() {
    keep_running.reset();
    timers.stop();
    timer_thread.join();
    workers.join();
  }
  http::net::io_context timers;
  std::optional<http::net::executor_work_guard<http::net::io_context::executor_type>> keep_running;
  std::thread timer_thread;
  http::net::thread_pool workers;
};

}  // namespace plexus::plugins
