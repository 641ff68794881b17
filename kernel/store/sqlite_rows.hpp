// SQLite's own API for queries with JSON results: SOCI types a column by its declared
// type, so an expression such as COUNT(*) would come back as text; SQLite knows the
// type of every value it returns.
#pragma once

#include "kernel/store/json_sql.hpp"

namespace plexus::store {

// Same contract as query_json; `session` must be a SOCI sqlite3 session and the
// parameters already checked.
JsonRows sqlite_query_json(soci::session& session, const std::string& sql, const nlohmann::json& params,
                           std::size_t max_rows);

// exec_json_batch's SQLite side: one prepared statement, run per row. The caller holds
// the transaction and has checked the columns and rows.
std::int64_t sqlite_exec_json_batch(soci::session& session, const std::string& sql, const nlohmann::json& columns,
                                    const nlohmann::json& rows);

}  // namespace plexus::store
