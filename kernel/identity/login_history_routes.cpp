// /api/v1/admin/login-history: the tenant's login attempts, newest first.
#include "kernel/identity/request_fields.hpp"
#include "kernel/identity/routes.hpp"
#include "kernel/store/clock.hpp"

namespace plexus::identity {
namespace {

using http::Request;
using http::Response;

std::string time_parameter(const Request& request, const std::string& name) {
  const auto value = request.query_or(name, "");
  if (value.empty()) return value;
  const auto time = store::parse_time(value);
  if (!time) bad_parameter(name, name + " must be an ISO-8601 UTC time such as 2030-01-31T12:00:00Z");
  return store::format_time(*time);
}

Response login_history(Services& s, Request& request) {
  const auto& caller = *request.caller;
  LoginHistoryQuery query;
  query.tenant = caller.tenant;
  query.username = request.query_or("username", "");
  query.outcome = request.query_or("outcome", "");
  if (!query.outcome.empty() && query.outcome != "success" && query.outcome != "bad_credentials" &&
      query.outcome != "locked" && query.outcome != "disabled") {
    bad_parameter("outcome", "outcome is one of success, bad_credentials, locked, disabled");
  }
  query.from = time_parameter(request, "from");
  query.to = time_parameter(request, "to");
  query.limit = limit_parameter(request);
  if (const auto cursor = request.query.find("cursor"); cursor != request.query.end()) {
    const auto position = decode_cursor(cursor->second);
    const auto bar = position.find('|');
    if (bar == std::string::npos) bad_parameter("cursor", "cursor is not one this server handed out");
    query.before = std::make_pair(position.substr(0, bar), position.substr(bar + 1));
  }
  const auto page = s.login_guard.history(query);
  nlohmann::json items = nlohmann::json::array();
  for (const auto& attempt : page.items) items.push_back(to_json(attempt));
  s.record(caller, "login-history.read", "login-history", nullptr, nullptr, "success",
           {{"count", page.items.size()}, {"username", query.username}, {"outcome", query.outcome}});
  return Response::json(
      200,
      {{"items", std::move(items)},
       {"next_cursor", page.last ? nlohmann::json(encode_cursor(page.last->first + "|" + page.last->second))
                                 : nlohmann::json(nullptr)}});
}

}  // namespace

std::vector<http::Route> login_history_routes(Services& s) {
  return {
      make_route(s, "GET", "/api/v1/admin/login-history", login_history,
                 "Login attempts of the tenant: filters username, outcome, from, to; paging limit, cursor",
                 "admin.login-history.view")};
}

}  // namespace plexus::identity
