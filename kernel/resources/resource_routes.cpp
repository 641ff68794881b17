// /api/v1/resources: the versioned store over REST (DESIGN.md "Operating contract").
// The ETag of a resource is its revision number in quotes; changes to an existing
// resource take If-Match (required for PUT). Permissions are "<kind>.read",
// "<kind>.write" and "<kind>.approve", declared on the routes. kind_routes serves the
// per-kind routes again under a plugin kind's route_prefix, the kind fixed.
#include "kernel/resources/resource_routes.hpp"

#include <set>

#include "kernel/http/access.hpp"
#include "kernel/resources/bundle_format.hpp"
#include "kernel/resources/request_reading.hpp"

namespace plexus::resources {
namespace {

using http::Request;
using http::Response;

constexpr std::size_t kMaxReason = 1000;

const auth::Caller& caller_of(const Request& request) { return *request.caller; }
const std::string& kind_of(const Request& request) { return request.path_params.at("kind"); }
const std::string& id_of(const Request& request) { return request.path_params.at("id"); }

[[noreturn]] void forbidden(const std::string& permission) {
  throw http::HttpError(403, "forbidden", "the caller lacks the permission " + permission,
                        {{"permission", permission}});
}

// The route checked "<kind>.<action>"; a kind with its own permission prefix needs
// "<prefix>.<action>" as well. Unknown kinds are a 404 naming them.
void authorize(ResourceStore& store, const Request& request, std::string_view action) {
  const auto kind = store.kinds().require(kind_of(request));
  if (kind->kind.prefix() == kind->kind.name) return;
  const auto permission = kind->kind.permission(action);
  if (!caller_of(request).can(permission)) forbidden(permission);
}

std::string reason_of(const nlohmann::json& body) {
  return optional_string(body, "reason", kMaxReason).value_or("");
}

nlohmann::json content_of(const nlohmann::json& body) {
  const auto it = body.find("content");
  if (it == body.end())
    throw http::HttpError(400, "invalid_field", "content is required", {{"field", "content"}});
  return *it;
}

Response with_etag(int status, const Resource& resource) {
  auto response = Response::json(status, to_json(resource));
  response.headers.set("ETag", etag(resource.revision));
  return response;
}

nlohmann::json summary(const Resource& resource) {
  auto item = to_json(resource);
  item.erase("content");
  return item;
}

// ---- collection --------------------------------------------------------------------

Response list_resources(ResourceStore& store, Request& request) {
  authorize(store, request, "read");
  const int limit = limit_parameter(request);
  std::string after;
  if (const auto cursor = request.query.find("cursor"); cursor != request.query.end()) {
    if (!is_resource_id(cursor->second)) {
      throw http::HttpError(400, "invalid_parameter", "cursor is not one this server handed out",
                            {{"field", "cursor"}});
    }
    after = cursor->second;
  }
  const auto page = store.list(caller_of(request), kind_of(request), limit, after,
                               flag_parameter(request, "include_deleted"));
  nlohmann::json items = nlohmann::json::array();
  for (const auto& resource : page.items) items.push_back(summary(resource));
  return Response::json(
      200, {{"items", std::move(items)},
            {"next_cursor", page.next_after ? nlohmann::json(*page.next_after) : nlohmann::json()}});
}

Response create_resource(ResourceStore& store, Request& request) {
  authorize(store, request, "write");
  const auto body = object_body(request);
  const auto id = required_string(body, "id", 128);
  const auto created =
      store.create(caller_of(request), kind_of(request), id, content_of(body), reason_of(body));
  auto response = with_etag(201, created);
  // The collection's own path: /api/v1/resources/<kind> or the kind's route prefix.
  response.headers.set("Location", request.path + "/" + created.id);
  return response;
}

// ---- one resource ----------------------------------------------------------------------

Response get_resource(ResourceStore& store, Request& request) {
  authorize(store, request, "read");
  return with_etag(200, store.get(caller_of(request), kind_of(request), id_of(request),
                                  flag_parameter(request, "include_deleted")));
}

Response update_resource(ResourceStore& store, Request& request) {
  authorize(store, request, "write");
  const auto expected = required_if_match(request);
  const auto body = object_body(request);
  return with_etag(200, store.update(caller_of(request), kind_of(request), id_of(request), expected,
                                     content_of(body), reason_of(body)));
}

Response delete_resource(ResourceStore& store, Request& request) {
  authorize(store, request, "write");
  const auto expected = if_match(request).revision;
  const auto reason = request.query_or("reason", "");
  if (reason.size() > kMaxReason) {
    throw http::HttpError(400, "invalid_parameter", "reason is too long", {{"field", "reason"}});
  }
  return Response::json(
      200, to_json(store.remove(caller_of(request), kind_of(request), id_of(request), expected, reason)));
}

Response restore_resource(ResourceStore& store, Request& request) {
  authorize(store, request, "write");
  const auto body = object_body(request);
  return with_etag(200, store.restore(caller_of(request), kind_of(request), id_of(request), reason_of(body)));
}

// ---- history ------------------------------------------------------------------------------

Response list_revisions(ResourceStore& store, Request& request) {
  authorize(store, request, "read");
  const auto page = store.revisions(caller_of(request), kind_of(request), id_of(request),
                                    limit_parameter(request), revision_parameter(request, "cursor"));
  nlohmann::json items = nlohmann::json::array();
  for (const auto& revision : page.items) {
    auto item = to_json(revision);
    item.erase("content");
    items.push_back(std::move(item));
  }
  return Response::json(
      200, {{"items", std::move(items)},
            {"next_cursor",
             page.next_before ? nlohmann::json(std::to_string(*page.next_before)) : nlohmann::json()}});
}

Response get_revision(ResourceStore& store, Request& request) {
  authorize(store, request, "read");
  const auto number = revision_in_path(request, "rev");
  return Response::json(
      200, to_json(store.revision(caller_of(request), kind_of(request), id_of(request), number)));
}

Response diff_revisions(ResourceStore& store, Request& request) {
  authorize(store, request, "read");
  const auto from = revision_parameter(request, "from");
  if (!from) throw http::HttpError(400, "invalid_parameter", "from is required", {{"field", "from"}});
  auto to = revision_parameter(request, "to");
  if (!to) to = store.get(caller_of(request), kind_of(request), id_of(request)).revision;
  const auto diff = store.diff(caller_of(request), kind_of(request), id_of(request), *from, *to);
  return Response::json(200,
                        {{"from", *from}, {"to", *to}, {"patch", diff.patch}, {"readable", diff.readable}});
}

Response rollback_resource(ResourceStore& store, Request& request) {
  authorize(store, request, "write");
  const auto expected = if_match(request).revision;
  const auto body = object_body(request);
  const auto to = optional_revision(body, "to_revision");
  if (!to) throw http::HttpError(400, "invalid_field", "to_revision is required", {{"field", "to_revision"}});
  return with_etag(200, store.rollback(caller_of(request), kind_of(request), id_of(request), *to,
                                       reason_of(body), expected));
}

// The undo of the last change to the content: a soft delete is restored; a save is
// undone by saving the previous revision's content as a new revision (history keeps
// both). If-Match, when sent, must name the current revision.
Response undo_resource(ResourceStore& store, Request& request) {
  authorize(store, request, "write");
  const auto expected = if_match(request).revision;
  const auto body = object_body(request);
  const auto caller = caller_of(request);
  const auto current = store.get(caller, kind_of(request), id_of(request), true);
  if (current.deleted) {
    return with_etag(200, store.restore(caller, kind_of(request), id_of(request), reason_of(body)));
  }
  if (current.revision < 2) {
    throw http::HttpError(409, "nothing_to_undo",
                          current.kind + " '" + current.id + "' has only its first revision; delete it instead");
  }
  auto why = reason_of(body);
  if (why.empty()) why = "undo of revision " + std::to_string(current.revision);
  // The revision read above is the one undone: a save in between makes this a 412, not a wrong undo.
  return with_etag(200, store.rollback(caller, kind_of(request), id_of(request), current.revision - 1, why,
                                       expected.value_or(current.revision)));
}

Response list_referrers(ResourceStore& store, Request& request) {
  authorize(store, request, "read");
  nlohmann::json items = nlohmann::json::array();
  for (const auto& ref : store.referrers(caller_of(request), kind_of(request), id_of(request))) {
    items.push_back({{"kind", ref.kind}, {"id", ref.id}});
  }
  return Response::json(200, {{"items", std::move(items)}});
}

// ---- stages -------------------------------------------------------------------------------

Response promote_resource(ResourceStore& store, Request& request) {
  authorize(store, request, "write");
  const auto body = object_body(request);
  const auto stage = required_string(body, "stage", 32);
  const auto result = store.promote(caller_of(request), kind_of(request), id_of(request), stage,
                                    reason_of(body), optional_revision(body, "revision"));
  // 202: recorded, waiting for a second person (see pending_promotion).
  return with_etag(result.pending ? 202 : 200, result.resource);
}

Response approve_promotion(ResourceStore& store, Request& request) {
  authorize(store, request, "approve");
  const auto body = object_body(request);
  return with_etag(200, store.approve(caller_of(request), kind_of(request), id_of(request), reason_of(body)));
}

// ---- bundles --------------------------------------------------------------------------------

std::vector<std::string> split_kinds(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    const auto end = comma == std::string::npos ? text.size() : comma;
    if (end > start) out.push_back(text.substr(start, end - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

Response export_bundle(ResourceStore& store, Request& request) {
  const auto& caller = caller_of(request);
  std::vector<std::string> kinds;
  if (const auto it = request.query.find("kinds"); it != request.query.end()) {
    kinds = split_kinds(it->second);
    for (const auto& name : kinds) {
      const auto kind = store.kinds().require(name);
      if (!caller.can(kind->kind.permission("read"))) forbidden(kind->kind.permission("read"));
    }
  } else {
    // Every kind the caller may read.
    for (const auto& name : store.kinds().names()) {
      const auto kind = store.kinds().find(name);
      if (kind && caller.can(kind->kind.permission("read"))) kinds.push_back(name);
    }
  }
  return bundle_response(request, store.export_bundle(caller, kinds));
}

Response import_bundle(ResourceStore& store, Request& request) {
  const auto& caller = caller_of(request);
  const auto bundle = bundle_of(request);
  if (bundle.is_object()) {
    if (const auto resources = bundle.find("resources"); resources != bundle.end() && resources->is_array()) {
      std::set<std::string> checked;
      for (const auto& item : *resources) {
        if (!item.is_object() || !item.contains("kind") || !item["kind"].is_string())
          continue;  // the store says why
        const auto kind = store.kinds().find(item["kind"].get<std::string>());
        if (!kind || !checked.insert(kind->kind.name).second) continue;
        if (!caller.can(kind->kind.permission("write"))) forbidden(kind->kind.permission("write"));
      }
    }
  }
  nlohmann::json items = nlohmann::json::array();
  for (const auto& item : store.import_bundle(caller, bundle)) {
    items.push_back(
        {{"kind", item.kind}, {"id", item.id}, {"revision", item.revision}, {"outcome", item.outcome}});
  }
  return Response::json(200, {{"items", std::move(items)}});
}

using Handler = Response (*)(ResourceStore&, Request&);

// The routes of one kind, after its collection path; permissions are "<kind>.<action>".
struct PerKind {
  std::string_view method;
  std::string_view suffix;
  Handler handler;
  std::string_view summary;
  std::string_view action;
};

constexpr PerKind kPerKind[] = {
    {"GET", "", list_resources, "List resources of a kind", "read"},
    {"POST", "", create_resource, "Create a resource (revision 1)", "write"},
    {"GET", "/{id}", get_resource, "A resource's current revision; ETag is the revision", "read"},
    {"PUT", "/{id}", update_resource, "Save a new revision; needs If-Match", "write"},
    {"DELETE", "/{id}", delete_resource, "Soft-delete a resource", "write"},
    {"POST", "/{id}/restore", restore_resource, "Undo a soft delete", "write"},
    {"GET", "/{id}/revisions", list_revisions, "A resource's revisions, newest first", "read"},
    {"GET", "/{id}/revisions/{rev}", get_revision, "One revision with its content", "read"},
    {"GET", "/{id}/diff", diff_revisions, "RFC 6902 patch and readable diff between two revisions", "read"},
    {"POST", "/{id}/rollback", rollback_resource, "Save an old revision's content as a new revision", "write"},
    {"POST", "/{id}/undo", undo_resource,
     "Undo the last change: restore a deleted resource, or save the previous revision's content again", "write"},
    {"GET", "/{id}/referrers", list_referrers, "Resources that refer to this one", "read"},
    {"POST", "/{id}/promote", promote_resource, "Point staging or production at a revision", "write"},
    {"POST", "/{id}/approve", approve_promotion, "Approve another person's pending promotion", "approve"},
};

http::Route route(std::string_view method, std::string pattern, http::Handler handler, std::string_view summary,
                  std::string permission) {
  return http::Route{std::string(method), std::move(pattern), std::move(handler), http::Surface::both, "kernel",
                     false, std::string(summary), std::move(permission)};
}

}  // namespace

void register_resource_routes(http::Router& router, ResourceStore& store) {
  auto bound = [&store](Handler handler) {
    return [&store, handler](Request& request) { return handler(store, request); };
  };
  std::vector<http::Route> routes;
  for (const auto& entry : kPerKind) {
    routes.push_back(route(entry.method, "/api/v1/resources/{kind}" + std::string(entry.suffix),
                           bound(entry.handler), entry.summary, "{kind}." + std::string(entry.action)));
  }
  routes.push_back(route("GET", "/api/v1/resources:export", bound(export_bundle),
                         "Export resources as a bundle: JSON, or YAML with Accept: application/yaml or ?format=yaml",
                         std::string(http::kAuthenticated)));
  routes.push_back(route("POST", "/api/v1/resources:import", bound(import_bundle),
                         "Import a bundle sent as JSON or YAML (Content-Type: application/yaml)",
                         std::string(http::kAuthenticated)));
  router.add_all(std::move(routes));
}

std::vector<http::Route> kind_routes(ResourceStore& store, const std::string& kind, const std::string& prefix) {
  std::vector<http::Route> routes;
  for (const auto& entry : kPerKind) {
    // The kind is fixed: the handlers read it where /api/v1/resources/{kind} puts it.
    auto handler = [&store, kind, fn = entry.handler](Request& request) {
      request.path_params["kind"] = kind;
      return fn(store, request);
    };
    routes.push_back(route(entry.method, prefix + std::string(entry.suffix), std::move(handler), entry.summary,
                           kind + "." + std::string(entry.action)));
  }
  return routes;
}

}  // namespace plexus::resources
