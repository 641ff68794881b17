// SqliteConnection::schema(): tables and views with their columns and foreign keys, from
// sqlite_schema and the table-valued PRAGMA functions.
#include <map>
#include <vector>

#include <nlohmann/json.hpp>

#include "connectors/common/sql_text.hpp"
#include "connectors/sqlite/sqlite_connection.hpp"

namespace plexus::connectors {
namespace {

std::string text_column(sqlite3_stmt* statement, int column) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement, column));
  return text ? std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(statement, column)))
              : std::string();
}

}  // namespace

std::string SqliteConnection::schema() {
  constexpr std::string_view what = "schema failed";
  // Runs `statement` with `table` bound to ?1, calling `row` for each row.
  const auto each_row = [&](const SqliteStatement& statement, const std::string& table, const auto& row) {
    sqlite3_reset(statement.get());
    sqlite3_bind_text64(statement.get(), 1, table.data(), table.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    int code = SQLITE_ROW;
    while ((code = sqlite3_step(statement.get())) == SQLITE_ROW) row(statement.get());
    if (code != SQLITE_DONE) fail(code, what);
  };

  const SqliteStatement tables =
      prepare_internal(R"(SELECT name, type FROM sqlite_schema WHERE type IN ('table', 'view'))"
                       R"( AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name)",
                       what);
  const SqliteStatement columns =
      prepare_internal(R"(SELECT name, type, "notnull", pk FROM pragma_table_info(?1) ORDER BY cid)", what);
  const SqliteStatement primary_key =
      prepare_internal("SELECT name FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk", what);
  const SqliteStatement foreign_keys = prepare_internal(
      R"(SELECT id, "table", "from", "to" FROM pragma_foreign_key_list(?1) ORDER BY id, seq)", what);

  nlohmann::json out_tables = nlohmann::json::array();
  int code = SQLITE_ROW;
  while ((code = sqlite3_step(tables.get())) == SQLITE_ROW) {
    const std::string name = text_column(tables.get(), 0);
    nlohmann::json table = {{"name", name}, {"type", text_column(tables.get(), 1)}};

    nlohmann::json table_columns = nlohmann::json::array();
    each_row(columns, name, [&](sqlite3_stmt* row) {
      // Key columns count as NOT NULL, as elsewhere (SQLite admits NULL into some, for old times' sake).
      const bool in_primary_key = sqlite3_column_int(row, 3) > 0;
      table_columns.push_back({{"name", text_column(row, 0)},
                               {"type", ascii_lower(text_column(row, 1))},
                               {"nullable", sqlite3_column_int(row, 2) == 0 && !in_primary_key},
                               {"primary_key", in_primary_key}});
    });
    table["columns"] = std::move(table_columns);

    // pragma_foreign_key_list gives one row per column, grouped by id; "to" is NULL when
    // the key refers to the parent's primary key without naming its columns.
    std::map<int, nlohmann::json> keys;
    each_row(foreign_keys, name, [&](sqlite3_stmt* row) {
      auto& key = keys[sqlite3_column_int(row, 0)];
      if (key.is_null()) {
        key = {{"columns", nlohmann::json::array()},
               {"table", text_column(row, 1)},
               {"references", nlohmann::json::array()}};
      }
      key["columns"].push_back(text_column(row, 2));
      key["references"].push_back(sqlite3_column_type(row, 3) == SQLITE_NULL
                                      ? nlohmann::json()
                                      : nlohmann::json(text_column(row, 3)));
    });
    nlohmann::json out_keys = nlohmann::json::array();
    for (auto& entry : keys) {
      nlohmann::json& key = entry.second;
      if (key["references"].front().is_null()) {
        key["references"] = nlohmann::json::array();
        each_row(primary_key, key["table"].get<std::string>(),
                 [&](sqlite3_stmt* row) { key["references"].push_back(text_column(row, 0)); });
      }
      out_keys.push_back(std::move(key));
    }
    table["foreign_keys"] = std::move(out_keys);
    out_tables.push_back(std::move(table));
  }
  if (code != SQLITE_DONE) fail(code, what);
  return nlohmann::json{{"tables", std::move(out_tables)}}.dump(-1, ' ', false,
                                                                nlohmann::json::error_handler_t::replace);
}

}  // namespace plexus::connectors
