// Binds a JSON value to a statement parameter the way every SQLite-backed driver stores
// JSON: numbers as numbers, booleans as 1/0, arrays and objects as their JSON text.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <limits>
#include <string>

namespace plexus::connectors {

// Json: nlohmann::json or nlohmann::ordered_json.
template <class Json>
void bind_json(sqlite3_stmt* statement, int index, const Json& value) {
  using Type = typename Json::value_t;
  switch (value.type()) {
    case Type::null: sqlite3_bind_null(statement, index); return;
    case Type::boolean: sqlite3_bind_int(statement, index, value.template get<bool>() ? 1 : 0); return;
    case Type::number_integer:
      sqlite3_bind_int64(statement, index, value.template get<std::int64_t>());
      return;
    case Type::number_unsigned: {
      const auto number = value.template get<std::uint64_t>();
      if (number <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        sqlite3_bind_int64(statement, index, static_cast<std::int64_t>(number));
      } else {
        sqlite3_bind_double(statement, index, static_cast<double>(number));
      }
      return;
    }
    case Type::number_float: sqlite3_bind_double(statement, index, value.template get<double>()); return;
    case Type::string: {
      const auto& text = value.template get_ref<const std::string&>();
      sqlite3_bind_text64(statement, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
      return;
    }
    default: {
      const std::string text = value.dump();
      sqlite3_bind_text64(statement, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
      return;
    }
  }
}

}  // namespace plexus::connectors
