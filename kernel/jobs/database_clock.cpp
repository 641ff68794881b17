#include "kernel/jobs/database_clock.hpp"

#include <soci/soci.h>

namespace plexus::jobs {

store::TimePoint database_now(soci::session& sql) {
  if (sql.get_backend_name() != "postgresql") return std::chrono::system_clock::now();
  // clock_timestamp(), not now(): now() stands still for a whole transaction.
  long long milliseconds = 0;
  sql << "SELECT CAST(FLOOR(EXTRACT(EPOCH FROM clock_timestamp()) * 1000) AS BIGINT)",
      soci::into(milliseconds);
  return store::TimePoint(std::chrono::milliseconds(milliseconds));
}

Clock database_clock() { return database_now; }

}  // namespace plexus::jobs
