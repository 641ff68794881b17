#include "kernel/identity/login_guard.hpp"

#include <algorithm>

#include <soci/soci.h>

#include "kernel/identity/sql_values.hpp"
#include "kernel/identity/token_crypto.hpp"
#include "kernel/store/clock.hpp"

namespace plexus::identity {

nlohmann::json to_json(const LoginAttempt& attempt) {
  return {{"id", attempt.id},
          {"tenant", attempt.tenant},
          {"username", attempt.username},
          {"user_id", attempt.user_id.empty() ? nlohmann::json(nullptr) : nlohmann::json(attempt.user_id)},
          {"time", attempt.time},
          {"ip", attempt.ip},
          {"user_agent", attempt.user_agent},
          {"outcome", attempt.outcome}};
}

LockState LoginGuard::state(const std::string& tenant, const std::string& username) {
  const auto now = std::chrono::system_clock::now();
  const std::string window_start = store::format_time(now - options_.lockout_window);
  soci::session sql(database_.pool());

  std::string last_success;
  soci::indicator success_ind = soci::i_null;
  sql << "SELECT MAX(attempted_at) FROM login_attempts WHERE tenant_id = :t AND username = :u AND outcome = "
         "'success'",
      soci::into(last_success, success_ind), soci::use(tenant), soci::use(username);
  const std::string since = success_ind == soci::i_ok ? std::max(last_success, window_start) : window_start;

  int failures = 0;
  std::string last_failure;
  soci::indicator failure_ind = soci::i_null;
  sql << "SELECT COUNT(*), MAX(attempted_at) FROM login_attempts WHERE tenant_id = :t AND username = :u "
         "AND outcome IN ('bad_credentials', 'disabled') AND attempted_at > :since",
      soci::into(failures), soci::into(last_failure, failure_ind), soci::use(tenant), soci::use(username),
      soci::use(since);

  LockState state;
  state.consecutive_failures = failures;
  if (failures >= options_.lockout_max_failures && failure_ind == soci::i_ok) {
    const auto unlock = store::parse_time(last_failure).value_or(now) + options_.lockout_duration;
    if (unlock > now) {
      state.locked = true;
      // Rounded up, so a client that waits exactly this long is let in.
      const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(unlock - now);
      state.retry_after = std::chrono::seconds((remaining.count() + 999) / 1000);
    }
  }
  return state;
}

std::chrono::milliseconds LoginGuard::slow_down(int previous_failures) {
  if (previous_failures < 2) return std::chrono::milliseconds(0);
  const int doublings = std::min(previous_failures - 2, 4);  // 250 ms * 2^3 = 2 s
  return std::min(std::chrono::milliseconds(250 << doublings), std::chrono::milliseconds(2000));
}

void LoginGuard::record(LoginAttempt attempt) {
  if (attempt.id.empty()) attempt.id = new_id();
  if (attempt.time.empty()) attempt.time = store::utc_now();
  soci::session sql(database_.pool());
  soci::indicator user_ind = attempt.user_id.empty() ? soci::i_null : soci::i_ok;
  sql << "INSERT INTO login_attempts (id, tenant_id, username, user_id, attempted_at, ip, user_agent, "
         "outcome) "
         "VALUES (:id, :t, :u, :uid, :time, :ip, :ua, :o)",
      soci::use(attempt.id), soci::use(attempt.tenant), soci::use(attempt.username),
      soci::use(attempt.user_id, user_ind), soci::use(attempt.time), soci::use(attempt.ip),
      soci::use(attempt.user_agent), soci::use(attempt.outcome);
}

LoginHistoryPage LoginGuard::history(const LoginHistoryQuery& query) {
  // Empty filters match everything, so one statement serves every combination.
  const std::string before_time = query.before ? query.before->first : std::string();
  const std::string before_id = query.before ? query.before->second : std::string();
  const int fetch = query.limit + 1;
  soci::session sql(database_.pool());
  soci::rowset<soci::row> rows =
      (sql.prepare
           << "SELECT id, tenant_id, username, user_id, attempted_at, ip, user_agent, outcome "
              "FROM login_attempts WHERE tenant_id = :t "
              "AND (CAST(:u1 AS TEXT) = '' OR username = :u2) AND (CAST(:o1 AS TEXT) = '' OR outcome = :o2) "
              "AND (CAST(:f1 AS TEXT) = '' OR attempted_at >= :f2) "
              "AND (CAST(:to1 AS TEXT) = '' OR attempted_at <= :to2) "
              "AND (CAST(:bt1 AS TEXT) = '' OR attempted_at < :bt2 OR (attempted_at = :bt3 AND id < :bid)) "
              "ORDER BY attempted_at DESC, id DESC LIMIT :n",
       soci::use(query.tenant), soci::use(query.username), soci::use(query.username),
       soci::use(query.outcome), soci::use(query.outcome), soci::use(query.from), soci::use(query.from),
       soci::use(query.to), soci::use(query.to), soci::use(before_time), soci::use(before_time),
       soci::use(before_time), soci::use(before_id), soci::use(fetch));
  LoginHistoryPage page;
  for (const auto& row : rows) {
    page.items.push_back(LoginAttempt{text_at(row, 0), text_at(row, 1), text_at(row, 2), text_at(row, 3),
                                      text_at(row, 4), text_at(row, 5), text_at(row, 6), text_at(row, 7)});
  }
  if (static_cast<int>(page.items.size()) > query.limit) {
    page.items.pop_back();
    page.last = std::make_pair(page.items.back().time, page.items.back().id);
  }
  return page;
}

}  // namespace plexus::identity
