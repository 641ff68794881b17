#include "kernel/identity/sql_values.hpp"

#include <nlohmann/json.hpp>
#include <soci/soci.h>

namespace plexus::identity {

std::string text_at(const soci::row& row, std::size_t column) {
  return optional_text_at(row, column).value_or(std::string());
}

std::optional<std::string> optional_text_at(const soci::row& row, std::size_t column) {
  if (row.get_indicator(column) == soci::i_null) return std::nullopt;
  return row.get<std::string>(column);
}

std::int64_t integer_at(const soci::row& row, std::size_t column) {
  if (row.get_indicator(column) == soci::i_null) return 0;
  switch (row.get_properties(column).get_data_type()) {
    case soci::dt_integer: return row.get<int>(column);
    case soci::dt_long_long: return row.get<long long>(column);
    case soci::dt_unsigned_long_long: return static_cast<std::int64_t>(row.get<unsigned long long>(column));
    case soci::dt_double: return static_cast<std::int64_t>(row.get<double>(column));
    case soci::dt_string: return std::stoll(row.get<std::string>(column));
    default: return 0;
  }
}

std::vector<std::string> string_list_of(const std::string& json_text) {
  std::vector<std::string> out;
  const auto parsed = nlohmann::json::parse(json_text, nullptr, false);
  if (!parsed.is_array()) return out;
  for (const auto& item : parsed) {
    if (item.is_string()) out.push_back(item.get<std::string>());
  }
  return out;
}

std::string json_text_of(const std::vector<std::string>& list) { return nlohmann::json(list).dump(); }

}  // namespace plexus::identity
