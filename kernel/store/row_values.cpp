#include "kernel/store/row_values.hpp"

#include <stdexcept>

#include <soci/soci.h>

namespace plexus::store {

std::optional<std::string> optional_text_at(const soci::row& row, std::size_t column) {
  if (row.get_indicator(column) == soci::i_null) return std::nullopt;
  return row.get<std::string>(column);
}

std::string text_at(const soci::row& row, std::size_t column) {
  return optional_text_at(row, column).value_or(std::string());
}

std::optional<std::int64_t> optional_integer_at(const soci::row& row, std::size_t column) {
  if (row.get_indicator(column) == soci::i_null) return std::nullopt;
  switch (row.get_properties(column).get_data_type()) {
    case soci::dt_integer: return row.get<int>(column);
    case soci::dt_long_long: return row.get<long long>(column);
    case soci::dt_unsigned_long_long: return static_cast<std::int64_t>(row.get<unsigned long long>(column));
    case soci::dt_double: return static_cast<std::int64_t>(row.get<double>(column));
    case soci::dt_string: return std::stoll(row.get<std::string>(column));
    default: throw std::runtime_error("column " + std::to_string(column) + " is not an integer");
  }
}

std::int64_t integer_at(const soci::row& row, std::size_t column) {
  return optional_integer_at(row, column).value_or(0);
}

}  // namespace plexus::store
