#include "exec_log.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include <plexus/json_text.hpp>

namespace plexus::api_manager {
namespace {

using std::chrono::system_clock;

// The plugin's tables (one migration list per plugin, so the canary's table is here too).
// SQL written once for SQLite and PostgreSQL (abi.h db_migrate): TEXT, BIGINT, INTEGER and
// DOUBLE PRECISION columns, ids chosen by the plugin, times as ISO-8601 text. Version 4 is
// SQLite's alone: there INTEGER PRIMARY KEY is the rowid (64-bit), not a second index.
constexpr std::string_view kMigrations = R"json([
  {"version": 1, "description": "execution log: one row per run, one per workflow step",
   "statements": [
     "CREATE TABLE api_manager_exec_log (id BIGINT PRIMARY KEY, tenant_id TEXT NOT NULL, api_id TEXT NOT NULL, revision BIGINT NOT NULL, stage TEXT NOT NULL, caller TEXT NOT NULL, request_id TEXT NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL, params TEXT NOT NULL, status INTEGER NOT NULL, error_class TEXT NOT NULL, error TEXT NOT NULL, duration_ms DOUBLE PRECISION NOT NULL, row_count BIGINT NOT NULL, started_at TEXT NOT NULL, step_count INTEGER NOT NULL)",
     "CREATE INDEX api_manager_exec_log_tenant ON api_manager_exec_log (tenant_id, id)",
     "CREATE INDEX api_manager_exec_log_api ON api_manager_exec_log (tenant_id, api_id, id)",
     "CREATE TABLE api_manager_exec_step_log (exec_id BIGINT NOT NULL, seq INTEGER NOT NULL, tenant_id TEXT NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL, duration_ms DOUBLE PRECISION NOT NULL, row_count BIGINT NOT NULL, error TEXT NOT NULL, PRIMARY KEY (exec_id, seq))"
   ]},
  {"version": 2, "description": "canary revisions rolled back (canary.hpp): one row keeps every node off them",
   "statements": [
     "CREATE TABLE api_manager_canary_rollback (tenant_id TEXT NOT NULL, api_id TEXT NOT NULL, revision BIGINT NOT NULL, reason TEXT NOT NULL, rolled_back_at TEXT NOT NULL, PRIMARY KEY (tenant_id, api_id, revision))"
   ]},
  {"version": 3, "description": "API schedules as their editors gave them (api_jobs.hpp), since the SDK cannot list kernel schedules",
   "statements": [
     "CREATE TABLE api_manager_schedules (tenant_id TEXT NOT NULL, api_id TEXT NOT NULL, name TEXT NOT NULL, schedule TEXT NOT NULL, cron TEXT NOT NULL, zone TEXT NOT NULL, stage TEXT NOT NULL, params TEXT NOT NULL, priority INTEGER NOT NULL, created_by TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (tenant_id, api_id, name))"
   ]},
  {"version": 4, "description": "SQLite: the run's id is the rowid, one B-tree less to write per run",
   "sqlite": [
     "CREATE TABLE api_manager_exec_log_v4 (id INTEGER PRIMARY KEY, tenant_id TEXT NOT NULL, api_id TEXT NOT NULL, revision BIGINT NOT NULL, stage TEXT NOT NULL, caller TEXT NOT NULL, request_id TEXT NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL, params TEXT NOT NULL, status INTEGER NOT NULL, error_class TEXT NOT NULL, error TEXT NOT NULL, duration_ms DOUBLE PRECISION NOT NULL, row_count BIGINT NOT NULL, started_at TEXT NOT NULL, step_count INTEGER NOT NULL)",
     "INSERT INTO api_manager_exec_log_v4 (id, tenant_id, api_id, revision, stage, caller, request_id, method, path, params, status, error_class, error, duration_ms, row_count, started_at, step_count) SELECT id, tenant_id, api_id, revision, stage, caller, request_id, method, path, params, status, error_class, error, duration_ms, row_count, started_at, step_count FROM api_manager_exec_log",
     "DROP TABLE api_manager_exec_log",
     "ALTER TABLE api_manager_exec_log_v4 RENAME TO api_manager_exec_log",
     "CREATE INDEX api_manager_exec_log_tenant ON api_manager_exec_log (tenant_id, id)",
     "CREATE INDEX api_manager_exec_log_api ON api_manager_exec_log (tenant_id, api_id, id)"
   ],
   "postgresql": []}
])json";

constexpr std::string_view kColumns =
    "id, api_id, revision, stage, caller, request_id, method, path, params, status, error_class, error, "
    "duration_ms, row_count, started_at, step_count";

// Steps kept per run (a workflow looping over items can make thousands); step_count keeps
// the real number.
constexpr std::size_t kMaxStoredSteps = 200;
constexpr std::size_t kMaxShortText = 512;  // names, caller, request id
constexpr std::size_t kMaxPathText = 2048;
constexpr int kPruneBatch = 1000;

constexpr std::array<std::string_view, 7> kErrorClasses{"validation", "permission", "datasource", "timeout",
                                                        "script",     "workflow",   "internal"};

// At most `max` bytes of `text`, cut at a UTF-8 character boundary and marked.
std::string cut(std::string_view text, std::size_t max) {
  if (text.size() <= max) return std::string(text);
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return std::string(text.substr(0, end)) + "...(" + std::to_string(text.size()) + " bytes)";
}

nlohmann::json cap_values(const nlohmann::json& value) {
  if (value.is_string()) return cut(value.get_ref<const std::string&>(), kMaxParamText);
  if (value.is_array() || value.is_object()) {
    nlohmann::json out = value.is_array() ? nlohmann::json::array() : nlohmann::json::object();
    for (auto it = value.begin(); it != value.end(); ++it) {
      if (value.is_array()) {
        out.push_back(cap_values(*it));
      } else {
        out[it.key()] = cap_values(it.value());
      }
    }
    return out;
  }
  return value;
}

bool has_long_text(const nlohmann::json& value) {
  if (value.is_string()) return value.get_ref<const std::string&>().size() > kMaxParamText;
  if (!value.is_structured()) return false;
  return std::any_of(value.begin(), value.end(), [](const nlohmann::json& item) { return has_long_text(item); });
}

// The parameters as stored: long strings cut, and a placeholder when still too large.
std::string stored_params(const nlohmann::json& params) {
  if (params.is_null()) return "{}";
  constexpr auto replace = nlohmann::json::error_handler_t::replace;
  std::string text = has_long_text(params) ? cap_values(params).dump(-1, ' ', false, replace)
                                           : params.dump(-1, ' ', false, replace);
  if (text.size() > kMaxParamsBytes) {
    text = nlohmann::json{{"_truncated", true}, {"bytes", text.size()}}.dump();
  }
  return text;
}

// {"columns": [...], "rows": [[...]]} -> [{column: value}]
std::vector<nlohmann::json> objects(const std::string& result_text) {
  const auto result = nlohmann::json::parse(result_text);
  const auto& columns = result.at("columns");
  std::vector<nlohmann::json> out;
  for (const auto& row : result.at("rows")) {
    nlohmann::json object = nlohmann::json::object();
    for (std::size_t i = 0; i < columns.size() && i < row.size(); ++i) {
      object[columns[i].get<std::string>()] = row[i];
    }
    out.push_back(std::move(object));
  }
  return out;
}

std::int64_t integer(const nlohmann::json& value) {
  if (value.is_number_integer()) return value.get<std::int64_t>();
  if (value.is_number()) return static_cast<std::int64_t>(value.get<double>());
  if (value.is_string()) return std::stoll(value.get<std::string>());
  return 0;
}

double number(const nlohmann::json& value) {
  if (value.is_number()) return value.get<double>();
  if (value.is_string()) return std::stod(value.get<std::string>());
  return 0;
}

std::string text(const nlohmann::json& value) {
  return value.is_string() ? value.get<std::string>() : std::string();
}

nlohmann::json rows_json(std::int64_t rows) { return rows < 0 ? nlohmann::json() : nlohmann::json(rows); }

nlohmann::json item_json(const nlohmann::json& row) {
  const int status = static_cast<int>(integer(row.at("status")));
  auto params = nlohmann::json::parse(text(row.at("params")), nullptr, false);
  if (params.is_discarded()) params = nlohmann::json::object();
  return {{"id", integer(row.at("id"))},
          {"api_id", text(row.at("api_id"))},
          {"revision", integer(row.at("revision"))},
          {"stage", text(row.at("stage"))},
          {"caller", text(row.at("caller"))},
          {"request_id", text(row.at("request_id"))},
          {"method", text(row.at("method"))},
          {"path", text(row.at("path"))},
          {"params", std::move(params)},
          {"status", status},
          {"outcome", status < 400 ? "ok" : "error"},
          {"error_class", text(row.at("error_class"))},
          {"error", text(row.at("error"))},
          {"duration_ms", number(row.at("duration_ms"))},
          {"rows", rows_json(integer(row.at("row_count")))},
          {"started_at", text(row.at("started_at"))},
          {"step_count", integer(row.at("step_count"))}};
}

// The database's reason without the statement: SOCI's messages go on with
// ' while executing "<sql>" with :name=<value>...', and the values may be secrets.
std::string db_reason(std::string_view message) {
  for (std::string_view marker : {" while executing", " while preparing", " with :"}) {
    if (const auto at = message.find(marker); at != std::string_view::npos) message = message.substr(0, at);
  }
  return cut(message, kMaxShortText);
}

std::int64_t micros_since_epoch(system_clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch()).count();
}

}  // namespace

// ---- times and durations ------------------------------------------------------------

std::string format_utc(system_clock::time_point time) {
  const auto millis = std::chrono::floor<std::chrono::milliseconds>(time);
  const auto days = std::chrono::floor<std::chrono::days>(millis);
  const std::chrono::year_month_day date{days};
  const std::chrono::hh_mm_ss clock{millis - days};
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(clock.hours().count()), static_cast<int>(clock.minutes().count()),
                static_cast<int>(clock.seconds().count()), static_cast<int>(clock.subseconds().count()));
  return buffer;
}

std::optional<system_clock::time_point> parse_utc(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.fraction]Z
  if (text.size() < 20 || text.back() != 'Z') return std::nullopt;
  auto digits = [&](std::size_t at, std::size_t count, int& out) {
    const auto* begin = text.data() + at;
    const auto [end, error] = std::from_chars(begin, begin + count, out);
    return error == std::errc() && end == begin + count;
  };
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!digits(0, 4, year) || text[4] != '-' || !digits(5, 2, month) || text[7] != '-' || !digits(8, 2, day) ||
      (text[10] != 'T' && text[10] != 't') || !digits(11, 2, hour) || text[13] != ':' ||
      !digits(14, 2, minute) || text[16] != ':' || !digits(17, 2, second)) {
    return std::nullopt;
  }
  const std::chrono::year_month_day date{std::chrono::year{year},
                                         std::chrono::month{static_cast<unsigned>(month)},
                                         std::chrono::day{static_cast<unsigned>(day)}};
  if (!date.ok() || hour > 23 || minute > 59 || second > 59) return std::nullopt;
  std::chrono::microseconds fraction{0};
  const auto rest = text.substr(19, text.size() - 20);  // between the seconds and the Z
  if (!rest.empty()) {
    if (rest[0] != '.' || rest.size() < 2 || rest.size() > 10) return std::nullopt;
    std::int64_t scale = 100'000;
    for (std::size_t i = 1; i < rest.size(); ++i) {
      if (rest[i] < '0' || rest[i] > '9') return std::nullopt;
      fraction += std::chrono::microseconds((rest[i] - '0') * scale);
      scale /= 10;
    }
  }
  // In microseconds first: system_clock counts nanoseconds, which end in 2262; later
  // (and earlier) times are clamped, so "until=2999-01-01T00:00:00Z" means no bound.
  const auto micros = std::chrono::sys_time<std::chrono::microseconds>(std::chrono::sys_days{date}) +
                      std::chrono::hours(hour) + std::chrono::minutes(minute) + std::chrono::seconds(second) +
                      fraction;
  using Micros = std::chrono::microseconds;
  const auto max = std::chrono::duration_cast<Micros>(system_clock::time_point::max().time_since_epoch());
  const auto min = std::chrono::duration_cast<Micros>(system_clock::time_point::min().time_since_epoch());
  const auto clamped = std::clamp(micros.time_since_epoch(), min, max);
  return system_clock::time_point(std::chrono::duration_cast<system_clock::duration>(clamped));
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0 || digits > 9) return std::nullopt;  // 999999999d still fits in milliseconds
  std::int64_t value = 0;
  std::from_chars(text.data(), text.data() + digits, value);
  const auto unit = text.substr(digits);
  if (unit == "ms") return std::chrono::milliseconds(value);
  if (unit == "s") return std::chrono::seconds(value);
  if (unit == "m") return std::chrono::minutes(value);
  if (unit == "h") return std::chrono::hours(value);
  if (unit == "d") return std::chrono::hours(24 * value);
  return std::nullopt;
}

std::chrono::milliseconds exec_log_retention(const nlohmann::json& config) {
  const std::string key(kRetentionConfigKey);
  const auto* value = config.is_object() && config.contains(key) ? &config.at(key) : nullptr;
  if (value == nullptr || value->is_null()) return *parse_duration(kDefaultRetention);
  const auto duration = value->is_string() ? parse_duration(value->get<std::string>()) : std::nullopt;
  if (!duration || duration->count() <= 0) {
    throw std::invalid_argument(key + " must be a positive duration such as 30d, 12h or 90m");
  }
  return *duration;
}

// ---- the log ----------------------------------------------------------------------------

std::string_view schema_migrations() { return kMigrations; }

ExecLog::ExecLog(sdk::Host& host) : host_(host) {
  host_.db_migrate(kMigrations);
  failures_metric_ = host_.counter("api_manager_exec_log_write_failures_total",
                                   "Runs of runtime APIs the execution log failed to record");
}

std::int64_t ExecLog::next_id() {
  const std::int64_t now = micros_since_epoch(system_clock::now());
  std::int64_t last = last_id_.load(std::memory_order_relaxed);
  std::int64_t id = 0;
  do {
    id = std::max(now, last + 1);
  } while (!last_id_.compare_exchange_weak(last, id, std::memory_order_relaxed));
  return id;
}

namespace {

constexpr std::string_view kInsertRun =
    "INSERT INTO api_manager_exec_log (id, tenant_id, api_id, revision, stage, caller, request_id, method, "
    "path, "
    "params, status, error_class, error, duration_ms, row_count, started_at, step_count) VALUES (:id, "
    ":tenant, "
    ":api, :revision, :stage, :caller, :request_id, :method, :path, :params, :status, :error_class, :error, "
    ":duration, :rows, :started, :steps)";
constexpr std::string_view kInsertStep =
    "INSERT INTO api_manager_exec_step_log (exec_id, seq, tenant_id, name, status, duration_ms, row_count, "
    "error) "
    "VALUES (:exec_id, :seq, :tenant, :name, :status, :duration, :rows, :error)";

// db_exec_batch's input, {"columns": [...], "rows": [[...], ...]}, written as text: a flush
// of thousands of runs builds no JSON tree on the plugin's side of the call.
class BatchText {
 public:
  explicit BatchText(std::string_view columns) {
    text_.append(R"({"columns":)").append(columns).append(R"(,"rows":[)");
  }
  void begin_row() {
    text_ += rows_++ == 0 ? "[" : ",[";
    first_ = true;
  }
  void end_row() { text_ += ']'; }
  void add_int(std::int64_t value) {
    separate();
    char digits[24];
    text_.append(digits, std::to_chars(digits, digits + sizeof digits, value).ptr);
  }
  void add_double(double value) {
    separate();
    char digits[32];
    text_.append(digits, std::to_chars(digits, digits + sizeof digits, std::isfinite(value) ? value : 0.0).ptr);
  }
  void add_text(std::string_view value, std::size_t max = std::string_view::npos) {
    separate();
    sdk::append_json_string(text_, value.size() <= max ? value : std::string_view(cut(value, max)));
  }
  bool empty() const { return rows_ == 0; }
  std::string finish() && {
    text_ += "]}";
    return std::move(text_);
  }

 private:
  void separate() {
    if (!first_) text_ += ',';
    first_ = false;
  }

  std::string text_;
  std::size_t rows_ = 0;
  bool first_ = true;
};

// The values of each row in the order of these columns.
BatchText run_batch() {
  return BatchText(R"(["id","tenant","api","revision","stage","caller","request_id","method","path","params",)"
                   R"("status","error_class","error","duration","rows","started","steps"])");
}
BatchText step_batch() {
  return BatchText(R"(["exec_id","seq","tenant","name","status","duration","rows","error"])");
}

void add_run_row(const ExecRecord& record, std::int64_t id, BatchText& batch) {
  batch.begin_row();
  batch.add_int(id);
  batch.add_text(record.tenant);
  batch.add_text(record.api_id, kMaxShortText);
  batch.add_int(record.revision);
  batch.add_text(record.stage, kMaxShortText);
  batch.add_text(record.caller, kMaxShortText);
  batch.add_text(record.request_id, kMaxShortText);
  batch.add_text(record.method, kMaxShortText);
  batch.add_text(record.path, kMaxPathText);
  batch.add_text(stored_params(record.params));
  batch.add_int(record.status);
  batch.add_text(record.error_class, kMaxShortText);
  batch.add_text(record.error, kMaxErrorText);
  batch.add_double(record.duration_ms);
  batch.add_int(record.rows);
  batch.add_text(format_utc(record.started_at));
  batch.add_int(static_cast<std::int64_t>(record.steps.size()));
  batch.end_row();
}

// The run's stored steps (at most kMaxStoredSteps).
void add_step_rows(const ExecRecord& record, std::int64_t id, BatchText& batch) {
  const std::size_t stored = std::min(record.steps.size(), kMaxStoredSteps);
  for (std::size_t i = 0; i < stored; ++i) {
    const auto& step = record.steps[i];
    batch.begin_row();
    batch.add_int(id);
    batch.add_int(static_cast<std::int64_t>(i));
    batch.add_text(record.tenant);
    batch.add_text(step.name, kMaxShortText);
    batch.add_text(step.status, kMaxShortText);
    batch.add_double(step.duration_ms);
    batch.add_int(step.rows);
    batch.add_text(step.error, kMaxErrorText);
    batch.end_row();
  }
}

}  // namespace

void ExecLog::write(const std::vector<Pending>& runs, std::size_t first, std::size_t last) {
  auto run_rows = run_batch();
  auto step_rows = step_batch();
  for (auto i = first; i < last; ++i) {
    add_run_row(runs[i].record, runs[i].id, run_rows);
    add_step_rows(runs[i].record, runs[i].id, step_rows);
  }
  host_.db_exec_batch(kInsertRun, std::move(run_rows).finish());
  if (step_rows.empty()) return;
  try {
    host_.db_exec_batch(kInsertStep, std::move(step_rows).finish());
  } catch (const std::exception& e) {
    // The runs are in; their steps are not (one transaction for all of them).
    for (auto i = first; i < last; ++i) {
      if (!runs[i].record.steps.empty()) count_failure(runs[i].record, "its steps: " + db_reason(e.what()));
    }
  }
}

void ExecLog::count_failure(const ExecRecord& record, const std::string& why) noexcept {
  write_failures_.fetch_add(1, std::memory_order_relaxed);
  try {
    failures_metric_.add(1);
    // Never the parameters: they may hold personal data or secrets.
    host_.warn("execution log: cannot record a run of API '" + cut(record.api_id, kMaxShortText) +
               "' (request " + cut(record.request_id, kMaxShortText) + "): " + why);
  } catch (...) {
  }
}

void ExecLog::enqueue(ExecRecord record) noexcept {
  try {
    std::unique_lock lock(pending_mutex_);
    if (pending_.size() >= kMaxPending) {
      lock.unlock();
      count_failure(record, "more than " + std::to_string(kMaxPending) + " runs wait to be written");
      return;
    }
    pending_.push_back({std::move(record), next_id()});
  } catch (...) {
    write_failures_.fetch_add(1, std::memory_order_relaxed);
  }
}

std::size_t ExecLog::pending() const {
  std::lock_guard lock(pending_mutex_);
  return pending_.size();
}

void ExecLog::flush() noexcept {
  // One flush at a time, so runs reach the table in the order they were enqueued.
  std::lock_guard flushing(flush_mutex_);
  std::vector<Pending> batch;
  {
    std::lock_guard lock(pending_mutex_);
    batch.swap(pending_);
  }
  for (std::size_t first = 0; first < batch.size(); first += kRunsPerWrite) {
    const auto last = std::min(batch.size(), first + kRunsPerWrite);
    try {
      write(batch, first, last);
    } catch (const std::exception&) {
      // One row refused (another node took the same microsecond as an id) rolls back the
      // whole batch: each run alone then, with a fresh id when needed.
      for (auto i = first; i < last; ++i) record(batch[i].record);
    }
  }
}

std::optional<std::int64_t> ExecLog::record(const ExecRecord& record) noexcept {
  try {
    // Ids are unique within the process; a second node may pick the same microsecond,
    // so a refused INSERT is tried again with a later id.
    for (int attempt = 0;; ++attempt) {
      const auto id = next_id();
      auto run_rows = run_batch();
      add_run_row(record, id, run_rows);
      try {
        host_.db_exec_batch(kInsertRun, std::move(run_rows).finish());
      } catch (const sdk::Error&) {
        if (attempt == 2) throw;
        continue;
      }
      auto step_rows = step_batch();
      add_step_rows(record, id, step_rows);
      if (!step_rows.empty()) host_.db_exec_batch(kInsertStep, std::move(step_rows).finish());
      return id;
    }
  } catch (const std::exception& e) {
    count_failure(record, db_reason(e.what()));
  } catch (...) {
    write_failures_.fetch_add(1, std::memory_order_relaxed);
  }
  return std::nullopt;
}

nlohmann::json ExecLog::browse(const std::string& tenant, const ExecFilter& filter) {
  flush();  // this node's runs are visible to its readers at once
  const int limit = std::clamp(filter.limit, 1, kMaxBrowseLimit);
  std::string sql =
      "SELECT " + std::string(kColumns) + " FROM api_manager_exec_log WHERE tenant_id = :tenant";
  nlohmann::json params{{"tenant", tenant}, {"limit", limit + 1}};
  if (!filter.api_id.empty()) {
    sql += " AND api_id = :api_id";
    params["api_id"] = filter.api_id;
  }
  if (filter.status == "ok") sql += " AND status < 400";
  if (filter.status == "error") sql += " AND status >= 400";
  if (!filter.error_class.empty()) {
    sql += " AND error_class = :error_class";
    params["error_class"] = filter.error_class;
  }
  if (filter.since) {
    sql += " AND started_at >= :since";
    params["since"] = format_utc(*filter.since);
  }
  if (filter.until) {
    sql += " AND started_at < :until";
    params["until"] = format_utc(*filter.until);
  }
  if (filter.cursor) {
    sql += " AND id < :cursor";
    params["cursor"] = *filter.cursor;
  }
  sql += " ORDER BY id DESC LIMIT :limit";
  auto rows = objects(host_.db_query(sql, params.dump(), static_cast<std::uint64_t>(limit) + 1));
  nlohmann::json next_cursor;
  if (rows.size() > static_cast<std::size_t>(limit)) {
    rows.resize(static_cast<std::size_t>(limit));
    next_cursor = std::to_string(integer(rows.back().at("id")));
  }
  nlohmann::json items = nlohmann::json::array();
  for (const auto& row : rows) items.push_back(item_json(row));
  return {{"items", std::move(items)}, {"next_cursor", std::move(next_cursor)}};
}

std::optional<nlohmann::json> ExecLog::get(const std::string& tenant, std::int64_t id) {
  flush();
  const auto params = nlohmann::json{{"tenant", tenant}, {"id", id}}.dump();
  const auto rows = objects(host_.db_query(
      "SELECT " + std::string(kColumns) + " FROM api_manager_exec_log WHERE tenant_id = :tenant AND id = :id",
      params, 1));
  if (rows.empty()) return std::nullopt;
  auto item = item_json(rows.front());
  nlohmann::json steps = nlohmann::json::array();
  for (const auto& step : objects(host_.db_query(
           "SELECT seq, name, status, duration_ms, row_count, error FROM api_manager_exec_step_log "
           "WHERE tenant_id = :tenant AND exec_id = :id ORDER BY seq",
           params, kMaxStoredSteps))) {
    steps.push_back({{"seq", integer(step.at("seq"))},
                     {"name", text(step.at("name"))},
                     {"status", text(step.at("status"))},
                     {"duration_ms", number(step.at("duration_ms"))},
                     {"rows", rows_json(integer(step.at("row_count")))},
                     {"error", text(step.at("error"))}});
  }
  item["steps_truncated"] =
      item.at("step_count").get<std::int64_t>() > static_cast<std::int64_t>(steps.size());
  item["steps"] = std::move(steps);
  return item;
}

ExecLog::SlowRuns ExecLog::slow_runs(const std::string& tenant, const std::string& api_id,
                                     double threshold_ms, system_clock::time_point since) {
  flush();
  // Ids are the recording time in microseconds: the (tenant, api, id) index bounds the scan.
  const auto rows = objects(host_.db_query(
      "SELECT COUNT(*) AS runs, SUM(CASE WHEN duration_ms >= :threshold THEN 1 ELSE 0 END) AS slow_runs, "
      "MAX(duration_ms) AS max_ms, MAX(CASE WHEN duration_ms >= :threshold2 THEN started_at END) AS "
      "last_slow_at "
      "FROM api_manager_exec_log WHERE tenant_id = :tenant AND api_id = :api AND id >= :since",
      nlohmann::json{{"tenant", tenant},
                     {"api", api_id},
                     {"threshold", threshold_ms},
                     {"threshold2", threshold_ms},
                     {"since", micros_since_epoch(since)}}
          .dump(),
      1));
  SlowRuns out;
  if (rows.empty()) return out;
  const auto& row = rows.front();
  out.runs = row.at("runs").is_null() ? 0 : integer(row.at("runs"));
  out.slow_runs = row.at("slow_runs").is_null() ? 0 : integer(row.at("slow_runs"));
  out.max_ms = row.at("max_ms").is_null() ? 0 : number(row.at("max_ms"));
  if (!row.at("last_slow_at").is_null()) out.last_slow_at = text(row.at("last_slow_at"));
  return out;
}

std::int64_t ExecLog::prune(system_clock::time_point older_than) {
  // Ids are the recording time in microseconds: a cut by id uses the primary keys only.
  const std::int64_t cutoff = micros_since_epoch(older_than);
  std::int64_t removed = 0;
  for (;;) {
    const auto batch = objects(
        host_.db_query("SELECT id FROM api_manager_exec_log WHERE id < :cutoff ORDER BY id LIMIT :batch",
                       nlohmann::json{{"cutoff", cutoff}, {"batch", kPruneBatch}}.dump(), kPruneBatch));
    if (batch.empty()) break;
    const auto last = nlohmann::json{{"last", integer(batch.back().at("id"))}}.dump();
    // Steps first: an interruption leaves runs without steps, never steps without a run.
    host_.db_exec("DELETE FROM api_manager_exec_step_log WHERE exec_id <= :last", last);
    removed += host_.db_exec("DELETE FROM api_manager_exec_log WHERE id <= :last", last);
    if (batch.size() < static_cast<std::size_t>(kPruneBatch)) break;
  }
  return removed;
}

// ---- REST ------------------------------------------------------------------------------

namespace {

class BadRequest : public std::invalid_argument {
 public:
  BadRequest(std::string field, const std::string& message)
      : std::invalid_argument(message), field(std::move(field)) {}
  std::string field;
};

void error_body(sdk::Response& response, const sdk::Request& request, int status, std::string_view code,
                const std::string& message, nlohmann::json details = nlohmann::json::object()) {
  response.json(status, nlohmann::json{{"error",
                                        {{"code", code},
                                         {"message", message},
                                         {"details", std::move(details)},
                                         {"request_id", std::string(request.request_id())}}}}
                            .dump());
}

std::optional<std::int64_t> positive_integer(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < 1) return std::nullopt;
  return value;
}

constexpr std::array<std::string_view, 7> kFilterFields{"api",   "status", "error_class", "since",
                                                        "until", "limit",  "cursor"};

ExecFilter filter_of(const sdk::Request& request) {
  const auto& raw = request.raw();
  for (std::size_t i = 0; i < raw.query_count; ++i) {
    const auto name = sdk::view(raw.query[i].name);
    if (std::find(kFilterFields.begin(), kFilterFields.end(), name) == kFilterFields.end()) {
      throw BadRequest(std::string(name), "unknown filter '" + std::string(name) +
                                              "': use api, status, error_class, since, until, limit, cursor");
    }
  }
  ExecFilter filter;
  filter.api_id = std::string(request.query("api"));
  if (filter.api_id.size() > kMaxShortText) throw BadRequest("api", "api is longer than an API id can be");
  filter.status = std::string(request.query("status"));
  if (!filter.status.empty() && filter.status != "ok" && filter.status != "error") {
    throw BadRequest("status", "status must be ok or error");
  }
  filter.error_class = std::string(request.query("error_class"));
  if (!filter.error_class.empty() &&
      std::find(kErrorClasses.begin(), kErrorClasses.end(), filter.error_class) == kErrorClasses.end()) {
    throw BadRequest(
        "error_class",
        "error_class must be one of validation, permission, datasource, timeout, script, internal");
  }
  for (const char* field : {"since", "until"}) {
    const auto value = request.query(field);
    if (value.empty()) continue;
    const auto time = parse_utc(value);
    if (!time) {
      throw BadRequest(field,
                       std::string(field) + " must be an ISO-8601 UTC time such as 2026-01-31T12:00:00Z");
    }
    (std::string_view(field) == "since" ? filter.since : filter.until) = time;
  }
  if (const auto value = request.query("limit"); !value.empty()) {
    const auto limit = positive_integer(value);
    if (!limit || *limit > kMaxBrowseLimit) {
      throw BadRequest("limit", "limit must be an integer from 1 to " + std::to_string(kMaxBrowseLimit));
    }
    filter.limit = static_cast<int>(*limit);
  }
  if (const auto value = request.query("cursor"); !value.empty()) {
    filter.cursor = positive_integer(value);
    if (!filter.cursor) throw BadRequest("cursor", "cursor must be the next_cursor of a previous page");
  }
  return filter;
}

}  // namespace

void register_exec_log_routes(sdk::Host& host, ExecLog& log, const std::string& prefix) {
  host.route(
      "GET", prefix + "/executions", "api.read",
      [&log](const sdk::Request& request, sdk::Response& response) {
        try {
          const auto filter = filter_of(request);
          response.json(200, log.browse(std::string(request.caller().tenant()), filter).dump());
        } catch (const BadRequest& e) {
          error_body(response, request, 400, "invalid_parameter", e.what(), {{"field", e.field}});
        }
      },
      0, "Browse the execution log, newest first, with filters");
  host.route(
      "GET", prefix + "/executions/{id}", "api.read",
      [&log](const sdk::Request& request, sdk::Response& response) {
        const auto id = positive_integer(request.param("id"));
        const auto item = id ? log.get(std::string(request.caller().tenant()), *id) : std::nullopt;
        if (!item) {
          error_body(response, request, 404, "not_found",
                     "no execution " + std::string(request.param("id")) + " in this tenant");
          return;
        }
        response.json(200, item->dump());
      },
      0, "One run of the execution log with its steps");
}

std::uint64_t start_exec_log_retention(sdk::Host& host, ExecLog& log, std::chrono::milliseconds keep,
                                       std::chrono::milliseconds interval) {
  auto prune = [&host, &log, keep] {
    try {
      const auto removed = log.prune(system_clock::now() - keep);
      if (removed > 0)
        host.info("execution log: removed " + std::to_string(removed) + " runs past the retention");
    } catch (const std::exception& e) {
      host.warn("execution log: retention failed: " + db_reason(e.what()));
    }
  };
  host.timer(0, false, prune);  // once soon after start, off the start thread
  return host.timer(static_cast<std::uint64_t>(std::max<std::int64_t>(interval.count(), 1)), true, prune);
}

}  // namespace plexus::api_manager
