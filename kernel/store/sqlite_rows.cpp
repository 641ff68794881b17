#include "kernel/store/sqlite_rows.hpp"

#include <memory>

#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

namespace plexus::store {
namespace {

using namespace sqlite_api;

[[noreturn]] void fail(sqlite3* db, const std::string& what) {
  throw soci::soci_error(what + ": " + sqlite3_errmsg(db));
}

void bind_value(sqlite3* db, sqlite3_stmt* statement, int index, const nlohmann::json& value) {
  int rc = SQLITE_OK;
  if (value.is_null()) {
    rc = sqlite3_bind_null(statement, index);
  } else if (value.is_boolean()) {
    rc = sqlite3_bind_int(statement, index, value.get<bool>() ? 1 : 0);
  } else if (value.is_number_integer()) {
    rc = sqlite3_bind_int64(statement, index, value.get<sqlite3_int64>());
  } else if (value.is_number()) {
    rc = sqlite3_bind_double(statement, index, value.get<double>());
  } else if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    rc = sqlite3_bind_text(statement, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  } else {
    const std::string text = value.dump();
    rc = sqlite3_bind_text(statement, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  }
  if (rc != SQLITE_OK)
    fail(db, "cannot bind parameter " + std::string(sqlite3_bind_parameter_name(statement, index)));
}

void bind(sqlite3* db, sqlite3_stmt* statement, const nlohmann::json& params) {
  if (!params.is_object()) return;
  for (const auto& [name, value] : params.items()) {
    const int index = sqlite3_bind_parameter_index(statement, (":" + name).c_str());
    if (index == 0) continue;  // checked before: every parameter is used
    bind_value(db, statement, index, value);
  }
}

nlohmann::json cell(sqlite3_stmt* statement, int column) {
  switch (sqlite3_column_type(statement, column)) {
    case SQLITE_INTEGER: return static_cast<std::int64_t>(sqlite3_column_int64(statement, column));
    case SQLITE_FLOAT: return sqlite3_column_double(statement, column);
    case SQLITE_TEXT: {
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement, column));
      return std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(statement, column)));
    }
    default: return nullptr;  // NULL, and BLOB, which has no JSON form
  }
}

}  // namespace

JsonRows sqlite_query_json(soci::session& session, const std::string& sql, const nlohmann::json& params,
                           std::size_t max_rows) {
  auto* backend = static_cast<soci::sqlite3_session_backend*>(session.get_backend());
  sqlite3* db = backend->conn_;
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &raw, nullptr) != SQLITE_OK) {
    fail(db, "cannot prepare the statement");
  }
  const std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> statement(raw, &sqlite3_finalize);
  bind(db, raw, params);
  JsonRows result;
  const int columns = sqlite3_column_count(raw);
  for (int i = 0; i < columns; ++i) result.columns.emplace_back(sqlite3_column_name(raw, i));
  for (;;) {
    const int rc = sqlite3_step(raw);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) fail(db, "the query failed");
    if (result.rows.size() == max_rows) {
      result.truncated = true;
      break;
    }
    nlohmann::json values = nlohmann::json::array();
    for (int i = 0; i < columns; ++i) values.push_back(cell(raw, i));
    result.rows.push_back(std::move(values));
  }
  return result;
}

SqliteBatch::SqliteBatch(soci::session& session, const std::string& sql, const std::vector<std::string>& columns)
    : db_(static_cast<soci::sqlite3_session_backend*>(session.get_backend())->conn_) {
  if (sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &statement_, nullptr) != SQLITE_OK) {
    fail(db_, "cannot prepare the statement");
  }
  for (const auto& column : columns) {
    indexes_.push_back(sqlite3_bind_parameter_index(statement_, (":" + column).c_str()));
  }
}

SqliteBatch::~SqliteBatch() { sqlite3_finalize(statement_); }

std::int64_t SqliteBatch::run(const std::vector<nlohmann::json>& row) {
  sqlite3_reset(statement_);
  for (std::size_t c = 0; c < indexes_.size(); ++c) bind_value(db_, statement_, indexes_[c], row[c]);
  if (sqlite3_step(statement_) != SQLITE_DONE) fail(db_, "the statement failed");
  return sqlite3_changes(db_);
}

}  // namespace plexus::store
