#include "kernel/jobs/leader_lease.hpp"

#include <stdexcept>

#include <soci/soci.h>

#include "kernel/jobs/cluster_schema.hpp"
#include "kernel/store/transaction.hpp"

namespace plexus::jobs {
namespace {

struct LeaseRow {
  std::string holder;
  long long token = 0;
  std::string expires_at;
};

LeaseRow read_row(soci::session& sql, const std::string& name, bool lock) {
  LeaseRow row;
  const bool postgresql = sql.get_backend_name() == "postgresql";
  sql << std::string("SELECT holder, token, expires_at FROM leases WHERE name = :name") +
             (lock && postgresql ? " FOR UPDATE" : ""),
      soci::use(name, "name"), soci::into(row.holder), soci::into(row.token), soci::into(row.expires_at);
  if (!sql.got_data()) return LeaseRow{};
  return row;
}

bool live(const LeaseRow& row, store::TimePoint now) {
  return !row.holder.empty() && row.expires_at > store::format_time(now);
}

LeaseStatus status_of(const LeaseRow& row, const std::string& node_id, store::TimePoint now) {
  LeaseStatus status;
  status.token = row.token;
  if (!live(row, now)) return status;
  status.holder = row.holder;
  status.leader = row.holder == node_id;
  status.expires_at = store::parse_time(row.expires_at).value_or(store::TimePoint{});
  return status;
}

}  // namespace

LeaderLease::LeaderLease(store::Database& database, std::string name, Clock clock)
    : database_(database), name_(std::move(name)), clock_(std::move(clock)) {
  if (name_.empty()) throw std::invalid_argument("a lease needs a name");
  store::migrate(database_, cluster_schema::kComponent, cluster_schema::migrations());
}

LeaseStatus LeaderLease::try_acquire_or_renew(const std::string& node_id, std::chrono::milliseconds ttl) {
  if (node_id.empty()) throw std::invalid_argument("node_id must not be empty");
  if (ttl.count() <= 0) throw std::invalid_argument("the lease ttl must be positive");
  soci::session sql(database_.pool());
  // The row must exist before it can be locked; two nodes inserting at once both succeed here.
  sql << "INSERT INTO leases (name, holder, token, expires_at, acquired_at) VALUES (:name, '', 0, '', '') "
         "ON CONFLICT (name) DO NOTHING",
      soci::use(name_, "name");

  store::Transaction transaction(sql);
  const LeaseRow row = read_row(sql, name_, true);
  // Read after the lock: time spent waiting for another node's decision must not count as ours.
  const auto now = clock_(sql);
  if (live(row, now) && row.holder != node_id) return status_of(row, node_id, now);

  const long long token = live(row, now) ? row.token : row.token + 1;
  const std::string expires_at = store::format_time(now + ttl);
  const std::string now_text = store::format_time(now);
  if (live(row, now)) {
    sql << "UPDATE leases SET expires_at = :expires WHERE name = :name", soci::use(expires_at, "expires"),
        soci::use(name_, "name");
  } else {
    sql << "UPDATE leases SET holder = :holder, token = :token, expires_at = :expires, acquired_at = "
           ":acquired "
           "WHERE name = :name",
        soci::use(node_id, "holder"), soci::use(token, "token"), soci::use(expires_at, "expires"),
        soci::use(now_text, "acquired"), soci::use(name_, "name");
  }
  transaction.commit();
  return status_of(LeaseRow{node_id, token, expires_at}, node_id, now);
}

bool LeaderLease::release(const std::string& node_id) {
  soci::session sql(database_.pool());
  soci::statement statement =
      (sql.prepare
           << "UPDATE leases SET holder = '', expires_at = '' WHERE name = :name AND holder = :holder",
       soci::use(name_, "name"), soci::use(node_id, "holder"));
  statement.execute(true);
  return statement.get_affected_rows() > 0;
}

LeaseStatus LeaderLease::current(const std::string& node_id) {
  soci::session sql(database_.pool());
  const LeaseRow row = read_row(sql, name_, false);
  return status_of(row, node_id, clock_(sql));
}

}  // namespace plexus::jobs
