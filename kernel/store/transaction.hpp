// A transaction by plain statements, the same on both databases:
//  - write: on SQLite BEGIN IMMEDIATE takes the write lock at the start, so a
//    read-then-write never fails with SQLITE_BUSY half way (and the audit chain can
//    be extended inside it); on PostgreSQL rows are locked where they are read
//    (SELECT ... FOR UPDATE).
//  - snapshot: reads that must agree with each other (SQLite in WAL mode reads the
//    snapshot of its first SELECT; PostgreSQL REPEATABLE READ READ ONLY).
#pragma once

namespace soci {
class session;
}

namespace plexus::store {

class Transaction {
 public:
  enum class Kind { write, snapshot };
  explicit Transaction(soci::session& sql, Kind kind = Kind::write);
  ~Transaction();  // rolls back unless committed
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  soci::session& sql_;
  bool open_ = true;
};

}  // namespace plexus::store
