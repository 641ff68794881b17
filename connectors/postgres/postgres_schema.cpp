// PostgresConnection::schema(): the tables and views of the schemas on the search_path
// (pg_catalog and information_schema left out), with columns and keys.
#include <map>
#include <set>
#include <string>
#include <tuple>

#include <nlohmann/json.hpp>

#include "connectors/postgres/postgres_connection.hpp"

namespace plexus::connectors {
namespace {

// Introspection reads catalogs only; this bounds it on a server that is struggling.
constexpr std::uint64_t kSchemaTimeoutMs = 30000;

constexpr const char* kSchemas =
    "table_schema::name = ANY (current_schemas(false)) AND table_schema NOT IN ('pg_catalog', "
    "'information_schema')";

const std::string kTablesSql =
    std::string(
        "SELECT table_schema, table_name, table_type FROM information_schema.tables "
        "WHERE table_type IN ('BASE TABLE', 'VIEW') AND ") +
    kSchemas + " ORDER BY array_position(current_schemas(false), table_schema::name), table_name";

const std::string kColumnsSql =
    std::string(
        "SELECT table_schema, table_name, column_name, "
        "CASE WHEN data_type IN ('USER-DEFINED', 'ARRAY') THEN udt_name::text ELSE data_type::text END, "
        "is_nullable = 'YES' FROM information_schema.columns WHERE ") +
    kSchemas + " ORDER BY table_schema, table_name, ordinal_position";

// Keys come from pg_constraint: information_schema joins constraints by name, and names
// are unique per table only, so two tables' keys of one name would mix.
constexpr const char* kPrimaryKeysSql =
    "SELECT n.nspname, c.relname, a.attname FROM pg_constraint k "
    "JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
    "CROSS JOIN LATERAL unnest(k.conkey) AS key(attnum) "
    "JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = key.attnum "
    "WHERE k.contype = 'p' AND n.nspname = ANY (current_schemas(false))";

constexpr const char* kForeignKeysSql =
    "SELECT n.nspname, c.relname, k.conname, a.attname, fn.nspname, fc.relname, fa.attname FROM "
    "pg_constraint k "
    "JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
    "JOIN pg_class fc ON fc.oid = k.confrelid JOIN pg_namespace fn ON fn.oid = fc.relnamespace "
    "CROSS JOIN LATERAL unnest(k.conkey, k.confkey) WITH ORDINALITY AS key(attnum, fattnum, position) "
    "JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = key.attnum "
    "JOIN pg_attribute fa ON fa.attrelid = k.confrelid AND fa.attnum = key.fattnum "
    "WHERE k.contype = 'f' AND n.nspname = ANY (current_schemas(false)) "
    "ORDER BY n.nspname, c.relname, k.conname, key.position";

std::string value(const PgResult& result, int row, int column) {
  return PQgetvalue(result.get(), row, column);
}

}  // namespace

std::string PostgresConnection::schema() {
  constexpr std::string_view what = "schema failed";
  require_connected();
  Transaction transaction(*this, /*read_only=*/true, kSchemaTimeoutMs);
  const PgResult tables = run(kTablesSql, what);
  const PgResult columns = run(kColumnsSql, what);
  const PgResult primary_keys = run(kPrimaryKeysSql, what);
  const PgResult foreign_keys = run(kForeignKeysSql, what);
  transaction.commit(what);

  using Name = std::pair<std::string, std::string>;  // schema, table
  std::set<std::tuple<std::string, std::string, std::string>> key_columns;
  for (int r = 0; r < PQntuples(primary_keys.get()); ++r) {
    key_columns.emplace(value(primary_keys, r, 0), value(primary_keys, r, 1), value(primary_keys, r, 2));
  }

  nlohmann::json out = nlohmann::json::array();
  std::map<Name, std::size_t> index;
  for (int r = 0; r < PQntuples(tables.get()); ++r) {
    const Name name{value(tables, r, 0), value(tables, r, 1)};
    index[name] = out.size();
    out.push_back({{"name", name.second},
                   {"schema", name.first},
                   {"type", value(tables, r, 2) == "VIEW" ? "view" : "table"},
                   {"columns", nlohmann::json::array()},
                   {"foreign_keys", nlohmann::json::array()}});
  }
  for (int r = 0; r < PQntuples(columns.get()); ++r) {
    const auto table = index.find({value(columns, r, 0), value(columns, r, 1)});
    if (table == index.end()) continue;  // a kind of relation not listed (a sequence, ...)
    const std::string column = value(columns, r, 2);
    out[table->second]["columns"].push_back(
        {{"name", column},
         {"type", value(columns, r, 3)},
         {"nullable", value(columns, r, 4) == "t"},
         {"primary_key", key_columns.contains({table->first.first, table->first.second, column})}});
  }
  // One row per column of each key, in key order: consecutive rows of one constraint form one key.
  std::string previous;
  for (int r = 0; r < PQntuples(foreign_keys.get()); ++r) {
    const auto table = index.find({value(foreign_keys, r, 0), value(foreign_keys, r, 1)});
    if (table == index.end()) continue;
    auto& keys = out[table->second]["foreign_keys"];
    const std::string constraint =
        value(foreign_keys, r, 0) + '\0' + value(foreign_keys, r, 1) + '\0' + value(foreign_keys, r, 2);
    if (constraint != previous) {
      keys.push_back({{"columns", nlohmann::json::array()},
                      {"table", value(foreign_keys, r, 5)},
                      {"schema", value(foreign_keys, r, 4)},
                      {"references", nlohmann::json::array()}});
      previous = constraint;
    }
    keys.back()["columns"].push_back(value(foreign_keys, r, 3));
    keys.back()["references"].push_back(value(foreign_keys, r, 6));
  }
  return nlohmann::json{{"tables", std::move(out)}}.dump(-1, ' ', false,
                                                         nlohmann::json::error_handler_t::replace);
}

}  // namespace plexus::connectors
