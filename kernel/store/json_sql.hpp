// Parameterised SQL with JSON in and out, on SQLite and PostgreSQL alike: what the
// plugin host table's database calls and the data-source drivers both speak.
// Values are only ever bound (:name placeholders), never spliced into the SQL text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace soci {
class session;
}

namespace plexus::store {

// The SQL or its parameters are wrong (unknown or missing :name, unsupported value);
// what() names the parameter.
class SqlParameterError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// ":name" placeholders of `sql` in order of first use, skipping quoted text,
// comments and PostgreSQL "::" casts.
std::vector<std::string> placeholders(std::string_view sql);

struct JsonRows {
  std::vector<std::string> columns;
  nlohmann::json rows = nlohmann::json::array();  // one array of values per row
  bool truncated = false;                          // more rows than max_rows were there
};

// Runs a query. `params` is an object {"name": value}: strings, integers, numbers,
// booleans (bound as 1/0) and null; arrays and objects are bound as their JSON text.
// Every placeholder needs a value and every value a placeholder (SqlParameterError).
// Columns come back as JSON numbers, strings or null; times as ISO-8601 text.
JsonRows query_json(soci::session& session, const std::string& sql, const nlohmann::json& params,
                    std::size_t max_rows);

// Runs a statement that returns no rows; the number of rows it changed.
std::int64_t exec_json(soci::session& session, const std::string& sql, const nlohmann::json& params);

// Every name in `used` has a value in `params` (an object, or null for none) and every
// value a placeholder; SqlParameterError names the first that has not.
void check_parameters(const std::vector<std::string>& used, const nlohmann::json& params);

}  // namespace plexus::store
