#include "kernel/http/server.hpp"

#include <stdexcept>

#include <fmt/format.h>
#include <spdlog/logger.h>

#include "kernel/http/server_impl.hpp"
#include "kernel/log/log.hpp"

namespace plexus::http {
namespace {

std::unique_ptr<net::ssl::context> make_tls_context(const ListenerOptions& options) {
  auto context = std::make_unique<net::ssl::context>(net::ssl::context::tls_server);
  context->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                       net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 | net::ssl::context::no_tlsv1_1 |
                       net::ssl::context::single_dh_use);
  beast::error_code ec;
  context->use_certificate_chain_file(options.tls_cert_file, ec);
  if (ec) {
    throw std::runtime_error(fmt::format("listener '{}': cannot use TLS certificate '{}': {}", options.name,
                                         options.tls_cert_file, ec.message()));
  }
  context->use_private_key_file(options.tls_key_file, net::ssl::context::pem, ec);
  if (ec) {
    throw std::runtime_error(fmt::format("listener '{}': cannot use TLS key '{}': {}", options.name,
                                         options.tls_key_file, ec.message()));
  }
  return context;
}

}  // namespace

struct Server::Impl::WorkersProbe {
  std::mutex mutex;
  const WorkerPool* pool = nullptr;  // null once the server is gone
};

Server::Impl::Impl(ServerOptions server_options, Router& router, metrics::Registry& registry)
    : options(std::move(server_options)),
      dispatcher(router, registry, options.authenticator, CorsPolicy(options.cors_origins)),
      sse_streams(registry.gauge("plexus_http_sse_streams_open", "Server-Sent Events streams open now.").with({})),
      workers({.max_threads = static_cast<std::size_t>(std::max(1, options.workers))}),
      workers_probe(std::make_shared<WorkersProbe>()) {
  workers_probe->pool = &workers;
  // Sampled at each scrape: busy equal to http.workers with requests queued is starvation.
  registry.add_collector(
      [probe = workers_probe,
       busy = &registry.gauge("plexus_http_workers_busy", "Handler threads running a request now.").with({}),
       blocked = &registry
                      .gauge("plexus_http_workers_blocked",
                             "Handler threads whose request has run for over a millisecond (waiting on I/O).")
                      .with({}),
       queued = &registry.gauge("plexus_http_requests_queued", "Requests waiting for a handler thread.").with({})] {
        std::lock_guard lock(probe->mutex);
        if (probe->pool == nullptr) return;
        const auto load = probe->pool->load();
        busy->set(static_cast<double>(load.busy));
        blocked->set(static_cast<double>(load.blocked));
        queued->set(static_cast<double>(load.queued));
      });
  for (int i = 0; i < std::max(1, options.io_threads); ++i) {
    contexts.push_back(std::make_unique<net::io_context>(1));  // 1: each runs on exactly one thread
  }
}

Server::Impl::~Impl() {
  // Acceptors belong to the io_context's services: close them while it still exists.
  for (auto& listener : listeners) listener->acceptor.reset();
  {
    std::lock_guard lock(workers_probe->mutex);
    workers_probe->pool = nullptr;
  }
  workers.join();
}

void Server::Impl::accept(ListenerContext& listener) {
  listener.acceptor->async_accept(context_for_next_connection(), [this, &listener](beast::error_code ec,
                                                                                   tcp::socket socket) {
    if (ec == net::error::operation_aborted || !listener.acceptor->is_open()) return;
    if (!ec) {
      if (stopping) {
        socket.close(ec);
      } else if (connections.load() >= options.max_connections) {
        dispatcher.rejected("max_connections");
        socket.close(ec);
      } else {
        start_session(*this, listener, std::move(socket));
      }
    } else if (ec == net::error::no_descriptors) {
      // Out of file descriptors: back off briefly instead of spinning.
      log::get("http")->error("accept on listener '{}' failed: {}", listener.options.name, ec.message());
      auto timer = std::make_shared<net::steady_timer>(acceptor_context(), std::chrono::milliseconds(50));
      timer->async_wait([this, &listener, timer](beast::error_code) { accept(listener); });
      return;
    }
    accept(listener);
  });
}

void Server::Impl::track(const std::shared_ptr<SessionBase>& session) {
  std::lock_guard lock(sessions_mutex);
  sessions.emplace(session.get(), session);
}

void Server::Impl::untrack(SessionBase* session) {
  std::lock_guard lock(sessions_mutex);
  sessions.erase(session);
}

std::vector<std::shared_ptr<SessionBase>> Server::Impl::live_sessions() {
  std::lock_guard lock(sessions_mutex);
  std::vector<std::shared_ptr<SessionBase>> result;
  for (auto& [raw, weak] : sessions) {
    if (auto session = weak.lock()) result.push_back(std::move(session));
  }
  return result;
}

Server::Server(ServerOptions options, Router& router, metrics::Registry& metrics)
    : impl_(std::make_unique<Impl>(std::move(options), router, metrics)) {}

Server::~Server() {
  if (!impl_->io_threads.empty()) stop(std::chrono::milliseconds(0));
}

void Server::start() {
  auto& connections_gauge =
      impl_->dispatcher.metrics().gauge("plexus_http_connections_open", "Client connections open now.", {"listener"});
  for (const auto& options : impl_->options.listeners) {
    auto listener = std::make_unique<ListenerContext>();
    listener->options = options;
    if (!options.tls_cert_file.empty() || !options.tls_key_file.empty()) {
      if (options.tls_cert_file.empty() || options.tls_key_file.empty()) {
        throw std::runtime_error(
            fmt::format("listener '{}': TLS needs both a certificate and a key", options.name));
      }
      listener->tls = make_tls_context(options);
    }
    listener->connections = &connections_gauge.with({options.name});
    beast::error_code ec;
    const auto address = net::ip::make_address(options.address, ec);
    if (ec) {
      throw std::runtime_error(fmt::format("listener '{}': '{}' is not an IP address", options.name, options.address));
    }
    const tcp::endpoint endpoint(address, static_cast<unsigned short>(options.port));
    auto& acceptor = listener->acceptor.emplace(impl_->acceptor_context());
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      throw std::runtime_error(fmt::format("listener '{}': cannot listen on {}:{}: {}", options.name, options.address,
                                           options.port, ec.message()));
    }
    impl_->listeners.push_back(std::move(listener));
  }
  for (auto& listener : impl_->listeners) impl_->accept(*listener);
  for (auto& context : impl_->contexts) {
    impl_->keep_running.push_back(net::make_work_guard(*context));
    impl_->io_threads.emplace_back([&context = *context] { context.run(); });
  }
  for (const auto& listener : impl_->listeners) {
    log::get("http")->info("listening on {}://{}:{} ({})", listener->tls ? "https" : "http",
                           listener->options.address, listener->acceptor->local_endpoint().port(),
                           listener->options.name);
  }
}

int Server::port(std::string_view listener) const {
  for (const auto& candidate : impl_->listeners) {
    if (candidate->options.name == listener && candidate->acceptor) {
      beast::error_code ec;
      const auto endpoint = candidate->acceptor->local_endpoint(ec);
      return ec ? -1 : endpoint.port();
    }
  }
  return -1;
}

std::size_t Server::open_connections() const { return impl_->connections.load(); }

bool Server::stop(std::chrono::milliseconds deadline) {
  using Clock = std::chrono::steady_clock;
  if (impl_->io_threads.empty()) return true;
  const auto until = Clock::now() + deadline;
  impl_->stopping = true;
  for (auto& listener : impl_->listeners) {
    net::post(impl_->acceptor_context(), [&listener] {
      beast::error_code ignored;
      listener->acceptor->close(ignored);
    });
  }
  for (auto& session : impl_->live_sessions()) session->shutdown();
  while (impl_->connections.load() > 0 && Clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const bool clean = impl_->connections.load() == 0;
  if (!clean) {
    log::get("http")->warn("shutdown deadline reached with {} connection(s) still open; closing them",
                           impl_->connections.load());
    for (auto& session : impl_->live_sessions()) session->force_close();
    const auto grace = Clock::now() + std::chrono::milliseconds(500);
    while (impl_->connections.load() > 0 && Clock::now() < grace) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  impl_->keep_running.clear();
  for (auto& context : impl_->contexts) context->stop();
  for (auto& thread : impl_->io_threads) thread.join();
  impl_->io_threads.clear();
  // Handlers still running past the deadline are left to finish; the pool joins them.
  impl_->workers.stop();
  if (clean) impl_->workers.join();
  return clean;
}

}  // namespace plexus::http
