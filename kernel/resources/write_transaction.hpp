// A write transaction by plain statements. On SQLite it takes the write lock at
// BEGIN (BEGIN IMMEDIATE): a read-then-write transaction that upgraded later could
// fail with SQLITE_BUSY, and AuditLog::record_within needs the lock held. On
// PostgreSQL rows are locked where they are read (SELECT ... FOR UPDATE).
#pragma once

namespace soci {
class session;
}

namespace plexus::resources {

class WriteTransaction {
 public:
  WriteTransaction(soci::session& sql, bool postgresql);
  ~WriteTransaction();  // rolls back unless committed
  WriteTransaction(const WriteTransaction&) = delete;
  WriteTransaction& operator=(const WriteTransaction&) = delete;
  void commit();

 private:
  soci::session& sql_;
  bool open_ = true;
};

}  // namespace plexus::resources
