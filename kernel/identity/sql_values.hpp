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

#include "kernel/store/row_values.hpp"

namespace plexus::identity {

using store::integer_at;
using store::optional_text_at;
using store::text_at;

// ["a","b"] <-> TEXT; a malformed column reads as empty rather than failing a login.
std::vector<std::string> string_list_of(const std::string& json_text);
std::string json_text_of(const std::vector<std::string>& list);

}  // namespace plexus::identity
