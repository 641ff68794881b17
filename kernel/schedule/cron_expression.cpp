#include "kernel/schedule/cron_expression.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <span>
#include <vector>

namespace plexus::schedule {

namespace {

using std::chrono::seconds;

// One cron field: its name in errors, its value range, and the names it accepts.
struct FieldSpec {
  const char* name;
  int min;
  int max;
  std::span<const char* const> names = {};  // names[i] is min + i
};

constexpr std::array<const char*, 12> kMonthNames{"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                  "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::array<const char*, 7> kDayNames{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

const FieldSpec kSecond{"second", 0, 59};
const FieldSpec kMinute{"minute", 0, 59};
const FieldSpec kHour{"hour", 0, 23};
const FieldSpec kDayOfMonth{"day-of-month", 1, 31};
const FieldSpec kMonth{"month", 1, 12, kMonthNames};
const FieldSpec kDayOfWeek{"day-of-week", 0, 7, kDayNames};  // 7 is Sunday again

// The macros, as croner expands them.
constexpr std::array<std::pair<std::string_view, std::string_view>, 7> kMacros{{
    {"@yearly", "0 0 1 1 *"},
    {"@annually", "0 0 1 1 *"},
    {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"},
    {"@daily", "0 0 * * *"},
    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
}};

// Only for the day-of-month check: the longest a month can be.
constexpr std::array<unsigned, 13> kMaxDaysInMonth{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == separator) {
      parts.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

std::vector<std::string_view> split_whitespace(std::string_view text) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    const auto start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i > start) words.push_back(text.substr(start, i - start));
  }
  return words;
}

std::optional<int> parse_number(std::string_view text) {
  int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// A number or a name within the field's range.
int parse_value(const FieldSpec& spec, std::string_view token, std::string_view item) {
  std::string upper_token(token);
  std::transform(upper_token.begin(), upper_token.end(), upper_token.begin(),
                 [](unsigned char c) { return std::toupper(c); });
  for (std::size_t i = 0; i < spec.names.size(); ++i)
    if (upper_token == spec.names[i]) return spec.min + static_cast<int>(i);
  const auto value = parse_number(token);
  if (!value)
    throw CronParseError(
        spec.name, std::string(item),
        "'" + std::string(token) + "' is not a number" + (spec.names.empty() ? "" : " or a name"));
  if (*value < spec.min || *value > spec.max)
    throw CronParseError(
        spec.name, std::string(item),
        std::to_string(*value) + " is outside " + std::to_string(spec.min) + "-" + std::to_string(spec.max));
  return *value;
}

// One list item: `*`, `v`, `a-b`, `*/s` or `a-b/s`; sets bit (value - min) for each value.
template <std::size_t N>
void parse_item(const FieldSpec& spec, std::string_view item, std::bitset<N>& bits) {
  if (item.empty()) throw CronParseError(spec.name, "", "empty list item");
  const auto slash = item.find('/');
  const auto range = item.substr(0, slash);
  int step = 1;
  if (slash != std::string_view::npos) {
    const auto step_text = item.substr(slash + 1);
    const auto parsed = parse_number(step_text);
    const int span = spec.max - spec.min + 1;
    if (!parsed || *parsed < 1 || *parsed > span)
      throw CronParseError(
          spec.name, std::string(item),
          "step '" + std::string(step_text) + "' must be a number from 1 to " + std::to_string(span));
    step = *parsed;
  }
  int first = spec.min;
  int last = spec.max;
  if (range != "*") {
    const auto dash = range.find('-');
    if (dash == std::string_view::npos && slash != std::string_view::npos)
      throw CronParseError(spec.name, std::string(item),
                           "a step needs '*' or a range before it (*/n, a-b/n)");
    first = parse_value(spec, range.substr(0, dash), item);
    last = dash == std::string_view::npos ? first : parse_value(spec, range.substr(dash + 1), item);
    if (first > last)
      throw CronParseError(spec.name, std::string(item), "range " + std::string(range) + " runs backwards");
  }
  for (int value = first; value <= last; value += step) bits.set(static_cast<std::size_t>(value - spec.min));
}

template <std::size_t N>
std::bitset<N> parse_field(const FieldSpec& spec, std::string_view text) {
  std::bitset<N> bits;
  for (const auto item : split(text, ',')) parse_item(spec, item, bits);
  return bits;
}

// croner's "fixed-time" test for one of second, minute and hour: no wildcard or step
// and exactly one value.
template <std::size_t N>
bool single_value(std::string_view text, const std::bitset<N>& bits) {
  return text.find_first_of("*/") == std::string_view::npos && bits.count() == 1;
}

// "1h30m", "30s", "2d": units in descending order, each at most once.
seconds parse_duration(std::string_view text) {
  constexpr std::array<std::pair<char, seconds>, 4> kUnits{
      {{'d', seconds{86400}}, {'h', seconds{3600}}, {'m', seconds{60}}, {'s', seconds{1}}}};
  seconds total{0};
  std::size_t next_unit = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    const auto digits_start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    const auto number = parse_number(text.substr(digits_start, i - digits_start));
    if (!number || i == text.size())
      throw CronParseError("every", std::string(text),
                           "expected <number><unit>..., units d, h, m, s (e.g. 1h30m)");
    std::size_t unit = next_unit;
    while (unit < kUnits.size() && kUnits[unit].first != text[i]) ++unit;
    if (unit == kUnits.size())
      throw CronParseError(
          "every", std::string(text),
          "unit '" + std::string(1, text[i]) + "' unknown or out of order (use d, h, m, s in that order)");
    total += *number * kUnits[unit].second;
    next_unit = unit + 1;
    ++i;
  }
  if (total <= seconds{0})
    throw CronParseError("every", std::string(text), "the interval must be at least 1s");
  return total;
}

}  // namespace

CronParseError::CronParseError(std::string field, std::string token, const std::string& problem)
    : std::invalid_argument(field + " '" + token + "': " + problem),
      field_(std::move(field)),
      token_(std::move(token)) {}

CronExpression CronExpression::parse(std::string_view text) {
  CronExpression expression;
  const auto words = split_whitespace(text);
  if (words.empty()) throw CronParseError("expression", std::string(text), "empty schedule expression");
  expression.text_ = std::string(text.substr(text.find(words.front())));
  expression.text_.erase(expression.text_.find_last_not_of(" \t\r\n") + 1);

  std::string_view fields_text = expression.text_;
  if (words.front().front() == '@') {
    const auto macro = lower(words.front());
    if (macro == "@every") {
      if (words.size() != 2)
        throw CronParseError("every", expression.text_, "expected '@every <duration>', e.g. '@every 1h30m'");
      expression.every_ = parse_duration(words[1]);
      return expression;
    }
    const auto* const found =
        std::find_if(kMacros.begin(), kMacros.end(), [&](const auto& m) { return m.first == macro; });
    if (found == kMacros.end())
      throw CronParseError("expression", std::string(words.front()),
                           "unknown macro (known: @yearly, @annually, @monthly, @weekly, @daily, @midnight, "
                           "@hourly, @every <duration>)");
    if (words.size() != 1)
      throw CronParseError("expression", expression.text_, "a macro stands alone, without fields after it");
    fields_text = found->second;
  }

  auto fields = split_whitespace(fields_text);
  if (fields.size() == 5) fields.insert(fields.begin(), "0");
  if (fields.size() != 6)
    throw CronParseError("expression", expression.text_,
                         "expected 5 fields (minute hour day-of-month month day-of-week) or 6 with a leading "
                         "seconds field, got " +
                             std::to_string(words.size()));

  expression.seconds_ = parse_field<60>(kSecond, fields[0]);
  expression.minutes_ = parse_field<60>(kMinute, fields[1]);
  expression.hours_ = parse_field<24>(kHour, fields[2]);
  const auto days_of_month = parse_field<31>(kDayOfMonth, fields[3]);
  const auto months = parse_field<12>(kMonth, fields[4]);
  const auto days_of_week = parse_field<8>(kDayOfWeek, fields[5]);
  for (std::size_t day = 1; day <= 31; ++day) expression.days_of_month_[day] = days_of_month[day - 1];
  for (std::size_t month = 1; month <= 12; ++month) expression.months_[month] = months[month - 1];
  for (std::size_t day = 0; day < 7; ++day) expression.days_of_week_[day] = days_of_week[day];
  expression.days_of_week_[0] = expression.days_of_week_[0] || days_of_week[7];
  expression.day_of_month_star_ = fields[3] == "*";
  expression.day_of_week_star_ = fields[5] == "*";
  expression.fixed_time_ = single_value(fields[0], expression.seconds_) &&
                           single_value(fields[1], expression.minutes_) &&
                           single_value(fields[2], expression.hours_);

  // With day-of-week `*` only day-of-month decides; reject days no selected month has.
  if (expression.day_of_week_star_) {
    bool possible = false;
    for (unsigned month = 1; month <= 12 && !possible; ++month)
      for (unsigned day = 1; day <= kMaxDaysInMonth[month] && !possible; ++day)
        possible = expression.months_[month] && expression.days_of_month_[day];
    if (!possible)
      throw CronParseError("day-of-month", std::string(fields[3]),
                           "no selected month has such a day, it would never fire");
  }
  return expression;
}

bool CronExpression::matches_day(date::year_month_day day) const {
  if (!months_[static_cast<unsigned>(day.month())]) return false;
  const bool day_of_month = days_of_month_[static_cast<unsigned>(day.day())];
  const bool day_of_week = days_of_week_[date::weekday{day}.c_encoding()];
  if (day_of_week_star_) return day_of_month;
  if (day_of_month_star_) return day_of_week;
  return day_of_month || day_of_week;
}

std::optional<seconds> CronExpression::first_time_of_day_at_or_after(seconds from) const {
  const date::hh_mm_ss<seconds> start{from};
  const auto start_hour = static_cast<std::size_t>(start.hours().count());
  for (std::size_t hour = start_hour; hour < 24; ++hour) {
    if (!hours_[hour]) continue;
    const bool same_hour = hour == start_hour;
    const auto start_minute = same_hour ? static_cast<std::size_t>(start.minutes().count()) : 0;
    for (std::size_t minute = start_minute; minute < 60; ++minute) {
      if (!minutes_[minute]) continue;
      const bool same_minute = same_hour && minute == start_minute;
      for (std::size_t second = same_minute ? static_cast<std::size_t>(start.seconds().count()) : 0;
           second < 60; ++second)
        if (seconds_[second]) return seconds{hour * 3600 + minute * 60 + second};
    }
  }
  return std::nullopt;
}

date::local_seconds CronExpression::first_match_at_or_after(date::local_seconds from) const {
  // Feb 29 can be 8 years away (2096 to 2104); parse() ruled out expressions that never fire.
  constexpr int kSearchDays = 366 * 9;
  auto day = date::floor<date::days>(from);
  auto time_of_day = from - day;
  for (int i = 0; i < kSearchDays; ++i, day += date::days{1}, time_of_day = seconds{0}) {
    if (!matches_day(date::year_month_day{day})) continue;
    if (const auto time = first_time_of_day_at_or_after(time_of_day)) return day + *time;
  }
  throw std::logic_error("cron expression '" + text_ + "' has no match within 9 years");
}

}  // namespace plexus::schedule
