// SQLite's own API for queries with JSON results: SOCI types a column by its declared
// type, so an expression such as COUNT(*) would come back as text; SQLite knows the
// type of every value it returns.
#pragma once

#include "kernel/store/json_sql.hpp"

namespace sqlite_api {  // SOCI's sqlite3.h, wrapped in this namespace
struct sqlite3;
struct sqlite3_stmt;
}  // namespace sqlite_api

namespace plexus::store {

// Same contract as query_json; `session` must be a SOCI sqlite3 session and the
// parameters already checked.
JsonRows sqlite_query_json(soci::session& session, const std::string& sql, const nlohmann::json& params,
                           std::size_t max_rows);

// exec_json_batch's SQLite side: the statement prepared once, then run per row. The caller
// holds the transaction and has checked the columns.
class SqliteBatch {
 public:
  SqliteBatch(soci::session& session, const std::string& sql, const std::vector<std::string>& columns);
  ~SqliteBatch();
  SqliteBatch(const SqliteBatch&) = delete;
  SqliteBatch& operator=(const SqliteBatch&) = delete;

  // Binds one value per column, in the columns' order; the rows it changed.
  std::int64_t run(const std::vector<nlohmann::json>& row);

 private:
  sqlite_api::sqlite3* db_;
  sqlite_api::sqlite3_stmt* statement_ = nullptr;
  std::vector<int> indexes_;  // of each column's placeholder, looked up once
};

}  // namespace plexus::store
