#include "kernel/schedule/scheduler.hpp"

#include <algorithm>
#include <limits>

#include <soci/soci.h>
#include <spdlog/logger.h>

#include "kernel/log/log.hpp"
#include "kernel/schedule/schedule_schema.hpp"
#include "kernel/store/json_sql.hpp"
#include "kernel/store/transaction.hpp"
#include "kernel/tasks/periodic_task.hpp"

namespace plexus::schedule {
namespace {

using nlohmann::json;
using std::chrono::sys_seconds;

constexpr std::size_t kAllRows = std::numeric_limits<std::size_t>::max();
constexpr std::size_t kMaxNameLength = 128;
constexpr int kMaxNextRuns = 100;

std::shared_ptr<spdlog::logger> logger() { return log::get("schedules"); }

sys_seconds whole_seconds(store::TimePoint time) { return std::chrono::floor<std::chrono::seconds>(time); }

std::string text_of(const json& value) { return value.is_null() ? std::string() : value.get<std::string>(); }

std::optional<store::TimePoint> time_of(const json& value) {
  if (value.is_null()) return std::nullopt;
  return store::parse_time(value.get<std::string>());
}

bool valid_name(const std::string& name) {
  return !name.empty() && name.size() <= kMaxNameLength &&
         std::all_of(name.begin(), name.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '.' || c == '_' || c == '-'; });
}

// The parsed schedule; InvalidSchedule naming the field.
Schedule schedule_of(const std::string& expression, const std::string& zone) {
  std::optional<CronExpression> parsed;
  try {
    parsed = CronExpression::parse(expression);
  } catch (const CronParseError& error) {
    throw InvalidSchedule("expression", std::string("expression: ") + error.what());
  }
  try {
    return Schedule(*parsed, zone);
  } catch (const std::invalid_argument& error) {
    throw InvalidSchedule("time_zone", std::string("time_zone: ") + error.what());
  }
}

constexpr std::string_view kColumns =
    "s.tenant_id, s.name, s.owner, s.expression, s.time_zone, s.missed_runs, s.catch_up_cap, s.singleton, "
    "s.paused, s.job_kind, s.payload_json, s.priority, s.created_at, s.updated_at, r.next_run_at, "
    "r.last_run_at";

}  // namespace

std::string_view to_string(MissedRunPolicy policy) {
  switch (policy) {
    case MissedRunPolicy::skip: return "skip";
    case MissedRunPolicy::run_once: return "run_once";
    case MissedRunPolicy::run_all: return "run_all";
  }
  return "run_once";
}

std::optional<MissedRunPolicy> parse_missed_run_policy(std::string_view name) {
  if (name == "skip") return MissedRunPolicy::skip;
  if (name == "run_once") return MissedRunPolicy::run_once;
  if (name == "run_all") return MissedRunPolicy::run_all;
  return std::nullopt;
}

struct Scheduler::Row {
  ScheduleSpec spec;
  bool paused = false;
  store::TimePoint created_at, updated_at;
  std::optional<store::TimePoint> next_run_at, last_run_at;
};

Scheduler::Scheduler(store::Database& database, jobs::JobQueue& queue, SchedulerOptions options)
    : database_(database), queue_(queue), options_(std::move(options)) {
  if (options_.node_id.empty()) throw std::invalid_argument("node_id must not be empty");
  if (options_.catch_up_cap < 1 || options_.catch_up_cap > kMaxCatchUpRuns)
    throw std::invalid_argument("catch_up_cap must be within 1.." + std::to_string(kMaxCatchUpRuns));
  if (options_.misfire_threshold.count() < 0)
    throw std::invalid_argument("misfire_threshold must not be negative");
  if (options_.max_attempts < 1) throw std::invalid_argument("max_attempts must be at least 1");
  store::migrate(database_, schedule_schema::kComponent, schedule_schema::migrations());
}

Scheduler::~Scheduler() { stop(); }

void Scheduler::start() {
  if (task_) throw std::logic_error("the scheduler was already started");
  task_ = std::make_unique<tasks::PeriodicTask>(options_.tick, options_.tick, [this] {
    try {
      tick();
    } catch (const std::exception& error) {
      logger()->warn("schedule tick failed, trying again in {} ms: {}", options_.tick.count(), error.what());
    }
  });
}

void Scheduler::stop() { task_.reset(); }

std::vector<Scheduler::Row> Scheduler::rows(soci::session& sql, const std::string& where,
                                            const json& params) {
  auto bound = params;
  bound["node"] = options_.node_id;
  const auto result = store::query_json(
      sql,
      "SELECT " + std::string(kColumns) +
          " FROM schedules s LEFT JOIN schedule_runs r ON r.tenant_id = s.tenant_id AND r.name = s.name AND "
          "r.node_id = CASE WHEN s.singleton = 1 THEN '' ELSE :node END WHERE " +
          where + " ORDER BY s.tenant_id, s.name",
      bound, kAllRows);
  std::vector<Row> out;
  for (const auto& r : result.rows) {
    Row row;
    row.spec.tenant = text_of(r.at(0));
    row.spec.name = text_of(r.at(1));
    row.spec.owner = text_of(r.at(2));
    row.spec.expression = text_of(r.at(3));
    row.spec.time_zone = text_of(r.at(4));
    row.spec.missed_runs = parse_missed_run_policy(text_of(r.at(5)));
    row.spec.catch_up_cap = static_cast<std::size_t>(r.at(6).get<std::int64_t>());
    row.spec.singleton = r.at(7).get<std::int64_t>() != 0;
    row.paused = r.at(8).get<std::int64_t>() != 0;
    row.spec.job_kind = text_of(r.at(9));
    row.spec.payload = json::parse(text_of(r.at(10)), nullptr, false);
    if (row.spec.payload.is_discarded()) row.spec.payload = json::object();
    row.spec.priority = static_cast<int>(r.at(11).get<std::int64_t>());
    row.created_at = time_of(r.at(12)).value_or(store::TimePoint{});
    row.updated_at = time_of(r.at(13)).value_or(store::TimePoint{});
    row.next_run_at = time_of(r.at(14));
    row.last_run_at = time_of(r.at(15));
    out.push_back(std::move(row));
  }
  return out;
}

ScheduleInfo Scheduler::info_of(const Row& row) const {
  ScheduleInfo info;
  info.spec = row.spec;
  info.missed_runs = row.spec.missed_runs.value_or(options_.missed_runs);
  info.catch_up_cap = row.spec.catch_up_cap == 0 ? options_.catch_up_cap : row.spec.catch_up_cap;
  info.paused = row.paused;
  if (!row.paused) info.next_run_at = row.next_run_at;
  info.last_run_at = row.last_run_at;
  info.created_at = row.created_at;
  info.updated_at = row.updated_at;
  return info;
}

void Scheduler::reset_runs(soci::session& sql, const std::string& tenant, const std::string& name,
                           bool singleton, store::TimePoint now) {
  store::exec_json(sql, "DELETE FROM schedule_runs WHERE tenant_id = :tenant AND name = :name",
                   {{"tenant", tenant}, {"name", name}});
  if (!singleton) return;  // each node starts its own row at its next tick
  const auto rows = store::query_json(
      sql, "SELECT expression, time_zone FROM schedules WHERE tenant_id = :tenant AND name = :name",
      {{"tenant", tenant}, {"name", name}}, 1);
  const auto schedule = schedule_of(text_of(rows.rows.at(0).at(0)), text_of(rows.rows.at(0).at(1)));
  store::exec_json(
      sql,
      "INSERT INTO schedule_runs (tenant_id, name, node_id, next_run_at, last_run_at) "
      "VALUES (:tenant, :name, '', :next, NULL)",
      {{"tenant", tenant}, {"name", name}, {"next", store::format_time(schedule.next_fire_after(now))}});
}

ScheduleInfo Scheduler::put(const ScheduleSpec& spec) {
  if (spec.tenant.empty()) throw InvalidSchedule("tenant", "tenant must not be empty");
  if (!valid_name(spec.name))
    throw InvalidSchedule("name", "name must be 1 to 128 characters of A-Z, a-z, 0-9, '.', '_' and '-'");
  if (spec.owner.empty()) throw InvalidSchedule("owner", "owner must not be empty");
  schedule_of(spec.expression, spec.time_zone);
  if (spec.job_kind.empty()) throw InvalidSchedule("job_kind", "job_kind must not be empty");
  if (spec.catch_up_cap > kMaxCatchUpRuns)
    throw InvalidSchedule("catch_up_cap", "catch_up_cap must be within 1.." +
                                              std::to_string(kMaxCatchUpRuns) + " (0: the default)");
  if (!spec.payload.is_object()) throw InvalidSchedule("payload", "payload must be a JSON object");

  {
    soci::session sql(database_.pool());  // given back before get() takes one
    write(sql, spec);
  }
  return *get(spec.tenant, spec.name, 0);
}

void Scheduler::write(soci::session& sql, const ScheduleSpec& spec) {
  store::Transaction transaction(sql);
  const auto now = options_.clock(sql);
  const auto now_text = store::format_time(now);
  const json key = {{"tenant", spec.tenant}, {"name", spec.name}};
  const auto existing = store::query_json(
      sql,
      "SELECT expression, time_zone, singleton FROM schedules WHERE tenant_id = :tenant AND name = :name",
      key, 1);
  json values = {{"tenant", spec.tenant},
                 {"name", spec.name},
                 {"owner", spec.owner},
                 {"expression", spec.expression},
                 {"zone", spec.time_zone},
                 {"missed", spec.missed_runs ? std::string(to_string(*spec.missed_runs)) : std::string()},
                 {"cap", spec.catch_up_cap},
                 {"singleton", spec.singleton},
                 {"kind", spec.job_kind},
                 {"payload", spec.payload.dump()},
                 {"priority", spec.priority},
                 {"updated", now_text}};
  bool reset = true;
  if (existing.rows.empty()) {
    values["created"] = now_text;
    store::exec_json(
        sql,
        "INSERT INTO schedules (tenant_id, name, owner, expression, time_zone, missed_runs, catch_up_cap, "
        "singleton, paused, job_kind, payload_json, priority, created_at, updated_at) VALUES (:tenant, "
        ":name, :owner, :expression, :zone, :missed, :cap, :singleton, 0, :kind, :payload, :priority, "
        ":created, :updated)",
        values);
  } else {
    const auto& old = existing.rows.at(0);
    reset = text_of(old.at(0)) != spec.expression || text_of(old.at(1)) != spec.time_zone ||
            (old.at(2).get<std::int64_t>() != 0) != spec.singleton;
    store::exec_json(
        sql,
        "UPDATE schedules SET owner = :owner, expression = :expression, time_zone = :zone, missed_runs = "
        ":missed, catch_up_cap = :cap, singleton = :singleton, job_kind = :kind, payload_json = :payload, "
        "priority = :priority, updated_at = :updated WHERE tenant_id = :tenant AND name = :name",
        values);
  }
  if (reset) reset_runs(sql, spec.tenant, spec.name, spec.singleton, now);
  transaction.commit();
}

bool Scheduler::remove(const std::string& tenant, const std::string& name) {
  soci::session sql(database_.pool());
  store::Transaction transaction(sql);
  const json key = {{"tenant", tenant}, {"name", name}};
  store::exec_json(sql, "DELETE FROM schedule_runs WHERE tenant_id = :tenant AND name = :name", key);
  const auto removed =
      store::exec_json(sql, "DELETE FROM schedules WHERE tenant_id = :tenant AND name = :name", key);
  transaction.commit();
  return removed > 0;
}

std::size_t Scheduler::remove_owner(const std::string& owner) {
  soci::session sql(database_.pool());
  store::Transaction transaction(sql);
  store::exec_json(sql,
                   "DELETE FROM schedule_runs WHERE EXISTS (SELECT 1 FROM schedules s WHERE s.tenant_id = "
                   "schedule_runs.tenant_id AND s.name = schedule_runs.name AND s.owner = :owner)",
                   {{"owner", owner}});
  const auto removed =
      store::exec_json(sql, "DELETE FROM schedules WHERE owner = :owner", {{"owner", owner}});
  transaction.commit();
  return static_cast<std::size_t>(removed);
}

bool Scheduler::pause(const std::string& tenant, const std::string& name) {
  soci::session sql(database_.pool());
  const auto changed = store::exec_json(
      sql,
      "UPDATE schedules SET paused = 1, updated_at = :updated WHERE tenant_id = :tenant AND name = :name",
      {{"tenant", tenant}, {"name", name}, {"updated", store::format_time(options_.clock(sql))}});
  return changed > 0;
}

bool Scheduler::resume(const std::string& tenant, const std::string& name) {
  soci::session sql(database_.pool());
  store::Transaction transaction(sql);
  const auto now = options_.clock(sql);
  const auto rows = store::query_json(
      sql, "SELECT paused, singleton FROM schedules WHERE tenant_id = :tenant AND name = :name",
      {{"tenant", tenant}, {"name", name}}, 1);
  if (rows.rows.empty()) return false;
  if (rows.rows.at(0).at(0).get<std::int64_t>() == 0) return true;
  store::exec_json(
      sql,
      "UPDATE schedules SET paused = 0, updated_at = :updated WHERE tenant_id = :tenant AND name = :name",
      {{"tenant", tenant}, {"name", name}, {"updated", store::format_time(now)}});
  reset_runs(sql, tenant, name, rows.rows.at(0).at(1).get<std::int64_t>() != 0, now);
  transaction.commit();
  return true;
}

std::optional<ScheduleInfo> Scheduler::get(const std::string& tenant, const std::string& name,
                                           int next_runs) {
  soci::session sql(database_.pool());
  const auto found =
      rows(sql, "s.tenant_id = :tenant AND s.name = :name", {{"tenant", tenant}, {"name", name}});
  if (found.empty()) return std::nullopt;
  auto info = info_of(found.front());
  if (!info.paused && next_runs > 0) {
    const auto schedule = schedule_of(info.spec.expression, info.spec.time_zone);
    // From the row's next run, which may be due (not yet fired); without one, from now.
    auto next =
        info.next_run_at
            ? std::chrono::time_point_cast<std::chrono::milliseconds>(whole_seconds(*info.next_run_at))
            : store::TimePoint(schedule.next_fire_after(options_.clock(sql)));
    for (int i = 0; i < std::min(next_runs, kMaxNextRuns); ++i) {
      info.next_runs.push_back(next);
      next = schedule.next_fire_after(next);
    }
  }
  return info;
}

std::vector<ScheduleInfo> Scheduler::list(const std::string& tenant) {
  soci::session sql(database_.pool());
  std::vector<ScheduleInfo> out;
  for (const auto& row : rows(sql, "s.tenant_id = :tenant", {{"tenant", tenant}}))
    out.push_back(info_of(row));
  return out;
}

std::size_t Scheduler::tick() {
  soci::session sql(database_.pool());
  const bool leads = options_.leader();
  const auto due = rows(sql, leads ? "s.paused = 0" : "s.paused = 0 AND s.singleton = 0", json::object());
  std::size_t enqueued = 0;
  for (const auto& row : due) {
    try {
      const auto now = options_.clock(sql);
      if (!row.next_run_at) {
        // A per-node schedule this node has not seen yet: it starts at the next fire time.
        const auto schedule = schedule_of(row.spec.expression, row.spec.time_zone);
        store::exec_json(
            sql,
            "INSERT INTO schedule_runs (tenant_id, name, node_id, next_run_at, last_run_at) VALUES "
            "(:tenant, :name, :node, :next, NULL) ON CONFLICT DO NOTHING",
            {{"tenant", row.spec.tenant},
             {"name", row.spec.name},
             {"node", row.spec.singleton ? std::string() : options_.node_id},
             {"next", store::format_time(schedule.next_fire_after(now))}});
        continue;
      }
      if (*row.next_run_at > now) continue;
      enqueued += fire(sql, row, now);
    } catch (const std::exception& error) {
      logger()->warn("schedule '{}' of tenant '{}' could not fire: {}", row.spec.name, row.spec.tenant,
                     error.what());
    }
  }
  return enqueued;
}

std::size_t Scheduler::fire(soci::session& sql, const Row& row, store::TimePoint now) {
  const auto schedule = schedule_of(row.spec.expression, row.spec.time_zone);
  const auto info = info_of(row);
  const auto next = whole_seconds(*row.next_run_at);
  const auto now_s = whole_seconds(now);
  const auto late_before = whole_seconds(now - options_.misfire_threshold);
  std::vector<sys_seconds> times;
  auto on_time_after = next - std::chrono::seconds(1);
  if (next <= late_before) {
    // Fire times in [next, late_before] are missed: the policy decides.
    const auto plan = plan_missed_runs(schedule, next - std::chrono::seconds(1), late_before,
                                       info.missed_runs, info.catch_up_cap);
    times = plan.run_now;
    logger()->info("schedule '{}' of tenant '{}' missed {} fire time(s) (policy {}): running {}, dropping {}",
                   row.spec.name, row.spec.tenant, plan.missed, to_string(info.missed_runs),
                   plan.run_now.size(), plan.dropped());
    on_time_after = late_before;
  }
  for (auto t = schedule.next_fire_after(on_time_after); t <= now_s; t = schedule.next_fire_after(t)) {
    times.push_back(t);
  }
  const auto new_next = schedule.next_fire_after(now);

  store::Transaction transaction(sql);
  for (const auto& time : times) {
    auto payload = row.spec.payload;
    payload["schedule"] = row.spec.name;
    payload["scheduled_for"] = store::format_time(time);
    jobs::JobRequest request;
    request.tenant = row.spec.tenant;
    request.kind = row.spec.job_kind;
    request.payload = std::move(payload);
    request.priority = row.spec.priority;
    request.max_attempts = options_.max_attempts;
    if (!row.spec.singleton) request.run_on = options_.node_id;
    queue_.enqueue(sql, request);
  }
  // The compare-and-set: only the node whose UPDATE still finds the value it read fires.
  const auto changed = store::exec_json(
      sql,
      "UPDATE schedule_runs SET next_run_at = :next, last_run_at = :last WHERE tenant_id = :tenant AND name "
      "= :name "
      "AND node_id = :node AND next_run_at = :old",
      {{"next", store::format_time(new_next)},
       {"last", times.empty() ? (row.last_run_at ? json(store::format_time(*row.last_run_at)) : json(nullptr))
                              : json(store::format_time(times.back()))},
       {"tenant", row.spec.tenant},
       {"name", row.spec.name},
       {"node", row.spec.singleton ? std::string() : options_.node_id},
       {"old", store::format_time(*row.next_run_at)}});
  if (changed == 0) return 0;  // another node fired it: the rollback drops our jobs
  transaction.commit();
  return times.size();
}

}  // namespace plexus::schedule
