// identity's REST routes, one function per area; the facade registers them all.
#pragma once

#include <vector>

#include "kernel/http/router.hpp"
#include "kernel/identity/services.hpp"

namespace plexus::identity {

using RouteHandler = http::Response (*)(Services&, http::Request&);

// A kernel route served on every listener, running on the worker pool.
inline http::Route make_route(Services& services, std::string method, std::string pattern,
                              RouteHandler handler, std::string summary, std::string permission) {
  return http::Route{std::move(method),
                     std::move(pattern),
                     [&services, handler](http::Request& request) { return handler(services, request); },
                     http::Surface::both,
                     "kernel",
                     false,
                     std::move(summary),
                     std::move(permission)};
}

// /api/v1/auth/{login,refresh,logout,me,password}
std::vector<http::Route> auth_routes(Services& services);
// /api/v1/admin/users
std::vector<http::Route> user_routes(Services& services);
// /api/v1/admin/roles and /api/v1/admin/permissions
std::vector<http::Route> role_routes(Services& services);
// /api/v1/admin/tenants
std::vector<http::Route> tenant_routes(Services& services);
// /api/v1/admin/api-keys
std::vector<http::Route> api_key_routes(Services& services);
// /api/v1/admin/share-links
std::vector<http::Route> share_link_routes(Services& services);
// /api/v1/admin/login-history
std::vector<http::Route> login_history_routes(Services& services);

}  // namespace plexus::identity
