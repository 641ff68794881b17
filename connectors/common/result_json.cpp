#include "connectors/common/result_json.hpp"

#include <charconv>
#include <cmath>

namespace plexus::connectors {
namespace {

std::size_t digits(std::string_view text, std::size_t at) {
  std::size_t end = at;
  while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
  return end - at;
}

}  // namespace

bool is_json_number(std::string_view text) {
  std::size_t i = 0;
  if (i < text.size() && text[i] == '-') ++i;
  const std::size_t integer = digits(text, i);
  if (integer == 0 || (integer > 1 && text[i] == '0')) return false;
  i += integer;
  if (i < text.size() && text[i] == '.') {
    const std::size_t fraction = digits(text, i + 1);
    if (fraction == 0) return false;
    i += 1 + fraction;
  }
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    const std::size_t exponent = digits(text, i);
    if (exponent == 0) return false;
    i += exponent;
  }
  return i == text.size();
}

void ResultBuilder::begin_row() {
  if (row_open_) rows_ += "],";
  rows_ += '[';
  row_open_ = true;
  row_empty_ = true;
}

std::string& ResultBuilder::next_value() {
  if (!row_empty_) rows_ += ',';
  row_empty_ = false;
  return rows_;
}

void ResultBuilder::value_double(double value) {
  if (!std::isfinite(value)) {
    value_string(std::isnan(value) ? "NaN" : value < 0 ? "-Infinity" : "Infinity");
    return;
  }
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);  // shortest exact form
  next_value().append(buffer, result.ptr);
}

void ResultBuilder::value_number_text(std::string_view number) {
  if (is_json_number(number)) {
    next_value() += number;
  } else {
    value_string(number);
  }
}

std::string ResultBuilder::finish(bool truncated) const {
  std::string out = "{\"columns\":[";
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    out += i == 0 ? "{\"name\":" : ",{\"name\":";
    append_json_string(out, columns_[i].first);
    out += ",\"type\":";
    append_json_string(out, columns_[i].second);
    out += '}';
  }
  out += "],\"rows\":[";
  out += rows_;
  if (row_open_) out += ']';
  out += "],\"truncated\":";
  out += truncated ? "true}" : "false}";
  return out;
}

}  // namespace plexus::connectors
