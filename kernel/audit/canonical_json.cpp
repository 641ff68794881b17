#include "kernel/audit/canonical_json.hpp"

#include "kernel/text/utf8.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace plexus::audit {
namespace {

// UTF-16 code units of well-formed UTF-8: JCS sorts keys by these.
std::u16string utf16_units(std::string_view utf8) {
  const auto code_points = text::decode_utf8(utf8);
  if (!code_points) throw std::invalid_argument("canonical_json: string is not well-formed UTF-8");
  std::u16string units;
  units.reserve(code_points->size());
  for (char32_t code : *code_points) {
    if (code >= 0x10000) {
      code -= 0x10000;
      units.push_back(static_cast<char16_t>(0xD800 + (code >> 10)));
      units.push_back(static_cast<char16_t>(0xDC00 + (code & 0x3FF)));
    } else {
      units.push_back(static_cast<char16_t>(code));
    }
  }
  return units;
}

void write_string(std::string_view text, std::string& out) {
  if (!text::valid_utf8(text)) throw std::invalid_argument("canonical_json: string is not well-formed UTF-8");
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  for (const char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += "\\u00";
          out += hex[(c >> 4) & 0xF];
          out += hex[c & 0xF];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

// ECMAScript Number::toString (ECMA-262 7.1.12.1) applied to the shortest
// round-trip digits that std::to_chars yields (it also picks the closest of
// equally short candidates, as ECMAScript requires).
void write_double(double value, std::string& out) {
  if (!std::isfinite(value)) throw std::invalid_argument("canonical_json: NaN and Infinity are not JSON");
  if (value == 0) {  // also -0, which ECMAScript writes as "0"
    out += '0';
    return;
  }
  if (value < 0) {
    out += '-';
    value = -value;
  }
  char buffer[32];
  const auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::scientific);
  if (error != std::errc()) throw std::logic_error("canonical_json: to_chars failed");
  // buffer holds "d[.ddd]e±xx": split into the digit string and exponent.
  const std::string_view text(buffer, static_cast<std::size_t>(end - buffer));
  const std::size_t e = text.find('e');
  std::string digits(text.substr(0, e));
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  int exponent = 0;
  const std::string_view exponent_text = text.substr(e + 1);
  std::from_chars(exponent_text.data() + (exponent_text.front() == '+' ? 1 : 0),
                  exponent_text.data() + exponent_text.size(), exponent);
  const int k = static_cast<int>(digits.size());
  const int n = exponent + 1;  // the value is 0.digits * 10^n
  if (k <= n && n <= 21) {
    out += digits;
    out.append(static_cast<std::size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out.append(digits, 0, static_cast<std::size_t>(n));
    out += '.';
    out.append(digits, static_cast<std::size_t>(n));
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-n), '0');
    out += digits;
  } else {
    out += digits[0];
    if (k > 1) {
      out += '.';
      out.append(digits, 1);
    }
    out += 'e';
    out += n - 1 < 0 ? '-' : '+';
    out += std::to_string(std::abs(n - 1));
  }
}

void write(const nlohmann::json& value, std::string& out) {
  using type = nlohmann::json::value_t;
  switch (value.type()) {
    case type::null: out += "null"; return;
    case type::boolean: out += value.get<bool>() ? "true" : "false"; return;
    case type::number_integer: out += std::to_string(value.get<std::int64_t>()); return;
    case type::number_unsigned: out += std::to_string(value.get<std::uint64_t>()); return;
    case type::number_float: write_double(value.get<double>(), out); return;
    case type::string: write_string(value.get_ref<const std::string&>(), out); return;
    case type::array: {
      out += '[';
      bool first = true;
      for (const auto& element : value) {
        if (!first) out += ',';
        first = false;
        write(element, out);
      }
      out += ']';
      return;
    }
    case type::object: {
      // nlohmann keeps keys in UTF-8 byte order, which differs from UTF-16
      // order once keys mix U+E000..U+FFFF with characters beyond U+FFFF.
      std::vector<std::pair<std::u16string, const nlohmann::json::object_t::value_type*>> members;
      members.reserve(value.size());
      for (const auto& member : value.get_ref<const nlohmann::json::object_t&>()) {
        members.emplace_back(utf16_units(member.first), &member);
      }
      std::sort(members.begin(), members.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      out += '{';
      bool first = true;
      for (const auto& [units, member] : members) {
        if (!first) out += ',';
        first = false;
        write_string(member->first, out);
        out += ':';
        write(member->second, out);
      }
      out += '}';
      return;
    }
    case type::binary:
    case type::discarded: break;
  }
  throw std::invalid_argument("canonical_json: value has no JSON representation");
}

}  // namespace

std::string canonical_json(const nlohmann::json& value) {
  std::string out;
  write(value, out);
  return out;
}

}  // namespace plexus::audit
