// From a parsed request to a response: route match, the handler behind an exception
// barrier, and per-route metrics plus the access log once the response is written.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "kernel/http/access.hpp"
#include "kernel/http/cors.hpp"
#include "kernel/http/message.hpp"
#include "kernel/http/router.hpp"

namespace plexus::metrics {
class Registry;
class Counter;
template <class Metric>
class Family;
class Histogram;
}  // namespace plexus::metrics

namespace spdlog {
class logger;
}

namespace plexus::http {

struct Dispatched {
  Response response;
  std::string route_label;  // the matched pattern, or "unmatched": bounded metric cardinality
};

// A request matched to its route, or answered already (400, 404, 405).
struct Routed {
  std::shared_ptr<const Route> route;
  std::optional<Response> answer;
};

class Dispatcher {
 public:
  // Without an authenticator route permissions are not enforced (bare servers in
  // unit tests); the kernel always passes one.
  Dispatcher(Router& router, metrics::Registry& metrics, std::shared_ptr<Authenticator> authenticator = nullptr,
             CorsPolicy cors = CorsPolicy());

  // Fills request.path/query/path_params from request.target and finds the route.
  // Cheap and non-blocking: it runs on the I/O thread. Never throws.
  Routed route(Request& request, Surface surface) const;
  // Checks access, then runs the route's handler behind the exception barrier. Never
  // throws: every failure becomes the JSON error body.
  Dispatched run(Request& request, Routed routed) const;
  Dispatched dispatch(Request& request, Surface surface) const { return run(request, route(request, surface)); }

  // After the response is written (or the stream started).
  void completed(const Request& request, int status, const std::string& route_label, std::size_t bytes,
                 std::chrono::steady_clock::duration elapsed) const;

  // For requests rejected before dispatch (431, 413, 400, timeouts): counted by reason.
  void rejected(std::string_view reason) const;

  metrics::Registry& metrics() const { return metrics_; }

 private:
  Router& router_;
  metrics::Registry& metrics_;
  std::shared_ptr<Authenticator> authenticator_;
  CorsPolicy cors_;
  metrics::Family<metrics::Counter>& requests_;
  metrics::Family<metrics::Histogram>& latency_;
  metrics::Family<metrics::Counter>& rejected_;
  std::shared_ptr<spdlog::logger> access_log_;
  std::shared_ptr<spdlog::logger> log_;
};

// "/a%20b?x=1&y" -> path "/a b", query {x: 1, y: ""}; false when the target is malformed.
bool split_target(std::string_view target, std::string& path, std::map<std::string, std::string>& query);

// A client-supplied X-Request-ID is kept when it is 1-128 characters of [A-Za-z0-9._:-].
bool acceptable_request_id(std::string_view id);
std::string generate_request_id();

}  // namespace plexus::http
