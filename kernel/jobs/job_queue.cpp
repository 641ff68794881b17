#include "kernel/jobs/job_queue.hpp"

#include <limits>

#include <soci/soci.h>

#include "kernel/jobs/job_rows.hpp"
#include "kernel/jobs/job_schema.hpp"
#include "kernel/store/transaction.hpp"
#include "kernel/store/json_sql.hpp"

namespace plexus::jobs {
namespace {

using nlohmann::json;

constexpr std::size_t kAllRows = std::numeric_limits<std::size_t>::max();

// Names the claim in WHERE clauses; bound by claim_params.
constexpr std::string_view kClaimMatches =
    "id = :id AND state = 'running' AND claimed_by = :node AND attempts = :attempt";

json claim_params(const JobClaim& claim) {
  return {{"id", claim.job_id}, {"node", claim.node_id}, {"attempt", claim.attempt}};
}

bool postgresql(soci::session& sql) { return sql.get_backend_name() == "postgresql"; }

std::string lost_message(const JobClaim& claim) {
  return "job " + std::to_string(claim.job_id) + " attempt " + std::to_string(claim.attempt) + " on node '" +
         claim.node_id + "' is no longer running there (its claim expired or the job was cancelled)";
}

std::vector<Job> jobs_of(const store::JsonRows& rows) {
  std::vector<Job> jobs;
  for (const auto& row : rows.rows) jobs.push_back(job_rows::job_from_row(row));
  return jobs;
}

}  // namespace

JobQueue::JobQueue(store::Database& database, JobQueueOptions options)
    : database_(database), options_(std::move(options)) {
  store::migrate(database_, job_schema::kComponent,
                 job_schema::migrations(database_.backend() == "postgresql"));
}

Job JobQueue::enqueue(const JobRequest& request) {
  soci::session sql(database_.pool());
  return enqueue(sql, request);
}

Job JobQueue::enqueue(soci::session& sql, const JobRequest& request) {
  if (request.tenant.empty()) throw std::invalid_argument("tenant must not be empty");
  if (request.kind.empty()) throw std::invalid_argument("kind must not be empty");
  if (request.max_attempts < 1) throw std::invalid_argument("max_attempts must be at least 1");
  if (request.delay.count() < 0) throw std::invalid_argument("delay must not be negative");
  const auto now = options_.clock(sql);
  const auto rows = store::query_json(
      sql,
      "INSERT INTO jobs (tenant_id, kind, payload_json, priority, state, attempts, max_attempts, "
      "next_attempt_at, "
      "progress, progress_message, last_error, cancel_requested, created_at, claimed_by, updated_at, run_on) "
      "VALUES (:tenant, :kind, :payload, :priority, 'queued', 0, :max_attempts, :next_attempt_at, 0, '', '', "
      "0, :created_at, '', :updated_at, :run_on) RETURNING " +
          std::string(job_rows::kColumns),
      {{"tenant", request.tenant},
       {"kind", request.kind},
       {"payload", request.payload.dump()},
       {"priority", request.priority},
       {"max_attempts", request.max_attempts},
       {"next_attempt_at", store::format_time(now + request.delay)},
       {"created_at", store::format_time(now)},
       {"updated_at", store::format_time(now)},
       {"run_on", request.run_on}},
      1);
  return job_rows::job_from_row(rows.rows.at(0));
}

std::optional<Job> JobQueue::claim_next(const std::string& node_id, std::chrono::milliseconds claim_duration,
                                        const std::vector<std::string>& kinds) {
  if (node_id.empty()) throw std::invalid_argument("node_id must not be empty");
  if (claim_duration.count() <= 0) throw std::invalid_argument("claim_duration must be positive");
  soci::session sql(database_.pool());
  const auto now = options_.clock(sql);
  const auto now_text = store::format_time(now);
  json params = {{"node", node_id},
                 {"expires", store::format_time(now + claim_duration)},
                 {"started", now_text},
                 {"updated", now_text},
                 {"due", now_text},
                 {"node_only", node_id}};
  std::string kind_filter;
  for (std::size_t i = 0; i < kinds.size(); ++i) {
    const std::string name = "kind" + std::to_string(i);
    kind_filter += (i == 0 ? " AND kind IN (:" : ", :") + name;
    params[name] = kinds[i];
  }
  if (!kind_filter.empty()) kind_filter += ")";
  // One statement picks and takes the job. PostgreSQL: SKIP LOCKED passes over a row another
  // node is taking at this moment instead of waiting for it (or taking it too). SQLite: the
  // write transaction holds the database's only write lock throughout.
  const std::string sql_text =
      "UPDATE jobs SET state = 'running', attempts = attempts + 1, claimed_by = :node, claim_expires_at = "
      ":expires, "
      "started_at = :started, updated_at = :updated, progress = 0, progress_message = '' "
      "WHERE id = (SELECT id FROM jobs WHERE state IN ('queued', 'failed') AND next_attempt_at <= :due AND run_on IN ('', :node_only)" +
      kind_filter + " ORDER BY priority DESC, next_attempt_at, id LIMIT 1" +
      (postgresql(sql) ? " FOR UPDATE SKIP LOCKED" : "") + ") RETURNING " + std::string(job_rows::kColumns);
  store::Transaction transaction(sql);
  const auto rows = store::query_json(sql, sql_text, params, 1);
  transaction.commit();
  if (rows.rows.empty()) return std::nullopt;
  return job_rows::job_from_row(rows.rows.at(0));
}

bool JobQueue::extend_claim(const JobClaim& claim, std::chrono::milliseconds claim_duration) {
  if (claim_duration.count() <= 0) throw std::invalid_argument("claim_duration must be positive");
  soci::session sql(database_.pool());
  const auto now = options_.clock(sql);
  auto params = claim_params(claim);
  params["expires"] = store::format_time(now + claim_duration);
  params["updated"] = store::format_time(now);
  const auto rows =
      store::query_json(sql,
                        "UPDATE jobs SET claim_expires_at = :expires, updated_at = :updated WHERE " +
                            std::string(kClaimMatches) + " RETURNING cancel_requested",
                        params, 1);
  if (rows.rows.empty()) throw ClaimLost(lost_message(claim));
  return rows.rows.at(0).at(0).get<std::int64_t>() != 0;
}

bool JobQueue::report_progress(const JobClaim& claim, int percent, const std::string& message) {
  if (percent < 0 || percent > 100) throw std::invalid_argument("progress must be within 0..100");
  soci::session sql(database_.pool());
  auto params = claim_params(claim);
  params["progress"] = percent;
  params["message"] = message;
  params["updated"] = store::format_time(options_.clock(sql));
  const auto rows = store::query_json(
      sql,
      "UPDATE jobs SET progress = :progress, progress_message = :message, updated_at = :updated WHERE " +
          std::string(kClaimMatches) + " RETURNING cancel_requested",
      params, 1);
  if (rows.rows.empty()) throw ClaimLost(lost_message(claim));
  return rows.rows.at(0).at(0).get<std::int64_t>() != 0;
}

void JobQueue::complete(const JobClaim& claim, const nlohmann::json& result) {
  soci::session sql(database_.pool());
  const auto now = store::format_time(options_.clock(sql));
  auto params = claim_params(claim);
  params["result"] = result.dump();
  params["finished"] = now;
  params["updated"] = now;
  const auto changed = store::exec_json(
      sql,
      "UPDATE jobs SET state = 'succeeded', result_json = :result, progress = 100, finished_at = :finished, "
      "claim_expires_at = NULL, updated_at = :updated WHERE " +
          std::string(kClaimMatches),
      params);
  if (changed == 0) throw ClaimLost(lost_message(claim));
}

JobState JobQueue::fail(const JobClaim& claim, const std::string& error) {
  soci::session sql(database_.pool());
  store::Transaction transaction(sql);
  const auto rows = store::query_json(sql,
                                      "SELECT attempts, max_attempts, cancel_requested FROM jobs WHERE " +
                                          std::string(kClaimMatches) + (postgresql(sql) ? " FOR UPDATE" : ""),
                                      claim_params(claim), 1);
  if (rows.rows.empty()) throw ClaimLost(lost_message(claim));
  const auto& row = rows.rows.at(0);
  const auto state = settle_failure(sql, claim.job_id, row.at(0).get<int>(), row.at(1).get<int>(),
                                    row.at(2).get<std::int64_t>() != 0, error, options_.clock(sql));
  transaction.commit();
  return state;
}

JobState JobQueue::settle_failure(soci::session& sql, std::int64_t id, int attempts, int max_attempts,
                                  bool cancel_requested, const std::string& error, store::TimePoint now) {
  const auto now_text = store::format_time(now);
  json params = {{"id", id}, {"error", error}, {"updated", now_text}};
  JobState state = JobState::failed;
  if (cancel_requested) {
    state = JobState::cancelled;  // whoever asked to cancel does not want it retried
  } else if (attempts >= max_attempts) {
    state = JobState::dead;
  }
  params["state"] = std::string(to_string(state));
  if (state == JobState::failed) {
    params["next"] = store::format_time(now + retry_delay(options_.retry, attempts));
    store::exec_json(sql,
                     "UPDATE jobs SET state = :state, last_error = :error, next_attempt_at = :next, "
                     "claim_expires_at = NULL, updated_at = :updated WHERE id = :id",
                     params);
  } else {
    params["finished"] = now_text;
    store::exec_json(sql,
                     "UPDATE jobs SET state = :state, last_error = :error, finished_at = :finished, "
                     "claim_expires_at = NULL, updated_at = :updated WHERE id = :id",
                     params);
  }
  return state;
}

CancelOutcome JobQueue::cancel(const std::string& tenant, std::int64_t id) {
  soci::session sql(database_.pool());
  store::Transaction transaction(sql);
  const auto rows =
      store::query_json(sql,
                        std::string("SELECT state FROM jobs WHERE id = :id AND tenant_id = :tenant") +
                            (postgresql(sql) ? " FOR UPDATE" : ""),
                        {{"id", id}, {"tenant", tenant}}, 1);
  if (rows.rows.empty()) return CancelOutcome::not_found;
  const auto state = parse_job_state(rows.rows.at(0).at(0).get<std::string>());
  if (!state || is_finished(*state)) return CancelOutcome::already_finished;
  const auto now = store::format_time(options_.clock(sql));
  if (*state == JobState::running) {
    store::exec_json(sql, "UPDATE jobs SET cancel_requested = 1, updated_at = :updated WHERE id = :id",
                     {{"id", id}, {"updated", now}});
    transaction.commit();
    return CancelOutcome::requested;
  }
  store::exec_json(sql,
                   "UPDATE jobs SET state = 'cancelled', cancel_requested = 1, finished_at = :finished, "
                   "updated_at = :updated WHERE id = :id",
                   {{"id", id}, {"finished", now}, {"updated", now}});
  transaction.commit();
  return CancelOutcome::cancelled;
}

int JobQueue::requeue_expired() {
  soci::session sql(database_.pool());
  store::Transaction transaction(sql);
  const auto now = options_.clock(sql);
  // SKIP LOCKED: a job whose worker is completing it right now is not expired after all.
  const auto rows =
      store::query_json(sql,
                        "SELECT id, attempts, max_attempts, cancel_requested, claimed_by FROM jobs "
                        "WHERE state = 'running' AND claim_expires_at <= :now ORDER BY id" +
                            std::string(postgresql(sql) ? " FOR UPDATE SKIP LOCKED" : ""),
                        {{"now", store::format_time(now)}}, kAllRows);
  for (const auto& row : rows.rows) {
    const int attempts = row.at(1).get<int>();
    settle_failure(sql, row.at(0).get<std::int64_t>(), attempts, row.at(2).get<int>(),
                   row.at(3).get<std::int64_t>() != 0,
                   "attempt " + std::to_string(attempts) + " on node '" + row.at(4).get<std::string>() +
                       "' did not finish before its claim expired (the node stopped or lost the database)",
                   now);
  }
  transaction.commit();
  return static_cast<int>(rows.rows.size());
}

std::optional<Job> JobQueue::get(const std::string& tenant, std::int64_t id) {
  soci::session sql(database_.pool());
  const auto rows = store::query_json(
      sql, "SELECT " + std::string(job_rows::kColumns) + " FROM jobs WHERE id = :id AND tenant_id = :tenant",
      {{"id", id}, {"tenant", tenant}}, 1);
  if (rows.rows.empty()) return std::nullopt;
  return job_rows::job_from_row(rows.rows.at(0));
}

JobPage JobQueue::list(const JobQuery& query) {
  if (query.limit < 1 || query.limit > kMaxListLimit) {
    throw std::invalid_argument("limit must be within 1.." + std::to_string(kMaxListLimit));
  }
  std::string conditions;
  json params = json::object();
  const auto where = [&](const std::string& condition, const std::string& name, json value) {
    conditions += (conditions.empty() ? " WHERE " : " AND ") + condition;
    params[name] = std::move(value);
  };
  if (query.tenant) where("tenant_id = :tenant", "tenant", *query.tenant);
  if (query.state) where("state = :state", "state", std::string(to_string(*query.state)));
  if (!query.kind.empty()) where("kind = :kind", "kind", query.kind);
  if (query.before_id) where("id < :before", "before", *query.before_id);
  soci::session sql(database_.pool());
  // One row more than asked tells whether there is a next page.
  const auto rows =
      store::query_json(sql,
                        "SELECT " + std::string(job_rows::kColumns) + " FROM jobs" + conditions +
                            " ORDER BY id DESC LIMIT " + std::to_string(query.limit + 1),
                        params, kAllRows);
  JobPage page;
  page.items = jobs_of(rows);
  if (page.items.size() > static_cast<std::size_t>(query.limit)) {
    page.items.resize(static_cast<std::size_t>(query.limit));
    page.next_cursor = page.items.back().id;
  }
  return page;
}

}  // namespace plexus::jobs
