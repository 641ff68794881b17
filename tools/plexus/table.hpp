// Plain-text tables for listings: a header row, columns padded to their widest cell.
#pragma once

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace plexus::cli {

void print_table(std::ostream& out, const std::vector<std::string>& headers,
                 const std::vector<std::vector<std::string>>& rows);

// A JSON field as a table cell: strings as they are, booleans "yes"/"no", lists joined
// with ","; `when_absent` for a missing or null field (or an empty list).
std::string cell(const nlohmann::json& item, const char* key, std::string_view when_absent = "-");

}  // namespace plexus::cli
