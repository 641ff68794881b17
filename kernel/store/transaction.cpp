#include "kernel/store/transaction.hpp"

#include <soci/soci.h>

namespace plexus::store {

Transaction::Transaction(soci::session& sql, Kind kind) : sql_(sql) {
  const bool postgresql = sql_.get_backend_name() == "postgresql";
  if (kind == Kind::write) {
    sql_ << (postgresql ? "BEGIN" : "BEGIN IMMEDIATE");
  } else {
    sql_ << (postgresql ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN");
  }
}

Transaction::~Transaction() {
  if (!open_) return;
  try {
    sql_ << "ROLLBACK";
  } catch (...) {
    // The connection is gone; the database rolls back on its own.
  }
}

void Transaction::commit() {
  sql_ << "COMMIT";
  open_ = false;
}

}  // namespace plexus::store
