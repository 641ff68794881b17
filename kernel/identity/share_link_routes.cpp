// /api/v1/admin/share-links: anyone signed in may share what they may do
// themselves, one action on one resource at a time.
#include <algorithm>

#include "kernel/identity/request_fields.hpp"
#include "kernel/identity/responses.hpp"
#include "kernel/identity/routes.hpp"

namespace plexus::identity {
namespace {

using http::Request;
using http::Response;

constexpr std::chrono::hours kDefaultLifetime{24 * 7};

bool is_action(std::string_view action) {
  if (action.empty() || action.size() > 128) return false;
  return std::all_of(action.begin(), action.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

// A resource is matched literally: wildcards would turn one link into many.
bool is_resource(std::string_view resource) {
  if (resource.empty() || resource.size() > 256) return false;
  return std::none_of(resource.begin(), resource.end(),
                      [](unsigned char c) { return c <= ' ' || c == 0x7f || c == '*'; });
}

// The link when the caller may see it: its creator, or anyone with admin.share-links.view.
ShareLink visible_link(Services& s, const Request& request) {
  const auto& caller = *request.caller;
  auto link = s.share_links.get(caller.tenant, request.path_params.at("id"));
  if (!link || (link->created_by != caller.user_id && !caller.can("admin.share-links.view"))) {
    not_found("share link");
  }
  return std::move(*link);
}

Response create_link(Services& s, Request& request) {
  const auto& caller = *request.caller;
  if (caller.kind == auth::CallerKind::share_link) forbidden("a share link cannot create share links");
  const auto body = object_body(request);
  const auto action = required_string(body, "action", 128);
  if (!is_action(action))
    bad_field("action", "action is a permission name such as docs.read, without wildcards");
  const auto resource = required_string(body, "resource", 256);
  if (!is_resource(resource)) bad_field("resource", "resource is an id without spaces or wildcards");
  const auto lifetime =
      optional_duration(body, "expires_in")
          .value_or(std::min<std::chrono::milliseconds>(kDefaultLifetime, s.options.share_max_ttl));
  if (lifetime > s.options.share_max_ttl) {
    bad_field("expires_in",
              "a share link lives at most " +
                  std::to_string(
                      std::chrono::duration_cast<std::chrono::seconds>(s.options.share_max_ttl).count()) +
                  " seconds");
  }
  if (!caller.can(action + ":" + resource)) {
    throw http::HttpError(403, "forbidden", "the caller may not " + action + " " + resource + " itself",
                          {{"permission", action + ":" + resource}});
  }
  const auto [link, token] = s.share_links.create(caller.tenant, caller.user_id, caller.name, action,
                                                  resource, std::chrono::system_clock::now() + lifetime);
  s.record(caller, "share.create", "share-link/" + link.id, nullptr, to_json(link));
  auto response = Response::json(201, {{"id", link.id},
                                       {"token", token},
                                       {"action", link.action},
                                       {"resource", link.resource},
                                       {"expires_at", link.expires_at}});
  response.headers.set("Cache-Control", "no-store");
  return response;
}

Response list_links(Services& s, Request& request) {
  const auto& caller = *request.caller;
  const bool all = caller.can("admin.share-links.view");
  nlohmann::json items = nlohmann::json::array();
  for (const auto& link :
       s.share_links.list(caller.tenant, all ? std::nullopt : std::optional(caller.user_id))) {
    items.push_back(to_json(link));
  }
  return Response::json(200, {{"items", std::move(items)}});
}

Response link_uses(Services& s, Request& request) {
  const auto link = visible_link(s, request);
  nlohmann::json items = nlohmann::json::array();
  for (const auto& use : s.share_links.uses(link.tenant, link.id)) {
    items.push_back({{"time", use.time}, {"ip", use.ip}, {"request_id", use.request_id}});
  }
  return Response::json(200, {{"items", std::move(items)}});
}

Response revoke_link(Services& s, Request& request) {
  const auto& caller = *request.caller;
  const auto link = visible_link(s, request);
  if (link.created_by != caller.user_id && !caller.can("admin.share-links.manage")) {
    forbidden("only its creator or a holder of admin.share-links.manage can revoke a share link");
  }
  if (s.share_links.revoke(link.tenant, link.id)) {
    s.record(caller, "share.revoke", "share-link/" + link.id, to_json(link),
             to_json(*s.share_links.get(link.tenant, link.id)));
  }
  return no_content();
}

}  // namespace

std::vector<http::Route> share_link_routes(Services& s) {
  const std::string authenticated(http::kAuthenticated);
  return {
      make_route(s, "POST", "/api/v1/admin/share-links", create_link,
                 "Share one action on one resource through a signed, expiring link", authenticated),
      make_route(s, "GET", "/api/v1/admin/share-links", list_links,
                 "The caller's share links (all of the tenant's with admin.share-links.view)", authenticated),
      make_route(s, "GET", "/api/v1/admin/share-links/{id}/uses", link_uses, "Every use of a share link",
                 authenticated),
      make_route(s, "DELETE", "/api/v1/admin/share-links/{id}", revoke_link, "Revoke a share link",
                 authenticated),
  };
}

}  // namespace plexus::identity
