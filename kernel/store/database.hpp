// The kernel's database: a SOCI connection pool on SQLite (the embedded default,
// a file in the data directory, WAL mode) or PostgreSQL (store.url).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace soci {
class connection_pool;
class session;
}  // namespace soci

namespace plexus::store {

// Call once, before any SQLite database opens in the process (the kernel's or a connector's).
// SQLite's allocation statistics take one process-wide mutex on every allocation, which makes
// concurrent queries wait for each other; nothing in Plexus reads them.
void prepare_sqlite_for_threads();

struct DatabaseOptions {
  std::string url;  // "sqlite:/path/plexus.db" or "postgresql://user:pass@host/db"
  std::size_t pool_size = 4;
  std::chrono::milliseconds busy_timeout{5000};
};

class Database {
 public:
  // Opens every pooled connection; throws std::runtime_error naming the backend
  // (never the password) when the database cannot be reached.
  explicit Database(const DatabaseOptions& options);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // "sqlite" or "postgresql".
  const std::string& backend() const { return backend_; }
  // A round trip to the database; false (with the reason) when it fails.
  bool ping(std::string* reason = nullptr);
  soci::connection_pool& pool() { return *pool_; }

 private:
  std::string backend_;
  std::unique_ptr<soci::connection_pool> pool_;
};

// "postgresql://user:secret@host/db" -> "postgresql://user:***@host/db".
std::string redact_url(const std::string& url);

}  // namespace plexus::store
