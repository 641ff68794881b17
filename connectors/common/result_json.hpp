// The JSON text of a query result, {"columns":[{"name","type"}],"rows":[[...],...],
// "truncated":bool}, written directly: values keep their exact text (a numeric(30,10)
// stays exact) and a large result is never built as a tree first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <plexus/json_text.hpp>

namespace plexus::connectors {

using sdk::append_json_string;  // bytes that are not valid UTF-8 become U+FFFD

// True when `text` is a JSON number as it stands ("-1.5e3"; not "NaN", "Infinity", "1.").
bool is_json_number(std::string_view text);

class ResultBuilder {
 public:
  void add_column(std::string name, std::string type) {
    columns_.emplace_back(std::move(name), std::move(type));
  }
  std::size_t column_count() const { return columns_.size(); }
  // Types may be settled by the first value (SQLite columns without a declared type).
  const std::string& column_type(std::size_t column) const { return columns_[column].second; }
  void set_column_type(std::size_t column, std::string type) { columns_[column].second = std::move(type); }

  // One row: begin_row(), then one value_*() per column in order.
  void begin_row();
  void value_null() { next_value() += "null"; }
  void value_bool(bool value) { next_value() += value ? "true" : "false"; }
  void value_int(std::int64_t value) { next_value() += std::to_string(value); }
  void value_double(double value);                  // non-finite values become strings ("Infinity")
  void value_number_text(std::string_view number);  // a number in text; a string when not JSON's
  void value_string(std::string_view text) { append_json_string(next_value(), text); }
  void value_json(std::string_view json) { next_value() += json; }  // valid JSON text, kept as it is

  std::string finish(bool truncated) const;

 private:
  std::string& next_value();

  std::vector<std::pair<std::string, std::string>> columns_;
  std::string rows_;  // "[...],[..." : every row so far, the last one still open
  bool row_open_ = false;
  bool row_empty_ = true;
};

}  // namespace plexus::connectors
