#include "kernel/audit/audit_routes.hpp"

#include <charconv>
#include <string>
#include <string_view>

#include "kernel/audit/record_json.hpp"
#include "kernel/http/access.hpp"
#include "kernel/http/request_fields.hpp"

namespace plexus::audit {
namespace {

using http::bad_parameter;
using http::HttpError;
using http::Request;
using http::Response;

constexpr std::string_view kViewPermission = "admin.audit.view";
// Seeing other tenants' rows is for administrators of the whole installation.
constexpr std::string_view kCrossTenantPermission = "admin.tenants.manage";
constexpr std::string_view kSystemTenant = "default";

const auth::Caller& caller_of(const Request& request) {
  if (!request.caller || request.caller->anonymous()) {
    throw HttpError(401, "unauthenticated", "this route needs credentials: a bearer token or an API key");
  }
  return *request.caller;
}

std::optional<std::int64_t> positive_integer(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < 1) return std::nullopt;
  return value;
}

std::string time_parameter(const Request& request, const std::string& field) {
  const auto it = request.query.find(field);
  if (it == request.query.end() || it->second.empty()) return {};
  if (!store::parse_time(it->second)) {
    bad_parameter(field, field + " must be an ISO-8601 UTC time such as 2026-01-31T12:00:00Z");
  }
  return it->second;
}

// The query the parameters describe, and the filters as given (for the audit.read row).
AuditQuery query_of(const Request& request, const auth::Caller& caller, nlohmann::json& filters) {
  AuditQuery query;
  filters = nlohmann::json::object();
  auto text = [&](const char* field, std::string& into) {
    const auto it = request.query.find(field);
    if (it == request.query.end() || it->second.empty()) return;
    into = it->second;
    filters[field] = it->second;
  };
  text("actor", query.actor);
  text("action", query.action_prefix);
  text("target", query.target);
  text("outcome", query.outcome);
  if (!query.outcome.empty() && query.outcome != "success" && query.outcome != "failure" &&
      query.outcome != "denied") {
    bad_parameter("outcome", "outcome must be success, failure or denied");
  }
  query.from = time_parameter(request, "from");
  query.to = time_parameter(request, "to");
  if (!query.from.empty()) filters["from"] = query.from;
  if (!query.to.empty()) filters["to"] = query.to;

  query.limit = http::limit_parameter(request, query.limit, kMaxQueryLimit);
  if (request.query.count("limit")) filters["limit"] = request.query.at("limit");
  if (const auto it = request.query.find("cursor"); it != request.query.end() && !it->second.empty()) {
    query.before_sequence = positive_integer(it->second);
    if (!query.before_sequence) bad_parameter("cursor", "cursor must be the next_cursor of a previous page");
    filters["cursor"] = it->second;
  }

  query.tenant = caller.tenant;
  if (const auto it = request.query.find("tenant"); it != request.query.end() && !it->second.empty()) {
    const bool own = it->second == caller.tenant;
    if (!own && (caller.tenant != kSystemTenant || !caller.can(kCrossTenantPermission))) {
      throw HttpError(403, "forbidden",
                      "only administrators of tenant default with " + std::string(kCrossTenantPermission) +
                          " may read another tenant's audit log",
                      {{"field", "tenant"}, {"permission", std::string(kCrossTenantPermission)}});
    }
    if (it->second == "*") {
      query.tenant.reset();
    } else {
      query.tenant = it->second;
    }
    filters["tenant"] = it->second;
  }
  return query;
}

nlohmann::json item_of(const AuditRecord& record) {
  auto item = record_to_json(record);
  item["changes"] = !record.before.is_null() && !record.after.is_null()
                        ? nlohmann::json::diff(record.before, record.after)
                        : nlohmann::json(nullptr);
  return item;
}

Response list(Request& request, AuditLog& log) {
  const auto& caller = caller_of(request);
  nlohmann::json filters;
  const auto query = query_of(request, caller, filters);
  const auto page = log.query(query);

  // Reading the log is itself a sensitive read: recorded before anything is returned.
  auto event = event_of(caller, "audit.read", "audit");
  event.details = {{"filters", filters}, {"returned", page.items.size()}};
  log.record(std::move(event));

  auto items = nlohmann::json::array();
  for (const auto& record : page.items) items.push_back(item_of(record));
  return Response::json(200, {{"items", std::move(items)},
                              {"next_cursor", page.next_cursor ? nlohmann::json(std::to_string(*page.next_cursor))
                                                               : nlohmann::json(nullptr)}});
}

Response verify(Request& request, AuditLog& log) {
  caller_of(request);
  const auto result = log.verify();
  return Response::json(
      200, {{"ok", result.ok},
            {"checked", result.checked},
            {"first_bad_sequence",
             result.first_bad_sequence ? nlohmann::json(*result.first_bad_sequence) : nlohmann::json(nullptr)},
            {"reason", result.ok ? nlohmann::json(nullptr) : nlohmann::json(result.reason)},
            {"head_sequence", result.head_sequence}});
}

}  // namespace

void register_audit_routes(http::Router& router, AuditLog& log) {
  std::vector<http::Route> routes;
  http::Route list_route{"GET", "/api/v1/admin/audit", [&log](Request& request) { return list(request, log); }};
  list_route.summary =
      "Audit log rows, newest first: filters actor, action (prefix), target, outcome, from, to, tenant; "
      "paging with limit and cursor";
  list_route.permission = std::string(kViewPermission);
  routes.push_back(std::move(list_route));

  http::Route verify_route{"GET", "/api/v1/admin/audit/verify",
                           [&log](Request& request) { return verify(request, log); }};
  verify_route.summary = "Checks the audit log's hash chain and its head; names the first bad row";
  verify_route.permission = std::string(kViewPermission);
  routes.push_back(std::move(verify_route));
  router.add_all(std::move(routes));
}

}  // namespace plexus::audit
