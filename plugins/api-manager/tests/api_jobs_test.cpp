// The request checks and the batch summary of schedules and batches (api_jobs.hpp); the
// routes and the job itself run through plexusd in tests/integration/api_manager_jobs_test.cpp.
#include "api_jobs.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using nlohmann::json;
using namespace plexus::api_manager;  // NOLINT

namespace {

std::string field_of(const json& body, ScheduleRequest (*parse)(const json&)) {
  try {
    parse(body);
  } catch (const BadField& e) {
    return e.field;
  }
  return "(accepted)";
}

std::string batch_field_of(const json& body) {
  try {
    parse_batch_request(body);
  } catch (const BadField& e) {
    return e.field;
  }
  return "(accepted)";
}

Outcome ok(std::int64_t rows) { return Outcome::success(nlohmann::ordered_json::object(), rows); }
Outcome failed(const std::string& message) {
  return Outcome::failure(502, "datasource", "datasource_error", message);
}

}  // namespace

TEST_CASE("schedule requests: defaults, and each bad field named", "[api-manager][jobs]") {
  const auto request = parse_schedule_request(json{{"cron", "@every 1s"}});
  CHECK(request.cron == "@every 1s");
  CHECK(request.zone == "UTC");
  CHECK(request.stage == "production");
  CHECK(request.priority == 0);
  CHECK(request.params == json::object());

  const auto full = parse_schedule_request(json{{"cron", "0 2 * * *"},
                                                {"zone", "Europe/Berlin"},
                                                {"params", {{"role", "db"}}},
                                                {"priority", -5},
                                                {"stage", "staging"}});
  CHECK(full.zone == "Europe/Berlin");
  CHECK(full.params == json{{"role", "db"}});
  CHECK(full.priority == -5);
  CHECK(full.stage == "staging");

  CHECK(field_of(json::array(), parse_schedule_request).empty());
  CHECK(field_of(json::object(), parse_schedule_request) == "cron");
  CHECK(field_of(json{{"cron", ""}}, parse_schedule_request) == "cron");
  CHECK(field_of(json{{"cron", 5}}, parse_schedule_request) == "cron");
  CHECK(field_of(json{{"cron", "@daily"}, {"zone", 1}}, parse_schedule_request) == "zone");
  CHECK(field_of(json{{"cron", "@daily"}, {"params", "role=db"}}, parse_schedule_request) == "params");
  CHECK(field_of(json{{"cron", "@daily"}, {"priority", 1001}}, parse_schedule_request) == "priority");
  CHECK(field_of(json{{"cron", "@daily"}, {"priority", 1.5}}, parse_schedule_request) == "priority");
  CHECK(field_of(json{{"cron", "@daily"}, {"stage", "canary"}}, parse_schedule_request) == "stage");
  CHECK(field_of(json{{"cron", "@daily"}, {"expression", "@daily"}}, parse_schedule_request) == "expression");
}

TEST_CASE("batch requests: items required, objects only, capped", "[api-manager][jobs]") {
  const auto request =
      parse_batch_request(json{{"items", {{{"role", "web"}}, json::object()}}, {"priority", 1000}});
  CHECK(request.items.size() == 2);
  CHECK(request.priority == 1000);
  CHECK(request.stage == "production");

  CHECK(batch_field_of(json{{"items", json::array()}}) == "items");
  CHECK(batch_field_of(json{{"priority", 1}}) == "items");
  CHECK(batch_field_of(json{{"items", {{{"a", 1}}, 5}}}) == "items/1");
  CHECK(batch_field_of(json{{"items", {json::object()}}, {"priority", -1001}}) == "priority");
  CHECK(batch_field_of(json{{"items", {json::object()}}, {"stage", "prod"}}) == "stage");
  CHECK(batch_field_of(json{{"items", {json::object()}}, {"batch", true}}) == "batch");
  json many = json::array();
  for (std::size_t i = 0; i < kMaxBatchItems; ++i) many.push_back(json::object());
  CHECK(batch_field_of(json{{"items", many}}) == "(accepted)");
  many.push_back(json::object());
  CHECK(batch_field_of(json{{"items", many}}) == "items");
}

TEST_CASE("schedule names and the kernel's name for them", "[api-manager][jobs]") {
  CHECK(valid_schedule_name("nightly_report-2"));
  CHECK_FALSE(valid_schedule_name(""));
  CHECK_FALSE(valid_schedule_name("a.b"));
  CHECK_FALSE(valid_schedule_name("a b"));
  CHECK_FALSE(valid_schedule_name(std::string(kMaxScheduleNameLength + 1, 'a')));
  CHECK(kernel_schedule_name("servers-by-role", "nightly") == "api-manager.servers-by-role.nightly");
  CHECK_FALSE(kernel_schedule_name(std::string(100, 'x'), std::string(20, 'y')).has_value());

  CHECK(schedule_field_of("schedule_put: expression: hour '24': 24 is outside 0-23") == "cron");
  CHECK(schedule_field_of("schedule_put: time_zone: unknown time zone 'Mars/Base'") == "zone");
  CHECK(schedule_field_of("schedule_put: priority: priority must be an integer") == "priority");
  CHECK(schedule_field_of("schedule_put: something else").empty());
}

TEST_CASE("batch summary: counts, errors, and failures kept over successes at the cap",
          "[api-manager][jobs]") {
  BatchSummary summary(3);
  summary.add(0, ok(2));
  summary.add(1, failed("the datasource could not run this API"));
  summary.add(2, ok(0));
  const auto result = summary.result();
  CHECK(result["total"] == 3);
  CHECK(result["succeeded"] == 2);
  CHECK(result["failed"] == 1);
  CHECK_FALSE(result["items_truncated"].get<bool>());
  REQUIRE(result["items"].size() == 3);
  CHECK(result["items"][0] == json{{"index", 0}, {"status", 200}, {"rows", 2}});
  CHECK(result["items"][1]["status"] == 502);
  CHECK(result["items"][1]["error"] == "the datasource could not run this API");
  CHECK(result["items"][1]["error_class"] == "datasource");
  CHECK_FALSE(summary.all_failed());
  CHECK(summary.first_error() == "item 1: the datasource could not run this API");

  BatchSummary none(2);
  none.add(0, failed("a"));
  none.add(1, failed("b"));
  CHECK(none.all_failed());

  // Capped at two kept items: later failures replace kept successes, never the reverse.
  BatchSummary capped(5, 2);
  capped.add(0, ok(1));
  capped.add(1, ok(1));
  capped.add(2, failed("x"));
  capped.add(3, ok(1));
  capped.add(4, failed("y"));
  const auto kept = capped.result();
  CHECK(kept["succeeded"] == 3);
  CHECK(kept["failed"] == 2);
  CHECK(kept["items_truncated"].get<bool>());
  REQUIRE(kept["items"].size() == 2);
  CHECK(kept["items"][0]["index"] == 2);
  CHECK(kept["items"][1]["index"] == 4);

  // A batch stopped midway (cancelled) says its items are not all there.
  BatchSummary stopped(3);
  stopped.add(0, ok(1));
  CHECK(stopped.result()["items_truncated"].get<bool>());
}
