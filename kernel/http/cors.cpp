#include "kernel/http/cors.hpp"

#include <algorithm>

namespace plexus::http {
namespace {

constexpr const char* kAllowMethods = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";
constexpr const char* kAllowHeaders = "Authorization, Content-Type, If-Match, X-API-Key, X-Request-ID, X-Share-Token";
constexpr const char* kExposeHeaders = "ETag, X-Request-ID, X-Cache, Location";

}  // namespace

CorsPolicy::CorsPolicy(std::vector<std::string> allowed_origins) : origins_(std::move(allowed_origins)) {}

bool CorsPolicy::allowed(std::string_view origin) const {
  return std::any_of(origins_.begin(), origins_.end(), [&](const std::string& o) { return o == "*" || o == origin; });
}

std::optional<Response> CorsPolicy::preflight(const Request& request) const {
  if (!enabled() || request.method != "OPTIONS") return std::nullopt;
  const auto origin = request.header("Origin");
  if (!origin || !request.header("Access-Control-Request-Method")) return std::nullopt;
  if (!allowed(*origin)) {
    return Response::error(403, "origin_not_allowed", "cross-origin requests from this origin are not allowed",
                           nullptr, request.request_id);
  }
  Response response{204, {}, {}, {}};
  response.headers.set("Access-Control-Allow-Origin", std::string(*origin));
  response.headers.set("Access-Control-Allow-Methods", kAllowMethods);
  response.headers.set("Access-Control-Allow-Headers", kAllowHeaders);
  response.headers.set("Access-Control-Max-Age", "600");
  response.headers.set("Vary", "Origin");
  return response;
}

void CorsPolicy::decorate(const Request& request, Response& response) const {
  if (!enabled()) return;
  const auto origin = request.header("Origin");
  if (!origin || !allowed(*origin)) return;
  response.headers.set("Access-Control-Allow-Origin", std::string(*origin));
  response.headers.set("Access-Control-Expose-Headers", kExposeHeaders);
  response.headers.set("Vary", "Origin");
}

}  // namespace plexus::http
