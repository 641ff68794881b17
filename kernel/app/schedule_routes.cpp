#include "kernel/app/schedule_routes.hpp"

#include <charconv>

#include "kernel/http/request_fields.hpp"
#include "kernel/schedule/schedule_json.hpp"

namespace plexus {
namespace {

using http::HttpError;
using http::Request;
using http::Response;
using nlohmann::json;

const auth::Caller& caller_of(const Request& request) {
  if (!request.caller || request.caller->anonymous()) {
    throw HttpError(401, "unauthenticated", "this route needs credentials: a bearer token or an API key");
  }
  return *request.caller;
}

const std::string& name_of(const Request& request) { return request.path_params.at("name"); }

[[noreturn]] void not_found(const std::string& name) {
  throw HttpError(404, "not_found", "no schedule '" + name + "' in this tenant");
}

// The PUT body as a spec; 400 naming the field for anything malformed.
schedule::ScheduleSpec spec_of(const Request& request) {
  schedule::ScheduleSpec spec;
  try {
    spec = schedule::spec_from_json(http::object_body(request));
  } catch (const schedule::InvalidSchedule& error) {
    http::bad_field(error.field(), error.what());
  }
  spec.tenant = caller_of(request).tenant;
  spec.name = name_of(request);
  return spec;
}

Response put(schedule::Scheduler& scheduler, audit::AuditLog& audit, const Request& request) {
  const auto& caller = caller_of(request);
  auto spec = spec_of(request);
  const auto before = scheduler.get(caller.tenant, spec.name, 0);
  // Made here: owner "api"; a replace keeps the owner (a plugin's schedule stays the plugin's).
  spec.owner = before ? before->spec.owner : "api";
  schedule::ScheduleInfo after;
  try {
    after = scheduler.put(spec);
  } catch (const schedule::InvalidSchedule& error) {
    http::bad_field(error.field(), error.what());
  }
  auto event = audit::event_of(caller, "schedule.put", "schedule/" + spec.name);
  event.before = before ? schedule::to_json(*before) : json(nullptr);
  event.after = schedule::to_json(after);
  audit.record(std::move(event));
  return Response::json(before ? 200 : 201, schedule::to_json(*scheduler.get(caller.tenant, spec.name)));
}

Response remove(schedule::Scheduler& scheduler, audit::AuditLog& audit, const Request& request) {
  const auto& caller = caller_of(request);
  const auto before = scheduler.get(caller.tenant, name_of(request), 0);
  if (!before || !scheduler.remove(caller.tenant, name_of(request))) not_found(name_of(request));
  auto event = audit::event_of(caller, "schedule.delete", "schedule/" + name_of(request));
  event.before = schedule::to_json(*before);
  audit.record(std::move(event));
  Response response;
  response.status = 204;
  return response;
}

Response pause_or_resume(schedule::Scheduler& scheduler, audit::AuditLog& audit, const Request& request,
                         bool pause) {
  const auto& caller = caller_of(request);
  const auto& name = name_of(request);
  const auto before = scheduler.get(caller.tenant, name, 0);
  if (!before) not_found(name);
  if (!(pause ? scheduler.pause(caller.tenant, name) : scheduler.resume(caller.tenant, name)))
    not_found(name);
  const auto after = scheduler.get(caller.tenant, name);
  if (!after) not_found(name);
  auto event = audit::event_of(caller, pause ? "schedule.pause" : "schedule.resume", "schedule/" + name);
  event.before = {{"paused", before->paused}};
  event.after = {{"paused", after->paused}};
  audit.record(std::move(event));
  return Response::json(200, schedule::to_json(*after));
}

Response get_one(schedule::Scheduler& scheduler, const Request& request) {
  int next_runs = 5;
  if (const auto it = request.query.find("next_runs"); it != request.query.end() && !it->second.empty()) {
    const auto& text = it->second;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), next_runs);
    if (error != std::errc() || end != text.data() + text.size() || next_runs < 0 || next_runs > 100)
      http::bad_parameter("next_runs", "next_runs must be an integer within 0..100");
  }
  const auto info = scheduler.get(caller_of(request).tenant, name_of(request), next_runs);
  if (!info) not_found(name_of(request));
  return Response::json(200, schedule::to_json(*info));
}

Response list(schedule::Scheduler& scheduler, const Request& request) {
  json items = json::array();
  for (const auto& info : scheduler.list(caller_of(request).tenant)) items.push_back(schedule::to_json(info));
  return Response::json(200, {{"items", std::move(items)}});
}

}  // namespace

void register_schedule_routes(http::Router& router, schedule::Scheduler& scheduler, audit::AuditLog& audit) {
  auto route = [](std::string method, std::string pattern, http::Handler handler, std::string summary,
                  std::string permission) {
    return http::Route{
        std::move(method),  std::move(pattern),   std::move(handler), http::Surface::both, "kernel", false,
        std::move(summary), std::move(permission)};
  };
  const std::string one = "/api/v1/schedules/{name}";
  router.add_all({
      route(
          "GET", "/api/v1/schedules", [&scheduler](Request& r) { return list(scheduler, r); },
          "The tenant's schedules with their next run", "schedules.read"),
      route(
          "GET", one, [&scheduler](Request& r) { return get_one(scheduler, r); },
          "One schedule with its next fire times (next_runs=N, default 5)", "schedules.read"),
      route(
          "PUT", one, [&scheduler, &audit](Request& r) { return put(scheduler, audit, r); },
          "Create or replace a schedule: expression, time_zone, missed_runs, catch_up_cap, singleton, "
          "job_kind, "
          "payload, priority",
          "schedules.write"),
      route(
          "DELETE", one, [&scheduler, &audit](Request& r) { return remove(scheduler, audit, r); },
          "Delete a schedule (jobs it queued stay)", "schedules.write"),
      route(
          "POST", one + "/pause",
          [&scheduler, &audit](Request& r) { return pause_or_resume(scheduler, audit, r, true); },
          "Pause a schedule: it fires nothing until resumed", "schedules.write"),
      route(
          "POST", one + "/resume",
          [&scheduler, &audit](Request& r) { return pause_or_resume(scheduler, audit, r, false); },
          "Resume a schedule at its next fire time after now (times missed while paused are skipped)",
          "schedules.write"),
  });
}

}  // namespace plexus
