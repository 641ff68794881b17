// Reading SOCI rows alike on SQLite and PostgreSQL, whose drivers report integer
// columns as different C++ types, and the JSON string lists kept in TEXT columns.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace soci {
class row;
}

namespace plexus::identity {

std::string text_at(const soci::row& row, std::size_t column);  // "" for NULL
std::optional<std::string> optional_text_at(const soci::row& row, std::size_t column);
std::int64_t integer_at(const soci::row& row, std::size_t column);  // 0 for NULL

// ["a","b"] <-> TEXT; a malformed column reads as empty rather than failing a login.
std::vector<std::string> string_list_of(const std::string& json_text);
std::string json_text_of(const std::vector<std::string>& list);

}  // namespace plexus::identity
