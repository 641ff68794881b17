// /api/v1/admin/api-keys: the key itself is in the creation response only.
#include "kernel/identity/request_fields.hpp"
#include "kernel/identity/responses.hpp"
#include "kernel/identity/role_assignment.hpp"
#include "kernel/identity/routes.hpp"

namespace plexus::identity {
namespace {

using http::Request;
using http::Response;

Response create_key(Services& s, Request& request) {
  const auto& caller = *request.caller;
  if (caller.kind != auth::CallerKind::user && caller.kind != auth::CallerKind::api_key) {
    forbidden("API keys are created by local users (or their keys)");
  }
  const auto body = object_body(request);
  const auto name = required_string(body, "name", 100);
  const auto roles = optional_string_list(body, "roles");
  if (!roles || roles->empty()) bad_field("roles", "roles must name at least one role");
  const auto lifetime = optional_duration(body, "expires_in");
  auto expires_at = optional_time(body, "expires_at");
  if (lifetime && expires_at) bad_field("expires_at", "give expires_in or expires_at, not both");
  const auto now = std::chrono::system_clock::now();
  if (lifetime) expires_at = now + *lifetime;
  if (expires_at && *expires_at <= now) bad_field("expires_at", "expires_at is in the past");
  require_assignable(s, caller, *roles, "roles");

  const auto created = s.api_keys.create(caller.tenant, name, *roles, caller.user_id, expires_at);
  const auto view = to_json(created.key);
  s.record(caller, "api-key.create", "api-key/" + created.key.id, nullptr, view);
  auto response = Response::json(201, {{"id", created.key.id},
                                       {"name", created.key.name},
                                       {"key", created.secret_key},
                                       {"roles", created.key.roles},
                                       {"expires_at", view["expires_at"]},
                                       {"created_at", created.key.created_at}});
  response.headers.set("Cache-Control", "no-store");
  return response;
}

Response list_keys(Services& s, Request& request) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& key : s.api_keys.list(request.caller->tenant)) items.push_back(to_json(key));
  s.record(*request.caller, "api-key.read", "api-keys", nullptr, nullptr, "success",
           {{"count", items.size()}});
  return Response::json(200, {{"items", std::move(items)}});
}

Response revoke_key(Services& s, Request& request) {
  const auto& caller = *request.caller;
  const auto before = s.api_keys.get(caller.tenant, request.path_params.at("id"));
  if (!before) not_found("API key");
  if (s.api_keys.revoke(caller.tenant, before->id)) {
    s.record(caller, "api-key.revoke", "api-key/" + before->id, to_json(*before),
             to_json(*s.api_keys.get(caller.tenant, before->id)));
  }
  return no_content();
}

}  // namespace

std::vector<http::Route> api_key_routes(Services& s) {
  return {
      make_route(s, "POST", "/api/v1/admin/api-keys", create_key,
                 "Create an API key; the key is shown only here", "admin.api-keys.manage"),
      make_route(s, "GET", "/api/v1/admin/api-keys", list_keys, "The tenant's API keys, without secrets",
                 "admin.api-keys.view"),
      make_route(s, "DELETE", "/api/v1/admin/api-keys/{id}", revoke_key, "Revoke an API key",
                 "admin.api-keys.manage"),
  };
}

}  // namespace plexus::identity
