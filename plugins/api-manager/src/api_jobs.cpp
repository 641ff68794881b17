#include "api_jobs.hpp"

#include <algorithm>
#include <chrono>

#include "params.hpp"

namespace plexus::api_manager {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxKernelNameLength = 128;
constexpr std::size_t kMaxReportedFieldErrors = 50;

std::string tenant_of(const sdk::Caller& caller) {
  return caller.tenant().empty() ? "default" : std::string(caller.tenant());
}

std::string actor(const sdk::Caller& caller) {
  if (caller.anonymous()) return "anonymous";
  const auto kind = caller.kind();
  return std::string(kind == "api_key" ? "apikey" : kind) + ":" + std::string(caller.name());
}

void fail(sdk::Response& res, const sdk::Request& req, int status, std::string_view code,
          std::string_view message, const json& details = nullptr) {
  res.json(status, error_body(code, message, details, req.request_id()).dump());
}

int priority_of(const json& body) {
  const auto it = body.find("priority");
  if (it == body.end() || it->is_null()) return 0;
  if (!it->is_number_integer() || it->get<std::int64_t>() < -1000 || it->get<std::int64_t>() > 1000) {
    throw BadField("priority", "priority must be an integer from -1000 to 1000 (higher runs first)");
  }
  return static_cast<int>(it->get<std::int64_t>());
}

std::string stage_of(const json& body) {
  const auto it = body.find("stage");
  if (it == body.end() || it->is_null()) return "production";
  if (!it->is_string() || (*it != "production" && *it != "staging")) {
    throw BadField("stage", "stage must be 'production' or 'staging'");
  }
  return it->get<std::string>();
}

void refuse_unknown(const json& body, std::initializer_list<std::string_view> known) {
  for (const auto& [field, value] : body.items()) {
    if (std::find(known.begin(), known.end(), field) == known.end()) {
      std::string names;
      for (const auto name : known) names += (names.empty() ? "" : ", ") + std::string(name);
      throw BadField(field, "unknown field '" + field + "' (expected " + names + ")");
    }
  }
}

// The problems of `params` against the API's schema, merged as a JSON body would be.
std::vector<FieldError> param_errors(const CompiledApi& api, const json& params) {
  CallInput input;
  input.body = params;
  return merge_params(api.def.params, *api.schema, input).errors;
}

// {"columns": [...], "rows": [[...]]} -> [{column: value}]
std::vector<json> objects(const std::string& result_text) {
  const auto result = json::parse(result_text);
  const auto& columns = result.at("columns");
  std::vector<json> out;
  for (const auto& row : result.at("rows")) {
    json object = json::object();
    for (std::size_t i = 0; i < columns.size() && i < row.size(); ++i) {
      object[columns[i].get<std::string>()] = row[i];
    }
    out.push_back(std::move(object));
  }
  return out;
}

std::int64_t integer(const json& value) {
  if (value.is_number()) return value.get<std::int64_t>();
  if (value.is_string()) return std::stoll(value.get<std::string>());
  return 0;
}

// A stored row as the routes show it.
json schedule_view(const json& row) {
  auto params = json::parse(row.at("params").get<std::string>(), nullptr, false);
  return {{"name", row.at("name")},
          {"api", row.at("api_id")},
          {"schedule", row.at("schedule")},
          {"cron", row.at("cron")},
          {"zone", row.at("zone")},
          {"stage", row.at("stage")},
          {"params", params.is_discarded() ? json::object() : params},
          {"priority", integer(row.at("priority"))},
          {"created_by", row.at("created_by")},
          {"created_at", row.at("created_at")},
          {"updated_at", row.at("updated_at")}};
}

}  // namespace

// ---- requests ----------------------------------------------------------------------------

ScheduleRequest parse_schedule_request(const json& body) {
  if (!body.is_object()) throw BadField("", "the body must be a JSON object: {\"cron\", \"params\"?, ...}");
  refuse_unknown(body, {"cron", "zone", "params", "priority", "stage"});
  ScheduleRequest out;
  const auto cron = body.find("cron");
  if (cron == body.end() || !cron->is_string() || cron->get_ref<const std::string&>().empty()) {
    throw BadField("cron", "cron is required: a cron expression such as '0 2 * * *', a macro or '@every 5m'");
  }
  out.cron = cron->get<std::string>();
  if (const auto zone = body.find("zone"); zone != body.end() && !zone->is_null()) {
    if (!zone->is_string() || zone->get_ref<const std::string&>().empty()) {
      throw BadField("zone", "zone must be an IANA time zone such as 'Europe/Berlin'");
    }
    out.zone = zone->get<std::string>();
  }
  if (const auto params = body.find("params"); params != body.end() && !params->is_null()) {
    if (!params->is_object())
      throw BadField("params", "params must be a JSON object of the API's parameters");
    out.params = *params;
  }
  out.priority = priority_of(body);
  out.stage = stage_of(body);
  return out;
}

BatchRequest parse_batch_request(const json& body) {
  if (!body.is_object()) throw BadField("", "the body must be a JSON object: {\"items\": [{...}, ...]}");
  refuse_unknown(body, {"items", "priority", "stage"});
  BatchRequest out;
  const auto items = body.find("items");
  if (items == body.end() || !items->is_array() || items->empty()) {
    throw BadField("items", "items is required: an array of parameter objects, one per run");
  }
  if (items->size() > kMaxBatchItems) {
    throw BadField("items", "a batch takes at most " + std::to_string(kMaxBatchItems) + " items, got " +
                                std::to_string(items->size()) + "; split it into several batches");
  }
  for (std::size_t i = 0; i < items->size(); ++i) {
    if (!(*items)[i].is_object()) {
      throw BadField("items/" + std::to_string(i),
                     "item " + std::to_string(i) + " must be a JSON object of parameters");
    }
  }
  if (items->dump().size() > kMaxBatchBytes) {
    throw BadField("items", "the items take more than " + std::to_string(kMaxBatchBytes / (1024 * 1024)) +
                                " MiB; split them into several batches");
  }
  out.items = *items;
  out.priority = priority_of(body);
  out.stage = stage_of(body);
  return out;
}

bool valid_schedule_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxScheduleNameLength) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

std::optional<std::string> kernel_schedule_name(std::string_view api_id, std::string_view name) {
  auto out = "api-manager." + std::string(api_id) + "." + std::string(name);
  if (out.size() > kMaxKernelNameLength) return std::nullopt;
  return out;
}

std::string schedule_field_of(std::string_view message) {
  constexpr std::string_view prefix = "schedule_put: ";
  if (message.starts_with(prefix)) message.remove_prefix(prefix.size());
  const auto colon = message.find(':');
  const auto field = message.substr(0, colon == std::string_view::npos ? 0 : colon);
  if (field == "expression") return "cron";
  if (field == "time_zone") return "zone";
  if (field == "priority") return "priority";
  return "";
}

// ---- batch results -----------------------------------------------------------------------

void BatchSummary::add(std::size_t index, const Outcome& outcome) {
  json item{{"index", index}, {"status", outcome.ok() ? 200 : outcome.status}};
  item["rows"] = outcome.rows < 0 ? json() : json(outcome.rows);
  if (outcome.ok()) {
    ++succeeded_;
  } else {
    ++failed_;
    item["error"] = outcome.message;
    item["error_class"] = outcome.error_class;
    if (first_error_.empty()) first_error_ = "item " + std::to_string(index) + ": " + outcome.message;
  }
  if (items_.size() < keep_) {
    items_.push_back(std::move(item));
    return;
  }
  // Full: a failure takes the place of the latest success kept, so errors stay visible.
  if (!outcome.ok()) {
    const auto success = std::find_if(items_.rbegin(), items_.rend(),
                                      [](const json& kept) { return !kept.contains("error"); });
    if (success != items_.rend()) {
      items_.erase(std::next(success).base());
      items_.push_back(std::move(item));
    }
  }
  ++dropped_;
}

json BatchSummary::result() const {
  auto kept = items_;
  std::sort(kept.begin(), kept.end(), [](const json& a, const json& b) {
    return a["index"].get<std::size_t>() < b["index"].get<std::size_t>();
  });
  return {{"total", total_},
          {"succeeded", succeeded_},
          {"failed", failed_},
          {"items", std::move(kept)},
          {"items_truncated", dropped_ > 0 || done() < total_}};
}

// ---- the job -------------------------------------------------------------------------------

ApiJobs::ApiJobs(sdk::Host& host, Runtime& runtime, ExecLog& log)
    : host_(host), runtime_(runtime), log_(log) {}  // its table api_manager_schedules: exec_log.cpp

void ApiJobs::register_handler() {
  host_.job_handler(kRunJobKind,
                    [this](const sdk::Job& job, std::string_view payload) { return run_job(job, payload); });
}

Outcome ApiJobs::run_recorded(const std::string& tenant, const std::string& stage, const CompiledApi& api,
                              const json& params, const std::string& caller, const std::string& request_id,
                              std::optional<std::int64_t>* execution_id) {
  const auto started = std::chrono::steady_clock::now();
  ExecRecord record;
  record.tenant = tenant;
  record.api_id = api.def.id;
  record.revision = api.def.revision;
  record.stage = stage;
  record.caller = caller;
  record.request_id = request_id;
  record.method = api.def.method;
  record.path = "/runtime/" + api.def.path;
  record.params = params;
  record.started_at = std::chrono::system_clock::now();
  // No caller: the run was authorised when the schedule was put or the batch enqueued.
  auto out = runtime_.run(tenant, stage, api, params, nullptr, &record.steps, request_id);
  record.status = out.ok() ? 200 : out.status;
  record.error_class = out.error_class;
  record.error = out.ok() ? std::string() : out.message;
  record.rows = out.rows;
  record.duration_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  const auto id = log_.record(record);
  if (execution_id != nullptr) *execution_id = id;
  return out;
}

std::string ApiJobs::run_job(const sdk::Job& job, std::string_view payload_json) {
  const auto info = json::parse(job.info_json());
  const auto tenant = info.at("tenant").get<std::string>();
  const auto job_id = info.at("id").get<std::int64_t>();
  const auto payload = json::parse(payload_json, nullptr, false);
  if (!payload.is_object() || !payload.contains("api") || !payload["api"].is_string()) {
    throw std::runtime_error("an api-manager.run job needs a payload with \"api\": the API's id");
  }
  const auto api_id = payload["api"].get<std::string>();
  const auto stage = payload.value("stage", std::string("production"));
  if (stage != "production" && stage != "staging") {
    throw std::runtime_error("stage must be 'production' or 'staging', not '" + stage + "'");
  }
  const auto routes = runtime_.routes(tenant, stage);
  const CompiledApi* api = routes->by_id(api_id);
  if (api == nullptr) {
    throw std::runtime_error("the API '" + api_id + "' does not exist in the " + stage + " stage of tenant " +
                             tenant + " (deleted, or never promoted there)");
  }
  const std::string request_id = "job-" + std::to_string(job_id);

  if (payload.value("batch", false)) {
    const auto& items = payload.contains("items") ? payload["items"] : json();
    if (!items.is_array())
      throw std::runtime_error("a batch job needs \"items\": an array of parameter objects");
    const std::string caller = "batch:" + std::to_string(job_id);
    BatchSummary summary(items.size());
    bool logged_failure = false;
    for (std::size_t i = 0; i < items.size(); ++i) {
      const auto percent = static_cast<int>(i * 100 / items.size());
      if (job.progress(percent, "item " + std::to_string(i + 1) + " of " + std::to_string(items.size()))) {
        return summary.result().dump();  // cancelled: the kernel ends the job so
      }
      const auto out = run_recorded(tenant, stage, *api, items[i].is_object() ? items[i] : json::object(),
                                    caller, request_id);
      if (!out.ok() && !logged_failure) {
        // The reason may hold SQL and schema details: the log only, once per batch.
        logged_failure = true;
        host_.warn(request_id + ": batch item " + std::to_string(i) + " of API " + api_id + " failed (" +
                   out.error_class + "): " + (out.details.is_null() ? out.message : out.details.dump()));
      }
      summary.add(i, out);
    }
    job.progress(
        100, std::to_string(summary.done()) + " items run, " + std::to_string(summary.failed()) + " failed");
    if (summary.all_failed()) {
      throw std::runtime_error("all " + std::to_string(items.size()) + " items failed; " +
                               summary.first_error());
    }
    return summary.result().dump();
  }

  // A scheduled run: the kernel adds "schedule" (its name) and "scheduled_for".
  const auto name = payload.value("name", payload.value("schedule", std::string("unnamed")));
  std::optional<std::int64_t> execution_id;
  const auto params =
      payload.contains("params") && payload["params"].is_object() ? payload["params"] : json::object();
  const auto out = run_recorded(tenant, stage, *api, params, "schedule:" + name, request_id, &execution_id);
  if (!out.ok()) {
    host_.warn(request_id + ": scheduled run '" + name + "' of API " + api_id + " failed (" +
               out.error_class + "): " + (out.details.is_null() ? out.message : out.details.dump()));
    throw std::runtime_error("the API '" + api_id + "' failed (" + out.error_class + "): " + out.message);
  }
  return json{{"status", 200},
              {"rows", out.rows < 0 ? json() : json(out.rows)},
              {"execution_id", execution_id ? json(*execution_id) : json()},
              {"scheduled_for", payload.value("scheduled_for", json())}}
      .dump();
}

// ---- routes --------------------------------------------------------------------------------

void ApiJobs::register_routes(const std::string& prefix) {
  const auto schedules = prefix + "/apis/{id}/schedules";
  // Route permissions on the API itself ({id}); the handlers check the second one.
  host_.route(
      "PUT", schedules + "/{name}", "api.write:{id}",
      [this](const sdk::Request& req, sdk::Response& res) { put_schedule(req, res); }, 0,
      "Create or replace a schedule that runs the API");
  host_.route(
      "GET", schedules, "api.read:{id}",
      [this](const sdk::Request& req, sdk::Response& res) { list_schedules(req, res); }, 0,
      "The API's schedules");
  host_.route(
      "DELETE", schedules + "/{name}", "api.write:{id}",
      [this](const sdk::Request& req, sdk::Response& res) { delete_schedule(req, res); }, 0,
      "Remove a schedule of the API");
  host_.route(
      "POST", prefix + "/apis/{id}/batch", "api.execute:{id}",
      [this](const sdk::Request& req, sdk::Response& res) { post_batch(req, res); }, 0,
      "Run the API once per parameter set, as a job (202 with the job id)");
}

std::vector<json> ApiJobs::stored_schedules(const std::string& tenant, const std::string& api_id,
                                            const std::string& name) {
  std::string sql =
      "SELECT api_id, name, schedule, cron, zone, stage, params, priority, created_by, created_at, "
      "updated_at "
      "FROM api_manager_schedules WHERE tenant_id = :tenant AND api_id = :api";
  json params{{"tenant", tenant}, {"api", api_id}};
  if (!name.empty()) {
    sql += " AND name = :name";
    params["name"] = name;
  }
  return objects(host_.db_query(sql + " ORDER BY name", params.dump()));
}

bool ApiJobs::api_exists(const std::string& tenant, const std::string& api_id) {
  try {
    host_.resource_get(tenant, "api", api_id, "");
    return true;
  } catch (const sdk::Error& e) {
    if (e.status() == PLEXUS_ERR_NOT_FOUND) return false;
    throw;
  }
}

void ApiJobs::put_schedule(const sdk::Request& req, sdk::Response& res) {
  const auto caller = req.caller();
  const auto tenant = tenant_of(caller);
  const std::string id(req.param("id")), name(req.param("name"));
  // A schedule runs the API on the editor's behalf: they must be allowed to run it.
  if (!host_.allowed(caller, "api.execute", id)) {
    return fail(res, req, 403, "forbidden", "scheduling an API needs the permission api.execute:" + id,
                json{{"permission", "api.execute:" + id}});
  }
  if (!valid_schedule_name(name)) {
    return fail(
        res, req, 400, "invalid_field",
        "the schedule name must be 1 to " + std::to_string(kMaxScheduleNameLength) + " of A-Z a-z 0-9 _ -",
        json{{"field", "name"}});
  }
  const auto kernel_name = kernel_schedule_name(id, name);
  if (!kernel_name) {
    return fail(res, req, 400, "invalid_field",
                "the API id and the schedule name together are too long; choose a shorter name",
                json{{"field", "name"}});
  }
  ScheduleRequest request;
  try {
    request = parse_schedule_request(json::parse(req.body(), nullptr, false));
  } catch (const BadField& e) {
    return fail(res, req, 400, "invalid_field", e.what(), json{{"field", e.field}});
  }
  const auto routes = runtime_.routes(tenant, request.stage);
  const CompiledApi* api = routes->by_id(id);
  if (api == nullptr) {
    return fail(res, req, 404, "not_found",
                "no API '" + id + "' in the " + request.stage + " stage of this tenant");
  }
  // Refused now rather than at every fire time.
  if (const auto errors = param_errors(*api, request.params); !errors.empty()) {
    json fields = json::array();
    std::string message = "the parameters are not valid for the API '" + id + "':";
    for (const auto& error : errors) {
      fields.push_back({{"field", error.field}, {"message", error.message}});
      message +=
          " " + (error.field.empty() ? std::string("(parameters)") : error.field) + " " + error.message + ";";
    }
    message.pop_back();
    return fail(res, req, 400, "invalid_params", message, json{{"fields", std::move(fields)}});
  }

  const json spec{
      {"expression", request.cron},
      {"time_zone", request.zone},
      {"job_kind", kRunJobKind},
      {"priority", request.priority},
      {"payload", {{"api", id}, {"stage", request.stage}, {"params", request.params}, {"name", name}}}};
  json kernel;
  try {
    kernel = json::parse(host_.schedule(tenant, *kernel_name, spec.dump()));
  } catch (const sdk::Error& e) {
    if (e.status() == PLEXUS_ERR_INVALID) {
      std::string message = e.what();
      if (message.starts_with("schedule_put: ")) message.erase(0, 14);
      const auto field = schedule_field_of(e.what());
      return fail(res, req, 400, "invalid_field", message, json{{"field", field.empty() ? "cron" : field}});
    }
    if (e.status() == PLEXUS_ERR_CONFLICT) return fail(res, req, 409, "conflict", e.what());
    throw;
  }

  const auto before = stored_schedules(tenant, id, name);
  const auto now = format_utc(std::chrono::system_clock::now());
  host_.db_exec(
      "INSERT INTO api_manager_schedules (tenant_id, api_id, name, schedule, cron, zone, stage, params, "
      "priority, "
      "created_by, created_at, updated_at) VALUES (:tenant, :api, :name, :schedule, :cron, :zone, :stage, "
      ":params, :priority, :by, :now, :now) ON CONFLICT (tenant_id, api_id, name) DO UPDATE SET "
      "schedule = excluded.schedule, cron = excluded.cron, zone = excluded.zone, stage = excluded.stage, "
      "params = excluded.params, priority = excluded.priority, updated_at = excluded.updated_at",
      json{{"tenant", tenant},
           {"api", id},
           {"name", name},
           {"schedule", *kernel_name},
           {"cron", request.cron},
           {"zone", request.zone},
           {"stage", request.stage},
           {"params", request.params.dump()},
           {"priority", request.priority},
           {"by", actor(caller)},
           {"now", now}}
          .dump());
  const auto stored = stored_schedules(tenant, id, name);
  auto view = stored.empty() ? json::object() : schedule_view(stored.front());
  view["next_run_at"] = kernel.value("next_run_at", json());
  view["paused"] = kernel.value("paused", false);
  json event{{"action", "api.schedule.put"}, {"target", "api:" + id + "/schedule:" + name}, {"after", view}};
  if (!before.empty()) event["before"] = schedule_view(before.front());
  host_.audit(caller, event.dump());
  res.json(before.empty() ? 201 : 200, view.dump());
}

void ApiJobs::list_schedules(const sdk::Request& req, sdk::Response& res) {
  const auto tenant = tenant_of(req.caller());
  const std::string id(req.param("id"));
  json items = json::array();
  for (const auto& row : stored_schedules(tenant, id)) items.push_back(schedule_view(row));
  if (items.empty() && !api_exists(tenant, id)) {
    return fail(res, req, 404, "not_found", "no API '" + id + "' in this tenant");
  }
  res.json(200, json{{"items", std::move(items)}}.dump());
}

void ApiJobs::delete_schedule(const sdk::Request& req, sdk::Response& res) {
  const auto caller = req.caller();
  const auto tenant = tenant_of(caller);
  const std::string id(req.param("id")), name(req.param("name"));
  const auto kernel_name = valid_schedule_name(name) ? kernel_schedule_name(id, name) : std::nullopt;
  const auto before = kernel_name ? stored_schedules(tenant, id, name) : std::vector<json>{};
  bool removed = false;
  if (kernel_name) {
    try {
      host_.remove_schedule(tenant, *kernel_name);
      removed = true;
    } catch (const sdk::Error& e) {
      // Gone from the kernel already (removed over /api/v1/schedules): drop the row anyway.
      if (e.status() != PLEXUS_ERR_NOT_FOUND) throw;
    }
  }
  if (!removed && before.empty()) {
    return fail(res, req, 404, "not_found",
                "no schedule '" + name + "' of the API '" + id + "' in this tenant");
  }
  host_.db_exec(
      "DELETE FROM api_manager_schedules WHERE tenant_id = :tenant AND api_id = :api AND name = :name",
      json{{"tenant", tenant}, {"api", id}, {"name", name}}.dump());
  json event{{"action", "api.schedule.delete"}, {"target", "api:" + id + "/schedule:" + name}};
  if (!before.empty()) event["before"] = schedule_view(before.front());
  host_.audit(caller, event.dump());
  res.status(204);
}

void ApiJobs::post_batch(const sdk::Request& req, sdk::Response& res) {
  const auto caller = req.caller();
  const auto tenant = tenant_of(caller);
  const std::string id(req.param("id"));
  BatchRequest request;
  try {
    request = parse_batch_request(json::parse(req.body(), nullptr, false));
  } catch (const BadField& e) {
    return fail(res, req, 400, "invalid_field", e.what(), json{{"field", e.field}});
  }
  if (request.stage == "staging" && !host_.allowed(caller, "api.write", id)) {
    return fail(res, req, 403, "forbidden", "the staging revision needs the permission api.write:" + id,
                json{{"permission", "api.write:" + id}});
  }
  const auto routes = runtime_.routes(tenant, request.stage);
  const CompiledApi* api = routes->by_id(id);
  if (api == nullptr) {
    return fail(res, req, 404, "not_found",
                "no API '" + id + "' in the " + request.stage + " stage of this tenant");
  }
  // Every item is checked before anything runs: a batch with a bad item is refused whole.
  json fields = json::array();
  std::string first;
  for (std::size_t i = 0; i < request.items.size() && fields.size() < kMaxReportedFieldErrors; ++i) {
    for (const auto& error : param_errors(*api, request.items[i])) {
      if (first.empty()) {
        first = "item " + std::to_string(i) + ": " +
                (error.field.empty() ? std::string("(parameters)") : error.field) + " " + error.message;
      }
      fields.push_back({{"index", i}, {"field", error.field}, {"message", error.message}});
    }
  }
  if (!fields.empty()) {
    return fail(res, req, 400, "invalid_params", "the items' parameters are not valid: " + first,
                json{{"fields", std::move(fields)}});
  }
  const json payload{{"api", id},
                     {"stage", request.stage},
                     {"batch", true},
                     {"items", request.items},
                     {"requested_by", actor(caller)}};
  // One attempt: a batch run again would repeat the items that had already run.
  const auto job_id = host_.enqueue_job(tenant, kRunJobKind, payload.dump(),
                                        json{{"priority", request.priority}, {"max_attempts", 1}}.dump());
  res.header("Location", "/api/v1/jobs/" + std::to_string(job_id));
  res.json(202, json{{"job_id", job_id}, {"total", request.items.size()}}.dump());
}

}  // namespace plexus::api_manager
