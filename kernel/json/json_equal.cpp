#include "kernel/json/json_equal.hpp"

#include <cmath>
#include <cstdint>

namespace plexus::jsonpatch {
namespace {

using json = nlohmann::json;

enum class Numbers { by_value, as_written };

// Integers stored signed or unsigned, compared exactly.
bool integers_equal(const json& a, const json& b) {
  if (a.is_number_unsigned() && b.is_number_unsigned())
    return a.get<std::uint64_t>() == b.get<std::uint64_t>();
  if (!a.is_number_unsigned() && !b.is_number_unsigned())
    return a.get<std::int64_t>() == b.get<std::int64_t>();
  const json& unsigned_one = a.is_number_unsigned() ? a : b;
  const std::int64_t signed_value = (a.is_number_unsigned() ? b : a).get<std::int64_t>();
  return signed_value >= 0 && static_cast<std::uint64_t>(signed_value) == unsigned_one.get<std::uint64_t>();
}

// A double equals an integer only when it is exactly that whole number (no rounding
// the integer to double first).
bool float_equals_integer(double d, const json& integer) {
  if (!std::isfinite(d) || std::trunc(d) != d) return false;
  if (integer.is_number_unsigned()) {
    if (d < 0.0 || d >= 18446744073709551616.0) return false;  // 2^64
    return static_cast<std::uint64_t>(d) == integer.get<std::uint64_t>();
  }
  if (d < -9223372036854775808.0 || d >= 9223372036854775808.0) return false;  // -2^63, 2^63
  return static_cast<std::int64_t>(d) == integer.get<std::int64_t>();
}

bool numbers_equal(const json& a, const json& b, Numbers mode) {
  const bool a_float = a.is_number_float();
  const bool b_float = b.is_number_float();
  if (!a_float && !b_float) return integers_equal(a, b);
  if (a_float && b_float) {
    const double x = a.get<double>();
    const double y = b.get<double>();
    return x == y && (mode == Numbers::by_value || std::signbit(x) == std::signbit(y));
  }
  if (mode == Numbers::as_written) return false;  // "1" and "1.0"
  return a_float ? float_equals_integer(a.get<double>(), b) : float_equals_integer(b.get<double>(), a);
}

bool values_equal(const json& a, const json& b, Numbers mode) {
  if (a.is_number() && b.is_number()) return numbers_equal(a, b, mode);
  if (a.type() != b.type()) return false;
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    for (auto it = a.begin(); it != a.end(); ++it) {
      const auto other = b.find(it.key());
      if (other == b.end() || !values_equal(*it, *other, mode)) return false;
    }
    return true;
  }
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (!values_equal(a[i], b[i], mode)) return false;
    }
    return true;
  }
  return a == b;  // null, boolean, string, binary: operator== is exact for these
}

}  // namespace

bool equal_json(const json& a, const json& b) { return values_equal(a, b, Numbers::by_value); }

bool identical_json(const json& a, const json& b) { return values_equal(a, b, Numbers::as_written); }

}  // namespace plexus::jsonpatch
