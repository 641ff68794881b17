// /api/v1/admin/users: the caller's own tenant only; an id from another tenant is
// simply not found. Changes are audited with before/after views (never hashes).
#include <algorithm>

#include "kernel/identity/request_fields.hpp"
#include "kernel/identity/responses.hpp"
#include "kernel/identity/role_assignment.hpp"
#include "kernel/identity/routes.hpp"
#include "kernel/identity/token_crypto.hpp"
#include "kernel/store/clock.hpp"

namespace plexus::identity {
namespace {

using http::Request;
using http::Response;

constexpr std::size_t kMaxDisplayName = 200;

bool has_admin(const std::vector<std::string>& roles) {
  return std::find(roles.begin(), roles.end(), "admin") != roles.end();
}

nlohmann::json list_item(const User& user) {
  auto item = to_json(user);
  item.erase("tenant");
  item.erase("updated_at");
  return item;
}

User existing_user(Services& s, const Request& request) {
  auto user = s.directory.user(request.caller->tenant, request.path_params.at("id"));
  if (!user) not_found("user");
  return std::move(*user);
}

Response list_users(Services& s, Request& request) {
  const auto& caller = *request.caller;
  const int limit = limit_parameter(request);
  const auto cursor = request.query.find("cursor");
  const std::string after = cursor == request.query.end() ? std::string() : decode_cursor(cursor->second);
  const auto page = s.directory.users(caller.tenant, limit, after);
  nlohmann::json items = nlohmann::json::array();
  for (const auto& user : page.items) items.push_back(list_item(user));
  s.record(caller, "user.read", "users", nullptr, nullptr, "success", {{"count", page.items.size()}});
  return Response::json(
      200, {{"items", std::move(items)},
            {"next_cursor", page.last_username ? nlohmann::json(encode_cursor(*page.last_username))
                                               : nlohmann::json(nullptr)}});
}

Response create_user(Services& s, Request& request) {
  const auto& caller = *request.caller;
  const auto body = object_body(request);
  User user;
  user.username = required_string(body, "username", 64);
  if (!is_username(user.username)) {
    bad_field("username", "username must be 1 to 64 letters, digits or . _ - @ +");
  }
  const auto password = required_string(body, "password", 4096);
  user.roles = optional_string_list(body, "roles").value_or(std::vector<std::string>{});
  user.display_name = optional_string(body, "display_name", kMaxDisplayName).value_or(user.username);
  require_acceptable_password(password, s.password_policy, user.username, "password");
  require_assignable(s, caller, user.roles, "roles");

  user.id = new_id();
  user.tenant = caller.tenant;
  user.password_hash = auth::hash_password(password);
  user.created_at = user.updated_at = store::utc_now();
  if (!s.directory.create_user(user)) {
    conflict("the username is taken in this tenant", {{"field", "username"}});
  }
  s.record(caller, "user.create", "user/" + user.id, nullptr, to_json(user));
  return Response::json(201, list_item(user));
}

Response get_user(Services& s, Request& request) {
  return Response::json(200, list_item(existing_user(s, request)));
}

Response update_user(Services& s, Request& request) {
  const auto& caller = *request.caller;
  const auto body = object_body(request);
  const auto before = existing_user(s, request);
  require_holds_roles(s, caller, before.roles, "change a user holding");
  auto after = before;
  if (auto name = optional_string(body, "display_name", kMaxDisplayName))
    after.display_name = std::move(*name);
  if (auto disabled = optional_bool(body, "disabled")) after.disabled = *disabled;
  if (auto roles = optional_string_list(body, "roles")) {
    std::sort(roles->begin(), roles->end());
    roles->erase(std::unique(roles->begin(), roles->end()), roles->end());
    std::vector<std::string> added;
    for (const auto& role : *roles) {
      if (std::find(before.roles.begin(), before.roles.end(), role) == before.roles.end())
        added.push_back(role);
    }
    require_assignable(s, caller, added, "roles");
    after.roles = std::move(*roles);
  }
  const bool self = before.id == caller.user_id;
  if (self && after.disabled && !before.disabled) {
    conflict("an administrator cannot disable their own account", {{"field", "disabled"}});
  }
  if (self && has_admin(before.roles) && !has_admin(after.roles)) {
    conflict("an administrator cannot remove their own admin role", {{"field", "roles"}});
  }
  after.updated_at = store::utc_now();
  s.directory.update_user(after);
  if (after.disabled && !before.disabled) s.sessions.revoke_user(after.tenant, after.id, "user_disabled");
  s.sessions.forget_cached_states();
  s.record(caller, "user.update", "user/" + after.id, to_json(before), to_json(after));
  return Response::json(200, list_item(after));
}

Response set_password(Services& s, Request& request) {
  const auto& caller = *request.caller;
  const auto body = object_body(request);
  const auto user = existing_user(s, request);
  require_holds_roles(s, caller, user.roles, "change the password of a user holding");
  const auto password = required_string(body, "password", 4096);
  require_acceptable_password(password, s.password_policy, user.username, "password");
  s.directory.set_password_hash(user.tenant, user.id, auth::hash_password(password));
  s.sessions.revoke_user(user.tenant, user.id, "password_reset");
  s.record(caller, "user.password_reset", "user/" + user.id);
  return no_content();
}

}  // namespace

std::vector<http::Route> user_routes(Services& s) {
  return {
      make_route(s, "GET", "/api/v1/admin/users", list_users, "List the tenant's users", "admin.users.view"),
      make_route(s, "POST", "/api/v1/admin/users", create_user, "Create a user", "admin.users.manage"),
      make_route(s, "GET", "/api/v1/admin/users/{id}", get_user, "One user", "admin.users.view"),
      make_route(s, "PATCH", "/api/v1/admin/users/{id}", update_user,
                 "Change a user's name, roles or disabled flag", "admin.users.manage"),
      make_route(s, "PUT", "/api/v1/admin/users/{id}/password", set_password,
                 "Set a user's password; ends its sessions", "admin.users.manage"),
  };
}

}  // namespace plexus::identity
