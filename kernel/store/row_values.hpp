// Reading columns of a dynamic soci::row the same way on SQLite and PostgreSQL,
// whose drivers report the same SQL type as different C++ types (a COUNT is a
// long long on one and an int or text on the other).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace soci {
class row;
}

namespace plexus::store {

std::optional<std::string> optional_text_at(const soci::row& row, std::size_t column);
std::string text_at(const soci::row& row, std::size_t column);  // "" for NULL
// Any integer, whole double or numeric text column; throws std::runtime_error for other types.
std::optional<std::int64_t> optional_integer_at(const soci::row& row, std::size_t column);
std::int64_t integer_at(const soci::row& row, std::size_t column);  // 0 for NULL

}  // namespace plexus::store
