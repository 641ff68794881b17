// /api/v1/admin/roles and the permission catalogue. Built-in roles are listed but
// never change; custom roles belong to one tenant.
#include <algorithm>
#include <map>
#include <set>

#include "kernel/identity/kernel_permissions.hpp"
#include "kernel/identity/request_fields.hpp"
#include "kernel/identity/responses.hpp"
#include "kernel/identity/role_assignment.hpp"
#include "kernel/identity/routes.hpp"
#include "kernel/store/clock.hpp"

namespace plexus::identity {
namespace {

using http::Request;
using http::Response;

constexpr std::size_t kMaxGrants = 500;
constexpr std::size_t kMaxGrantSize = 200;

bool is_builtin(const std::string& name) { return auth::builtin_role_grants(name) != nullptr; }

std::vector<std::string> grants_field(const nlohmann::json& body, const auth::Caller& caller) {
  auto grants = optional_string_list(body, "grants");
  if (!grants || grants->empty())
    bad_field("grants", "grants must be a non-empty array of permission patterns");
  if (grants->size() > kMaxGrants)
    bad_field("grants", "a role holds at most " + std::to_string(kMaxGrants) + " grants");
  for (const auto& grant : *grants) {
    const bool blank =
        std::any_of(grant.begin(), grant.end(), [](unsigned char c) { return c <= ' ' || c == 0x7f; });
    if (grant.empty() || blank || grant.size() > kMaxGrantSize) {
      bad_field("grants", "each grant is a non-empty permission pattern without spaces", {{"grant", grant}});
    }
    if (!holds_grant(caller, grant)) {
      throw http::HttpError(
          403, "forbidden",
          "cannot define a role granting '" + grant + "', which the caller does not hold itself",
          {{"grant", grant}});
    }
  }
  std::sort(grants->begin(), grants->end());
  grants->erase(std::unique(grants->begin(), grants->end()), grants->end());
  return std::move(*grants);
}

Role custom_role(Services& s, const Request& request) {
  const auto& name = request.path_params.at("name");
  if (is_builtin(name)) conflict("built-in roles cannot be changed or deleted", {{"role", name}});
  auto role = s.directory.role(request.caller->tenant, name);
  if (!role) not_found("role");
  return std::move(*role);
}

Response list_roles(Services& s, Request& request) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& role : s.directory.roles(request.caller->tenant)) items.push_back(to_json(role));
  return Response::json(200, {{"items", std::move(items)}});
}

Response create_role(Services& s, Request& request) {
  const auto& caller = *request.caller;
  const auto body = object_body(request);
  Role role;
  role.name = required_string(body, "name", 64);
  if (!is_identifier(role.name)) {
    bad_field("name", "a role name is 1 to 64 of a-z 0-9 _ . - and starts with a letter or digit");
  }
  role.description = optional_string(body, "description", 1000).value_or("");
  role.grants = grants_field(body, caller);
  role.created_at = role.updated_at = store::utc_now();
  if (is_builtin(role.name) || !s.directory.create_role(caller.tenant, role)) {
    conflict("a role of that name exists", {{"field", "name"}});
  }
  s.record(caller, "role.create", "role/" + role.name, nullptr, to_json(role));
  return Response::json(201, to_json(role));
}

Response update_role(Services& s, Request& request) {
  const auto& caller = *request.caller;
  const auto before = custom_role(s, request);
  const auto body = object_body(request);
  auto after = before;
  after.description = optional_string(body, "description", 1000).value_or(before.description);
  after.grants = grants_field(body, caller);
  after.updated_at = store::utc_now();
  s.directory.update_role(caller.tenant, after);
  s.sessions.forget_cached_states();
  s.record(caller, "role.update", "role/" + after.name, to_json(before), to_json(after));
  return Response::json(200, to_json(after));
}

Response delete_role(Services& s, Request& request) {
  const auto& caller = *request.caller;
  const auto role = custom_role(s, request);
  const auto users = s.directory.users_with_role(caller.tenant, role.name);
  std::vector<std::string> keys;
  for (const auto& key : s.api_keys.list(caller.tenant)) {
    const bool live = !key.revoked_at && (!key.expires_at || *key.expires_at > store::utc_now());
    if (live && std::find(key.roles.begin(), key.roles.end(), role.name) != key.roles.end())
      keys.push_back(key.name);
  }
  if (!users.empty() || !keys.empty()) {
    conflict("the role is still held; take it away first", {{"users", users}, {"api_keys", keys}});
  }
  s.directory.delete_role(caller.tenant, role.name);
  s.sessions.forget_cached_states();
  s.record(caller, "role.delete", "role/" + role.name, to_json(role), nullptr);
  return no_content();
}

Response list_permissions(Services& s, Request&) {
  struct Entry {
    std::string description, owner;
    std::set<std::string> routes;
  };
  std::map<std::string, Entry> catalogue;
  for (const auto& known : kernel_permissions())
    catalogue[known.permission] = {known.description, "kernel", {}};
  // A plugin's own checks are listed by the plugin that declares them; the kernel's words win.
  if (s.plugin_permissions) {
    for (const auto& declared : s.plugin_permissions()) {
      auto& entry = catalogue[declared.permission];
      if (entry.owner.empty()) entry = {declared.description, declared.plugin, {}};
    }
  }
  if (s.router != nullptr) {
    for (const auto& route : s.router->routes()) {
      const auto& permission = route->permission;
      if (permission.empty() || permission == http::kPublic || permission == http::kAuthenticated ||
          permission == http::kOptional)
        continue;
      auto& entry = catalogue[permission];
      if (entry.owner.empty()) {
        entry.owner = route->owner;
        entry.description = route->summary;
      }
      entry.routes.insert(route->method + " " + route->pattern);
    }
  }
  nlohmann::json items = nlohmann::json::array();
  for (const auto& [permission, entry] : catalogue) {
    items.push_back({{"permission", permission},
                     {"description", entry.description},
                     {"owner", entry.owner},
                     {"routes", entry.routes}});
  }
  return Response::json(200, {{"items", std::move(items)}});
}

}  // namespace

std::vector<http::Route> role_routes(Services& s) {
  return {
      make_route(s, "GET", "/api/v1/admin/roles", list_roles, "Built-in and custom roles",
                 "admin.roles.view"),
      make_route(s, "POST", "/api/v1/admin/roles", create_role, "Create a custom role", "admin.roles.manage"),
      make_route(s, "PUT", "/api/v1/admin/roles/{name}", update_role,
                 "Change a custom role's description and grants", "admin.roles.manage"),
      make_route(s, "DELETE", "/api/v1/admin/roles/{name}", delete_role, "Delete a custom role nobody holds",
                 "admin.roles.manage"),
      make_route(s, "GET", "/api/v1/admin/permissions", list_permissions,
                 "Every permission the kernel and the loaded plugins check", "admin.roles.view"),
  };
}

}  // namespace plexus::identity
