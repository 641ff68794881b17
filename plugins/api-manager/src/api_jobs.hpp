// Schedules and batches of runtime APIs (issue 7 item 11, API-10): one job kind,
// "api-manager.run", runs an API without an HTTP request, either once per fire time of a
// kernel schedule or over a list of parameter sets (a batch), each run recorded in the
// execution log. The REST routes under /api/v1/api-manager/apis/{id}/ put and remove the
// schedules and enqueue the batches. docs/api-manager.md "Schedules and batches" is the
// user's view.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <plexus/plugin.hpp>

#include "exec_log.hpp"
#include "execute.hpp"
#include "runtime.hpp"

namespace plexus::api_manager {

inline constexpr std::string_view kRunJobKind = "api-manager.run";
inline constexpr std::size_t kMaxBatchItems = 10000;
// The JSON text of a batch's items: they travel in the job's payload, stored in the kernel database.
inline constexpr std::size_t kMaxBatchBytes = 4 * 1024 * 1024;
// Item results a batch job keeps in its result (the execution log has every run).
inline constexpr std::size_t kMaxKeptItemResults = 1000;
inline constexpr std::size_t kMaxScheduleNameLength = 64;

// A request field at fault: answered as 400 with details.field.
class BadField : public std::invalid_argument {
 public:
  BadField(std::string field, const std::string& message)
      : std::invalid_argument(message), field(std::move(field)) {}
  std::string field;
};

// The body of PUT .../schedules/{name}: {"cron", "zone"?, "params"?, "priority"?, "stage"?}.
struct ScheduleRequest {
  std::string cron;
  std::string zone = "UTC";
  nlohmann::json params = nlohmann::json::object();
  int priority = 0;
  std::string stage = "production";
};
// Throws BadField naming the field (unknown fields too). The cron expression and the zone
// are checked by the kernel when the schedule is put.
ScheduleRequest parse_schedule_request(const nlohmann::json& body);

// The body of POST .../batch: {"items": [{...}, ...], "priority"?, "stage"?}.
struct BatchRequest {
  nlohmann::json items = nlohmann::json::array();  // 1..kMaxBatchItems JSON objects
  int priority = 0;
  std::string stage = "production";
};
BatchRequest parse_batch_request(const nlohmann::json& body);

// 1..kMaxScheduleNameLength of A-Z a-z 0-9 _ - (no dots: they separate the kernel name's parts).
bool valid_schedule_name(std::string_view name);
// The kernel schedule of API `api_id`'s schedule `name`: "api-manager.<id>.<name>"; nullopt
// when that exceeds the kernel's 128 characters.
std::optional<std::string> kernel_schedule_name(std::string_view api_id, std::string_view name);
// The request field behind a kernel schedule_put refusal ("schedule_put: expression: ..."
// -> "cron", time_zone -> "zone"); "" when the message names none of ours.
std::string schedule_field_of(std::string_view kernel_message);

// The result of a batch as its items finish: {"total", "succeeded", "failed", "items":
// [{"index", "status", "rows", "error"?}], "items_truncated"}. Failed items are kept before
// succeeded ones once the cap is near, so the errors are what a large batch shows.
class BatchSummary {
 public:
  explicit BatchSummary(std::size_t total, std::size_t keep = kMaxKeptItemResults)
      : total_(total), keep_(keep) {}
  void add(std::size_t index, const Outcome& outcome);
  std::size_t done() const { return succeeded_ + failed_; }
  std::size_t failed() const { return failed_; }
  bool all_failed() const { return total_ > 0 && failed_ == total_; }
  // The first failure's message (for the job's error when every item failed).
  const std::string& first_error() const { return first_error_; }
  nlohmann::json result() const;

 private:
  std::size_t total_, keep_;
  std::size_t succeeded_ = 0, failed_ = 0;
  std::size_t dropped_ = 0;
  std::string first_error_;
  std::vector<nlohmann::json> items_;
};

// The job handler and the routes; keep it alive while the plugin runs (its handlers use it).
class ApiJobs {
 public:
  // Creates the schedule table when it is missing; throws sdk::Error when that fails.
  ApiJobs(sdk::Host& host, Runtime& runtime, ExecLog& log);

  // The handler of kRunJobKind (manifest permissions.jobs).
  void register_handler();
  // Under `prefix` (/api/v1/api-manager): PUT, GET and DELETE apis/{id}/schedules[/{name}],
  // POST apis/{id}/batch.
  void register_routes(const std::string& prefix);

 private:
  std::string run_job(const sdk::Job& job, std::string_view payload_json);
  // One run, recorded in the execution log under `caller`.
  Outcome run_recorded(const std::string& tenant, const std::string& stage, const CompiledApi& api,
                       const nlohmann::json& params, const std::string& caller, const std::string& request_id,
                       std::optional<std::int64_t>* execution_id = nullptr);

  void put_schedule(const sdk::Request& req, sdk::Response& res);
  void list_schedules(const sdk::Request& req, sdk::Response& res);
  void delete_schedule(const sdk::Request& req, sdk::Response& res);
  void post_batch(const sdk::Request& req, sdk::Response& res);

  std::vector<nlohmann::json> stored_schedules(const std::string& tenant, const std::string& api_id,
                                               const std::string& name = {});
  bool api_exists(const std::string& tenant, const std::string& api_id);

  sdk::Host& host_;
  Runtime& runtime_;
  ExecLog& log_;
};

}  // namespace plexus::api_manager
