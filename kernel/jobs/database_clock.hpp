// The time leases and job claims are measured in. Nodes compare each other's
// expiry times, so on PostgreSQL it is the database server's clock: one clock for
// every node, whatever their own clocks say. SQLite is one file used by one
// process on one host, whose own clock is that one clock.
#pragma once

#include <functional>

#include "kernel/store/clock.hpp"

namespace soci {
class session;
}

namespace plexus::jobs {

// Reads "now" on a session of the database it is given; tests pass a clock they move by hand.
using Clock = std::function<store::TimePoint(soci::session&)>;

// PostgreSQL: the server's clock_timestamp(); SQLite: the system clock.
store::TimePoint database_now(soci::session& sql);
Clock database_clock();

}  // namespace plexus::jobs
