// /api/v1/admin/tenants: managing tenants is for administrators of the installation,
// that is callers of tenant "default" holding admin.tenants.manage. A disabled
// tenant's users cannot log in and its tokens and keys stop working.
#include "kernel/identity/request_fields.hpp"
#include "kernel/identity/responses.hpp"
#include "kernel/identity/routes.hpp"
#include "kernel/identity/token_crypto.hpp"
#include "kernel/store/clock.hpp"

namespace plexus::identity {
namespace {

using http::Request;
using http::Response;

void require_system_tenant(const Request& request) {
  if (request.caller->tenant != kDefaultTenant) {
    forbidden("tenants are managed from tenant default only");
  }
}

Response list_tenants(Services& s, Request& request) {
  require_system_tenant(request);
  nlohmann::json items = nlohmann::json::array();
  for (const auto& tenant : s.directory.tenants()) items.push_back(to_json(tenant));
  return Response::json(200, {{"items", std::move(items)}});
}

Response create_tenant(Services& s, Request& request) {
  require_system_tenant(request);
  const auto& caller = *request.caller;
  const auto body = object_body(request);
  Tenant tenant;
  tenant.id = required_string(body, "id", 64);
  if (!is_identifier(tenant.id)) {
    bad_field("id", "a tenant id is 1 to 64 of a-z 0-9 _ . - and starts with a letter or digit");
  }
  tenant.name = optional_string(body, "name", 200).value_or(tenant.id);
  const auto admin_username = optional_string(body, "admin_username", 64);
  const auto admin_password = optional_string(body, "admin_password", 4096);
  std::optional<User> admin;
  if (admin_username) {
    if (!is_username(*admin_username)) {
      bad_field("admin_username", "a username is 1 to 64 letters, digits or . _ - @ +");
    }
    if (!admin_password) bad_field("admin_password", "admin_password is required with admin_username");
    require_acceptable_password(*admin_password, s.password_policy, *admin_username, "admin_password");
  }
  tenant.created_at = tenant.updated_at = store::utc_now();
  if (!s.directory.create_tenant(tenant)) conflict("a tenant with that id exists", {{"field", "id"}});
  s.record(caller, "tenant.create", "tenant/" + tenant.id, nullptr, to_json(tenant));

  nlohmann::json out = to_json(tenant);
  if (admin_username) {
    User user;
    user.id = new_id();
    user.tenant = tenant.id;
    user.username = *admin_username;
    user.display_name = *admin_username;
    user.roles = {"admin"};
    user.password_hash = auth::hash_password(*admin_password);
    user.created_at = user.updated_at = tenant.created_at;
    s.directory.create_user(user);
    // Recorded in the new tenant, whose administrators should see how their first account came to be.
    auto event = audit::event_of(caller, "user.create", "user/" + user.id);
    event.tenant = tenant.id;
    event.after = to_json(user);
    s.audit.record(std::move(event));
    out["admin"] = {{"id", user.id}, {"username", user.username}};
  }
  return Response::json(201, out);
}

Response update_tenant(Services& s, Request& request) {
  require_system_tenant(request);
  const auto& caller = *request.caller;
  const auto body = object_body(request);
  const auto before = s.directory.tenant(request.path_params.at("id"));
  if (!before) not_found("tenant");
  auto after = *before;
  if (auto name = optional_string(body, "name", 200)) after.name = std::move(*name);
  if (auto disabled = optional_bool(body, "disabled")) after.disabled = *disabled;
  if (after.id == kDefaultTenant && after.disabled) {
    conflict("tenant default holds the installation's administrators and cannot be disabled",
             {{"field", "disabled"}});
  }
  after.updated_at = store::utc_now();
  s.directory.update_tenant(after);
  s.sessions.forget_cached_states();
  s.record(caller, "tenant.update", "tenant/" + after.id, to_json(*before), to_json(after));
  return Response::json(200, to_json(after));
}

}  // namespace

std::vector<http::Route> tenant_routes(Services& s) {
  return {
      make_route(s, "GET", "/api/v1/admin/tenants", list_tenants, "Every tenant", "admin.tenants.manage"),
      make_route(s, "POST", "/api/v1/admin/tenants", create_tenant,
                 "Create a tenant, optionally with its first admin", "admin.tenants.manage"),
      make_route(s, "PATCH", "/api/v1/admin/tenants/{id}", update_tenant,
                 "Rename, disable or enable a tenant", "admin.tenants.manage"),
  };
}

}  // namespace plexus::identity
