// Cross-origin requests (CORS) for browser front ends served from other origins.
// Off unless origins are configured; credentials travel as bearer tokens, never
// cookies, so Access-Control-Allow-Credentials is never sent.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "kernel/http/message.hpp"

namespace plexus::http {

class CorsPolicy {
 public:
  // Exact origins ("https://ops.example.com") or "*" for any.
  explicit CorsPolicy(std::vector<std::string> allowed_origins = {});

  bool enabled() const { return !origins_.empty(); }
  // The answer to a preflight (OPTIONS with Access-Control-Request-Method): 204 with
  // the allow headers, or 403 for an origin not allowed. nullopt for other requests.
  std::optional<Response> preflight(const Request& request) const;
  // Adds Access-Control-Allow-Origin and friends when the request's origin is allowed.
  void decorate(const Request& request, Response& response) const;

 private:
  bool allowed(std::string_view origin) const;
  std::vector<std::string> origins_;
};

}  // namespace plexus::http
