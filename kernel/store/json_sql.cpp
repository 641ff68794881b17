#include "kernel/store/json_sql.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <deque>

#include <soci/soci.h>

#include "kernel/store/sqlite_rows.hpp"

namespace plexus::store {
namespace {

bool name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Values bound to a statement must stay at fixed addresses until it has run.
struct Bindings {
  std::deque<std::string> strings;
  std::deque<long long> integers;
  std::deque<double> doubles;
  std::deque<soci::indicator> indicators;
};

}  // namespace

void check_parameters(const std::vector<std::string>& used, const nlohmann::json& params) {
  if (!params.is_null() && !params.is_object()) throw SqlParameterError("parameters must be a JSON object");
  for (const auto& name : used) {
    if (params.is_null() || !params.contains(name))
      throw SqlParameterError("parameter :" + name + " has no value");
  }
  if (params.is_object()) {
    for (const auto& [name, value] : params.items()) {
      if (std::find(used.begin(), used.end(), name) == used.end()) {
        throw SqlParameterError("parameter " + name + " is not used by the statement");
      }
    }
  }
}

namespace {

void bind(soci::details::prepare_temp_type& statement, const nlohmann::json& params, Bindings& bindings) {
  if (!params.is_object()) return;
  for (const auto& [name, value] : params.items()) {
    if (value.is_null()) {
      bindings.strings.emplace_back();
      bindings.indicators.push_back(soci::i_null);
      statement, soci::use(bindings.strings.back(), bindings.indicators.back(), name);
    } else if (value.is_boolean()) {
      bindings.integers.push_back(value.get<bool>() ? 1 : 0);
      statement, soci::use(bindings.integers.back(), name);
    } else if (value.is_number_integer()) {
      bindings.integers.push_back(value.get<long long>());
      statement, soci::use(bindings.integers.back(), name);
    } else if (value.is_number()) {
      bindings.doubles.push_back(value.get<double>());
      statement, soci::use(bindings.doubles.back(), name);
    } else if (value.is_string()) {
      bindings.strings.push_back(value.get<std::string>());
      statement, soci::use(bindings.strings.back(), name);
    } else {
      bindings.strings.push_back(value.dump());
      statement, soci::use(bindings.strings.back(), name);
    }
  }
}

// Parameters already checked.
std::int64_t exec_checked(soci::session& session, const std::string& sql, const nlohmann::json& params) {
  Bindings bindings;
  soci::details::prepare_temp_type prepared = session.prepare << sql;
  bind(prepared, params, bindings);
  soci::statement statement(prepared);
  statement.execute(true);
  return statement.get_affected_rows();
}

nlohmann::json cell(const soci::row& row, std::size_t i) {
  if (row.get_indicator(i) == soci::i_null) return nullptr;
  switch (row.get_properties(i).get_data_type()) {
    case soci::dt_string:
    case soci::dt_xml: return row.get<std::string>(i);
    case soci::dt_double: return row.get<double>(i);
    case soci::dt_integer: return row.get<int>(i);
    case soci::dt_long_long: return row.get<long long>(i);
    case soci::dt_unsigned_long_long: return row.get<unsigned long long>(i);
    case soci::dt_date: {
      const std::tm t = row.get<std::tm>(i);
      char text[80];
      std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02dZ", t.tm_year + 1900, t.tm_mon + 1,
                    t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec);
      return text;
    }
    case soci::dt_blob: return nullptr;  // binary columns have no JSON form; see docs
  }
  return nullptr;
}

}  // namespace

std::vector<std::string> placeholders(std::string_view sql) {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (c == '\'' || c == '"') {  // quoted text or identifier; '' and "" escape themselves
      const auto end = sql.find(c, i + 1);
      i = end == std::string_view::npos ? sql.size() : end;
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      const auto end = sql.find('\n', i);
      i = end == std::string_view::npos ? sql.size() : end;
    } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
      const auto end = sql.find("*/", i + 2);
      i = end == std::string_view::npos ? sql.size() : end + 1;
    } else if (c == ':' && i + 1 < sql.size() && sql[i + 1] == ':') {
      ++i;  // a PostgreSQL cast, "x::int"
    } else if (c == ':' && i + 1 < sql.size() && name_char(sql[i + 1]) &&
               !std::isdigit(static_cast<unsigned char>(sql[i + 1]))) {
      std::size_t end = i + 1;
      while (end < sql.size() && name_char(sql[end])) ++end;
      std::string name(sql.substr(i + 1, end - i - 1));
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(std::move(name));
      i = end - 1;
    }
  }
  return names;
}

JsonRows query_json(soci::session& session, const std::string& sql, const nlohmann::json& params,
                    std::size_t max_rows) {
  check_parameters(placeholders(sql), params);
  if (session.get_backend_name() == "sqlite3") return sqlite_query_json(session, sql, params, max_rows);
  Bindings bindings;
  soci::details::prepare_temp_type prepared = session.prepare << sql;
  bind(prepared, params, bindings);
  soci::rowset<soci::row> rows(prepared);
  JsonRows result;
  bool first = true;
  for (const auto& row : rows) {
    if (first) {
      for (std::size_t i = 0; i < row.size(); ++i) result.columns.push_back(row.get_properties(i).get_name());
      first = false;
    }
    if (result.rows.size() == max_rows) {
      result.truncated = true;
      break;
    }
    nlohmann::json values = nlohmann::json::array();
    for (std::size_t i = 0; i < row.size(); ++i) values.push_back(cell(row, i));
    result.rows.push_back(std::move(values));
  }
  return result;
}

std::int64_t exec_json(soci::session& session, const std::string& sql, const nlohmann::json& params) {
  check_parameters(placeholders(sql), params);
  return exec_checked(session, sql, params);
}

}  // namespace plexus::store
