#include "kernel/schedule/schedule_json.hpp"

#include <set>

#include "kernel/jobs/job_json.hpp"

namespace plexus::schedule {
namespace {

using nlohmann::json;

[[noreturn]] void bad(const std::string& field, const std::string& message) { throw InvalidSchedule(field, message); }

// nullopt when absent, null or ""; `field` must otherwise be a string of at most max_size bytes.
std::optional<std::string> text(const json& body, const std::string& field, std::size_t max_size) {
  const auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) bad(field, field + " must be a string");
  auto value = it->get<std::string>();
  if (value.size() > max_size) bad(field, field + " must be at most " + std::to_string(max_size) + " bytes");
  if (value.empty()) return std::nullopt;
  return value;
}

std::string required_text(const json& body, const std::string& field, std::size_t max_size) {
  auto value = text(body, field, max_size);
  if (!value) bad(field, field + " is required");
  return *value;
}

// The member when present and not null.
const json* member(const json& body, const std::string& field) {
  const auto it = body.find(field);
  return it == body.end() || it->is_null() ? nullptr : &*it;
}

}  // namespace

json to_json(const ScheduleInfo& info) {
  json next_runs = json::array();
  for (const auto& time : info.next_runs) next_runs.push_back(store::format_time(time));
  return {{"name", info.spec.name},
          {"tenant", info.spec.tenant},
          {"owner", info.spec.owner},
          {"expression", info.spec.expression},
          {"time_zone", info.spec.time_zone},
          {"missed_runs", std::string(to_string(info.missed_runs))},
          {"catch_up_cap", info.catch_up_cap},
          {"singleton", info.spec.singleton},
          {"paused", info.paused},
          {"job_kind", info.spec.job_kind},
          {"payload", info.spec.payload},
          {"priority", info.spec.priority},
          {"next_run_at", jobs::time_or_null(info.next_run_at)},
          {"last_run_at", jobs::time_or_null(info.last_run_at)},
          {"next_runs", std::move(next_runs)},
          {"created_at", store::format_time(info.created_at)},
          {"updated_at", store::format_time(info.updated_at)}};
}

ScheduleSpec spec_from_json(const json& body) {
  static const std::set<std::string> known = {"expression", "time_zone", "missed_runs", "catch_up_cap",
                                              "singleton",  "job_kind",  "payload",     "priority"};
  if (!body.is_object()) bad("", "a schedule must be a JSON object");
  for (const auto& [field, value] : body.items()) {
    if (!known.count(field)) bad(field, "unknown field '" + field + "'");
  }
  ScheduleSpec spec;
  spec.expression = required_text(body, "expression", 1024);
  spec.job_kind = required_text(body, "job_kind", 200);
  if (auto zone = text(body, "time_zone", 100)) spec.time_zone = *zone;
  if (auto policy = text(body, "missed_runs", 20)) {
    spec.missed_runs = parse_missed_run_policy(*policy);
    if (!spec.missed_runs) bad("missed_runs", "missed_runs must be skip, run_once or run_all");
  }
  if (const auto* cap = member(body, "catch_up_cap")) {
    if (!cap->is_number_unsigned() || cap->get<std::uint64_t>() > kMaxCatchUpRuns)
      bad("catch_up_cap", "catch_up_cap must be an integer within 0.." + std::to_string(kMaxCatchUpRuns) +
                              " (0: the default)");
    spec.catch_up_cap = cap->get<std::size_t>();
  }
  if (const auto* singleton = member(body, "singleton")) {
    if (!singleton->is_boolean()) bad("singleton", "singleton must be true or false");
    spec.singleton = singleton->get<bool>();
  }
  if (const auto* payload = member(body, "payload")) {
    if (!payload->is_object()) bad("payload", "payload must be a JSON object");
    spec.payload = *payload;
  }
  if (const auto* priority = member(body, "priority")) {
    if (!priority->is_number_integer() || priority->get<std::int64_t>() < -1000 ||
        priority->get<std::int64_t>() > 1000)
      bad("priority", "priority must be an integer within -1000..1000");
    spec.priority = priority->get<int>();
  }
  return spec;
}

}  // namespace plexus::schedule
