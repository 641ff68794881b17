// Internals shared by the server (listeners, shutdown) and its sessions.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "kernel/http/asio.hpp"
#include "kernel/http/dispatcher.hpp"
#include "kernel/http/server.hpp"
#include "kernel/http/worker_pool.hpp"
#include "kernel/metrics/registry.hpp"

namespace plexus::http {

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Graceful: an idle connection closes now, a busy one after its response, a stream ends.
  virtual void shutdown() = 0;
  virtual void force_close() = 0;
};

struct ListenerContext {
  ListenerOptions options;
  std::unique_ptr<net::ssl::context> tls;  // null: plain HTTP
  std::optional<tcp::acceptor> acceptor;
  metrics::Gauge* connections = nullptr;
};

struct Server::Impl {
  Impl(ServerOptions server_options, Router& router, metrics::Registry& registry);
  ~Impl();

  void accept(ListenerContext& listener);
  void track(const std::shared_ptr<SessionBase>& session);
  void untrack(SessionBase* session);
  std::vector<std::shared_ptr<SessionBase>> live_sessions();

  ServerOptions options;
  Dispatcher dispatcher;

  // Declared before the io_context: sessions destroyed with its pending handlers still use them.
  std::mutex sessions_mutex;
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> sessions;
  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> connections{0};
  metrics::Gauge& sse_streams;
  std::vector<std::unique_ptr<ListenerContext>> listeners;

  // One io_context per I/O thread: a connection lives on one thread for its whole
  // life, so its handlers need no strand and no locks. contexts[0] also accepts.
  std::vector<std::unique_ptr<net::io_context>> contexts;
  std::atomic<std::size_t> next_context{0};
  WorkerPool workers;
  // What the metrics registry's collector reads the pool through; it may outlive the server.
  struct WorkersProbe;
  std::shared_ptr<WorkersProbe> workers_probe;
  std::vector<std::thread> io_threads;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> keep_running;

  net::io_context& acceptor_context() { return *contexts.front(); }
  net::io_context& context_for_next_connection() { return *contexts[next_context++ % contexts.size()]; }
};

// Takes over an accepted socket: HTTP or, when the listener has TLS, HTTPS.
void start_session(Server::Impl& server, ListenerContext& listener, tcp::socket socket);

}  // namespace plexus::http
