// Access control at the HTTP boundary: every route names who may call it, and the
// dispatcher asks an Authenticator who the caller is before any handler runs.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "kernel/auth/caller.hpp"
#include "kernel/http/message.hpp"
#include "kernel/http/router.hpp"

namespace plexus::http {

// Route::permission values besides permission strings.
inline constexpr std::string_view kPublic = "public";                // anyone, credentials ignored
inline constexpr std::string_view kAuthenticated = "authenticated";  // any caller with valid credentials
// Anyone; credentials, when sent, are checked (401 when not valid) so the handler knows
// the caller and decides itself (the runtime APIs of api-manager: public ones or not).
inline constexpr std::string_view kOptional = "optional";

// Implemented by the identity service; the HTTP layer only calls it.
class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // The caller behind the request's credentials; an anonymous caller when there are
  // none. Throws HttpError 401 when credentials are present but not valid. May block.
  virtual std::shared_ptr<const auth::Caller> authenticate(const Request& request) = 0;
};

// The route's permission for this request, "{name}" replaced by the path parameter.
std::string required_permission(const Route& route, const Request& request);

// True when the route can run on an I/O thread: it never blocks, and neither does
// deciding access, which is so only for public routes.
inline bool runs_inline(const Route& route) { return route.non_blocking && route.permission == kPublic; }

// nullopt when the caller may go on, else the 401 or 403 to send.
std::optional<Response> check_access(const Route& route, Request& request, Authenticator* authenticator);

}  // namespace plexus::http
