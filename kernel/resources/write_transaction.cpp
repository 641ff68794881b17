#include "kernel/resources/write_transaction.hpp"

#include <soci/soci.h>

namespace plexus::resources {

WriteTransaction::WriteTransaction(soci::session& sql, bool postgresql) : sql_(sql) {
  sql_ << (postgresql ? "BEGIN" : "BEGIN IMMEDIATE");
}

WriteTransaction::~WriteTransaction() {
  if (!open_) return;
  try {
    sql_ << "ROLLBACK";
  } catch (...) {
    // The connection is gone; the database rolls back on its own.
  }
}

void WriteTransaction::commit() {
  sql_ << "COMMIT";
  open_ = false;
}

}  // namespace plexus::resources
