#include "kernel/http/access.hpp"

namespace plexus::http {
namespace {

std::shared_ptr<const auth::Caller> anonymous(const Request& request) {
  auto caller = std::make_shared<auth::Caller>();
  caller->ip = request.remote_address;
  caller->request_id = request.request_id;
  return caller;
}

}  // namespace

std::string required_permission(const Route& route, const Request& request) {
  const auto& pattern = route.permission;
  std::string out;
  std::size_t i = 0;
  while (i < pattern.size()) {
    const auto open = pattern.find('{', i);
    if (open == std::string::npos) break;
    const auto close = pattern.find('}', open);
    if (close == std::string::npos) break;
    out.append(pattern, i, open - i);
    const auto it = request.path_params.find(pattern.substr(open + 1, close - open - 1));
    out += it == request.path_params.end() ? std::string() : it->second;
    i = close + 1;
  }
  out.append(pattern, i);
  return out;
}

std::optional<Response> check_access(const Route& route, Request& request, Authenticator* authenticator) {
  if (route.permission == kPublic || authenticator == nullptr) {
    // Without an authenticator (the bare server of unit tests) nothing is enforced;
    // the kernel always installs one.
    request.caller = anonymous(request);
    return std::nullopt;
  }
  try {
    request.caller = authenticator->authenticate(request);
  } catch (const HttpError& e) {
    if (e.status() != 401) throw;
    // RFC 6750 section 3: a rejected bearer credential names the error.
    auto response = Response::error(401, e.code(), e.what(), e.details(), request.request_id);
    response.headers.set("WWW-Authenticate", "Bearer error=\"" + e.code() + "\"");
    return response;
  }
  if (route.permission == kOptional) return std::nullopt;  // the handler decides
  if (request.caller->anonymous()) {
    auto response = Response::error(401, "unauthenticated", "this route needs credentials: a bearer token or an API key",
                                    nullptr, request.request_id);
    response.headers.set("WWW-Authenticate", "Bearer");
    return response;
  }
  if (route.permission == kAuthenticated) return std::nullopt;
  const auto permission = required_permission(route, request);
  if (route.permission.empty() || !request.caller->can(permission)) {
    const auto needed = route.permission.empty() ? std::string("(none declared)") : permission;
    return Response::error(403, "forbidden", "the caller lacks the permission " + needed,
                           {{"permission", needed}}, request.request_id);
  }
  return std::nullopt;
}

}  // namespace plexus::http
