// One SQLite database served as a plexus::sdk::Connection: the sqlite driver opens a
// file with it, the json-file driver a database loaded from JSON files.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <plexus/driver.hpp>

#include "connectors/sqlite/statement_cache.hpp"

namespace plexus::connectors {

struct SqliteClose {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using SqliteHandle = std::unique_ptr<sqlite3, SqliteClose>;

struct SqliteFinalize {
  void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
};
using SqliteStatement = std::unique_ptr<sqlite3_stmt, SqliteFinalize>;

class SqliteConnection final : public sdk::Connection {
 public:
  // Serves `db`. With `read_only`, statements that would write are refused
  // (PLEXUS_ERR_DENIED); open the database read-only as well, so that the database
  // itself enforces it and this check is the second line.
  SqliteConnection(SqliteHandle db, bool read_only);
  ~SqliteConnection() override = default;
  // SQLite's callbacks hold `this`.
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;
  SqliteConnection(SqliteConnection&&) = delete;
  SqliteConnection& operator=(SqliteConnection&&) = delete;

  std::string query(const sdk::Query& query) override;
  std::string execute(const sdk::Query& query) override;
  std::string schema() override;
  std::string ping() override;

 private:
  class Deadline;

  // The statement for `query`, from the cache when it ran before, with its values bound.
  StatementLease prepare(const sdk::Query& query, std::string_view what);
  void bind(sqlite3_stmt* statement, std::string_view params_json);
  SqliteStatement prepare_internal(const char* sql, std::string_view what);
  // Makes the connection read the schema again if another connection changed it.
  void read_current_schema();
  [[noreturn]] void fail(int code, std::string_view what) const;

  static int authorize(void* self, int action, const char*, const char*, const char*, const char*);
  static int progress(void* self);

  SqliteHandle db_;
  StatementCache statements_;  // after db_: finalized before the database closes
  bool read_only_;
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
  std::uint64_t timeout_ms_ = 0;  // of the running call, for the message
  std::string denied_;            // why the authorizer refused the statement being prepared
};

}  // namespace plexus::connectors
