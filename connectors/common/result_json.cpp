#include "connectors/common/result_json.hpp"

#include <charconv>
#include <cmath>

namespace plexus::connectors {
namespace {

// Length of the valid UTF-8 sequence at the start of `text`, or 0 when it is not one
// (overlong forms, surrogates and values beyond U+10FFFF are not).
std::size_t utf8_sequence_length(std::string_view text) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  std::size_t length = 0;
  std::uint32_t code = 0;
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
    code = lead & 0x1f;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    code = lead & 0x0f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    code = lead & 0x07;
  } else {
    return 0;
  }
  if (text.size() < length) return 0;
  for (std::size_t i = 1; i < length; ++i) {
    if ((byte(i) & 0xc0) != 0x80) return 0;
    code = (code << 6) | (byte(i) & 0x3f);
  }
  const bool overlong = (length == 3 && code < 0x800) || (length == 4 && code < 0x10000);
  const bool surrogate = code >= 0xd800 && code <= 0xdfff;
  return overlong || surrogate || code > 0x10ffff ? 0 : length;
}

std::size_t digits(std::string_view text, std::size_t at) {
  std::size_t end = at;
  while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
  return end - at;
}

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20) {
      out += "\\u00";
      out += hex[c >> 4];
      out += hex[c & 0xf];
    } else if (c >= 0x80) {
      const std::size_t length = utf8_sequence_length(text.substr(i));
      if (length == 0) {
        out += "\xef\xbf\xbd";  // U+FFFD
        ++i;
        continue;
      }
      out.append(text.substr(i, length));
      i += length;
      continue;
    } else {
      out += static_cast<char>(c);
    }
    ++i;
  }
  out += '"';
}

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
