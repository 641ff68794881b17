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

  net::io_context ioc;
  net::thread_pool workers;
  std::vector<std::thread> io_threads;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> keep_running;
};

// Takes over an accepted socket: HTTP or, when the listener has TLS, HTTPS.
void start_session(Server::Impl& server, ListenerContext& listener, tcp::socket socket);

}  // namespace plexus::http
