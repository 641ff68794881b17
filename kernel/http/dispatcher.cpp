#include "kernel/http/dispatcher.hpp"

#include <array>
#include <random>

#include <fmt/format.h>
#include <spdlog/logger.h>

#include "kernel/log/log.hpp"
#include "kernel/metrics/registry.hpp"

namespace plexus::http {
namespace {

std::string_view method_label(std::string_view method) {
  static constexpr std::array<std::string_view, 9> known{"GET",    "HEAD",    "POST",  "PUT",  "DELETE",
                                                        "PATCH", "OPTIONS", "TRACE", "CONNECT"};
  for (auto m : known) {
    if (m == method) return m;
  }
  return "other";
}

}  // namespace

bool split_target(std::string_view target, std::string& path, std::map<std::string, std::string>& query) {
  if (target.empty() || target.front() != '/') return false;
  const auto question = target.find('?');
  auto decoded = percent_decode(target.substr(0, question), false);
  // A decoded NUL byte is never legitimate in a path.
  if (!decoded || decoded->find('\0') != std::string::npos) return false;
  path = std::move(*decoded);
  if (question == std::string_view::npos) return true;
  std::string_view rest = target.substr(question + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const auto pair = rest.substr(0, amp);
    if (!pair.empty()) {
      const auto eq = pair.find('=');
      auto key = percent_decode(pair.substr(0, eq), true);
      auto value = percent_decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), true);
      if (!key || !value) return false;
      query[std::move(*key)] = std::move(*value);
    }
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
  return true;
}

bool acceptable_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string generate_request_id() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  return fmt::format("{:016x}{:016x}", engine(), engine());
}

Dispatcher::Dispatcher(Router& router, metrics::Registry& metrics, std::shared_ptr<Authenticator> authenticator,
                       CorsPolicy cors)
    : router_(router),
      metrics_(metrics),
      authenticator_(std::move(authenticator)),
      cors_(std::move(cors)),
      requests_(metrics.counter("plexus_http_requests_total", "HTTP requests answered, by route and status.",
                                {"method", "route", "status"})),
      latency_(metrics.histogram("plexus_http_request_duration_seconds",
                                 "Time from a complete request to its response written, by route.",
                                 {"method", "route"})),
      rejected_(metrics.counter("plexus_http_rejected_total",
                                "Requests and connections refused before routing, by reason.", {"reason"})),
      access_log_(log::get("http.access")),
      log_(log::get("http")) {}

Routed Dispatcher::route(Request& request, Surface surface) const {
  Routed result;
  if (!split_target(request.target, request.path, request.query)) {
    result.answer = Response::error(400, "bad_request", "the request target is malformed", nullptr, request.request_id);
    return result;
  }
  if (auto preflight = cors_.preflight(request)) {
    result.answer = std::move(preflight);
    return result;
  }
  auto match = router_.match(request.method, request.path, surface);
  if (match.outcome == RouteMatch::Outcome::not_found) {
    result.answer = Response::error(404, "not_found", "no route for " + request.path, nullptr, request.request_id);
  } else if (match.outcome == RouteMatch::Outcome::method_not_allowed) {
    std::string allow = fmt::format("{}", fmt::join(match.allowed_methods, ", "));
    result.answer = Response::error(405, "method_not_allowed",
                                    request.method + " is not allowed here; allowed: " + allow, nullptr,
                                    request.request_id);
    result.answer->headers.set("Allow", allow);
  } else {
    request.path_params = std::move(match.params);
    result.route = std::move(match.route);
  }
  return result;
}

Dispatched Dispatcher::run(Request& request, Routed routed) const {
  if (routed.answer) {
    cors_.decorate(request, *routed.answer);
    return {std::move(*routed.answer), "unmatched"};
  }
  Dispatched result{Response{}, routed.route->pattern};
  log::RequestScope scope(request.request_id);
  try {
    auto denied = check_access(*routed.route, request, authenticator_.get());
    result.response = denied ? std::move(*denied) : routed.route->handler(request);
  } catch (const HttpError& e) {
    result.response = Response::error(e.status(), e.code(), e.what(), e.details(), request.request_id);
  } catch (const std::exception& e) {
    // The client learns only that it failed and which request id to quote.
    log_->error("handler for {} {} failed: {}", request.method, request.path, e.what());
    result.response = Response::error(500, "internal_error", "the server could not complete the request",
                                      nullptr, request.request_id);
  } catch (...) {
    log_->error("handler for {} {} threw a non-standard exception", request.method, request.path);
    result.response = Response::error(500, "internal_error", "the server could not complete the request",
                                      nullptr, request.request_id);
  }
  cors_.decorate(request, result.response);
  return result;
}

void Dispatcher::completed(const Request& request, int status, const std::string& route_label, std::size_t bytes,
                           std::chrono::steady_clock::duration elapsed) const {
  const auto method = std::string(method_label(request.method));
  const double seconds = std::chrono::duration<double>(elapsed).count();
  requests_.with({method, route_label, std::to_string(status)}).inc();
  latency_.with({method, route_label}).observe(seconds);
  if (access_log_->should_log(spdlog::level::info)) {
    log::RequestScope scope(request.request_id);
    // The query string is left out: share links and API keys may travel there.
    access_log_->info("{} {} {} {}B {:.3f}ms {}", request.method, request.path, status, bytes, seconds * 1000.0,
                      request.remote_address);
  }
}

void Dispatcher::rejected(std::string_view reason) const { rejected_.with({reason}).inc(); }

}  // namespace plexus::http
