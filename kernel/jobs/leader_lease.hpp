// A leader lease (DESIGN.md "Scale-out"): one row per lease name ("kernel") with
// the holding node, an expiry and a fencing token. A node calls
// try_acquire_or_renew well within the lease time; when the holder stops renewing,
// the lease expires and the next node to ask takes it over with a higher token.
//
// Every term (a node taking a lease that was free or expired) gets a token one
// above the last, so work tagged with a token can be refused once a newer term
// exists, even when an old leader wakes up late without knowing it was replaced.
// Times come from database_clock(): the server's clock on PostgreSQL.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "kernel/jobs/database_clock.hpp"
#include "kernel/store/database.hpp"

namespace plexus::jobs {

struct LeaseStatus {
  bool leader = false;     // the asking node holds the lease now
  std::int64_t token = 0;  // the current term's fencing token (the last one when free); 0 when never held
  std::string holder;      // the node holding it; "" when free or expired
  store::TimePoint expires_at;  // when the holder's term ends unless renewed; meaningless when free
};

class LeaderLease {
 public:
  // Applies the "kernel.cluster" migrations; throws store::MigrationError for a newer schema.
  LeaderLease(store::Database& database, std::string name, Clock clock = database_clock());

  // Renews the lease when `node_id` holds it, takes it when it is free or expired, and
  // otherwise reports who holds it. Atomic across nodes and connections: the lease row
  // is locked (PostgreSQL FOR UPDATE, SQLite write transaction) while deciding.
  // Throws std::invalid_argument for an empty node id or a ttl that is not positive.
  LeaseStatus try_acquire_or_renew(const std::string& node_id, std::chrono::milliseconds ttl);

  // Gives the lease up at once when `node_id` holds it (a clean shutdown), so another
  // node need not wait for the expiry. False when it did not hold it.
  bool release(const std::string& node_id);

  // The lease as `node_id` sees it, changing nothing.
  LeaseStatus current(const std::string& node_id);

  const std::string& name() const { return name_; }

 private:
  store::Database& database_;
  std::string name_;
  Clock clock_;
};

}  // namespace plexus::jobs
