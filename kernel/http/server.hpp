// The kernel's HTTP/1.1 server (Boost.Beast on Asio). I/O threads only move bytes;
// handlers run on a separate worker pool, so a slow handler never blocks I/O and an
// open SSE stream holds no thread at all. Limits cut off oversized, slow and idle
// clients without blocking anyone; stop() drains in-flight requests to a deadline.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kernel/http/access.hpp"
#include "kernel/http/router.hpp"

namespace plexus::metrics {
class Registry;
}

namespace plexus::http {

struct ListenerOptions {
  std::string name = "main";
  std::string address = "127.0.0.1";
  int port = 8080;  // 0: pick a free port (see Server::port)
  Surface surface = Surface::both;
  std::string tls_cert_file;  // PEM; with tls_key_file the listener speaks HTTPS only
  std::string tls_key_file;
};

struct ServerOptions {
  std::vector<ListenerOptions> listeners{ListenerOptions{}};
  int io_threads = 2;
  int workers = 8;
  std::size_t max_header_size = 16 * 1024;       // larger: 431
  std::size_t max_body_size = 8 * 1024 * 1024;   // larger: 413
  std::chrono::milliseconds header_timeout{10'000};  // request line + headers, once bytes arrive
  std::chrono::milliseconds body_timeout{60'000};    // the whole body
  std::chrono::milliseconds idle_timeout{60'000};    // keep-alive wait for the next request
  std::chrono::milliseconds write_timeout{30'000};   // a client that stops reading
  std::size_t max_connections = 10'000;
  std::size_t sse_max_queued = 1024;                 // events queued per stream before the client is dropped
  std::chrono::milliseconds sse_heartbeat{15'000};   // comment line on idle streams, to detect dead clients
  std::shared_ptr<Authenticator> authenticator;       // who calls; none: permissions not enforced
  std::vector<std::string> cors_origins;              // empty: no CORS headers
  std::chrono::seconds hsts_max_age{31'536'000};      // Strict-Transport-Security on TLS listeners; 0: off
};

class Server {
 public:
  Server(ServerOptions options, Router& router, metrics::Registry& metrics);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds every listener and starts the threads. Throws std::runtime_error naming
  // the listener and address when a socket cannot be bound or TLS files are bad.
  void start();
  // The bound port of a listener (useful with port 0); -1 for an unknown name.
  int port(std::string_view listener = "main") const;
  // Stops accepting, closes idle connections and streams, lets in-flight requests
  // finish up to `deadline`, then closes the rest. True when nothing was cut off.
  bool stop(std::chrono::milliseconds deadline);

  std::size_t open_connections() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace plexus::http
