#include "kernel/config/units.hpp"

#include <charconv>
#include <limits>
#include <span>

namespace plexus::config {
namespace {

struct Unit {
  std::string_view suffix;
  std::int64_t factor;
};

// Largest first, so formatting picks the shortest spelling.
constexpr Unit kDurationUnits[] = {
    {"d", 86'400'000}, {"h", 3'600'000}, {"m", 60'000}, {"s", 1'000}, {"ms", 1},
};

constexpr std::int64_t kKiB = 1024;
constexpr std::int64_t kKB = 1000;
// Binary units first: a power-of-two buffer reads better as "16KiB" than "16.384KB".
constexpr Unit kSizeUnits[] = {
    {"TiB", kKiB * kKiB * kKiB * kKiB}, {"GiB", kKiB * kKiB * kKiB}, {"MiB", kKiB * kKiB}, {"KiB", kKiB},
    {"TB", kKB * kKB * kKB * kKB},      {"GB", kKB * kKB * kKB},     {"MB", kKB * kKB},    {"KB", kKB},
    {"B", 1},
};

std::optional<std::int64_t> parse_with_units(std::string_view text, std::span<const Unit> units,
                                             std::int64_t bare_factor) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0) return std::nullopt;

  std::int64_t amount = 0;
  if (std::from_chars(text.data(), text.data() + digits, amount).ec != std::errc{}) return std::nullopt;

  std::string_view suffix = text.substr(digits);
  std::int64_t factor = suffix.empty() ? bare_factor : 0;
  for (const Unit& unit : units) {
    if (unit.suffix == suffix) factor = unit.factor;
  }
  if (factor == 0 || amount > std::numeric_limits<std::int64_t>::max() / factor) return std::nullopt;
  return amount * factor;
}

std::string format_with_units(std::int64_t amount, std::span<const Unit> units) {
  for (const Unit& unit : units) {
    if (amount != 0 && amount % unit.factor == 0) return std::to_string(amount / unit.factor) + std::string(unit.suffix);
  }
  return std::to_string(amount);
}

}  // namespace

std::optional<std::int64_t> parse_duration_ms(std::string_view text) {
  return parse_with_units(text, kDurationUnits, 1'000);
}

std::optional<std::int64_t> parse_size_bytes(std::string_view text) { return parse_with_units(text, kSizeUnits, 1); }

std::string format_duration(std::int64_t milliseconds) {
  return milliseconds == 0 ? "0s" : format_with_units(milliseconds, kDurationUnits);
}

std::string format_size(std::int64_t bytes) {
  // "B" is accepted but plain bytes read better.
  return format_with_units(bytes, std::span(kSizeUnits).first(std::size(kSizeUnits) - 1));
}

}  // namespace plexus::config
