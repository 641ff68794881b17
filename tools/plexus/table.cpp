#include "tools/plexus/table.hpp"

#include <algorithm>

namespace plexus::cli {

void print_table(std::ostream& out, const std::vector<std::string>& headers,
                 const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths(headers.size(), 0);
  const auto measure = [&](const std::vector<std::string>& row) {
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i)
      widths[i] = std::max(widths[i], row[i].size());
  };
  measure(headers);
  for (const auto& row : rows) measure(row);
  const auto print_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (std::size_t i = 0; i < widths.size(); ++i) {
      const std::string cell = i < row.size() ? row[i] : std::string();
      line += cell;
      if (i + 1 < widths.size()) line += std::string(widths[i] - cell.size() + 2, ' ');
    }
    out << line << "\n";
  };
  print_row(headers);
  for (const auto& row : rows) print_row(row);
}

std::string cell(const nlohmann::json& item, const char* key, std::string_view when_absent) {
  if (!item.is_object() || !item.contains(key)) return std::string(when_absent);
  const auto& value = item[key];
  if (value.is_null()) return std::string(when_absent);
  if (value.is_string()) return value.get<std::string>();
  if (value.is_boolean()) return value.get<bool>() ? "yes" : "no";
  if (value.is_array()) {
    std::string joined;
    for (const auto& element : value) {
      if (!joined.empty()) joined += ",";
      joined += element.is_string() ? element.get<std::string>() : element.dump();
    }
    return joined.empty() ? std::string(when_absent) : joined;
  }
  return value.dump();
}

}  // namespace plexus::cli
