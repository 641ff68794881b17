// A parsed schedule expression: five cron fields (minute hour day-of-month month
// day-of-week) with an optional leading seconds field, a macro (@daily...), or
// `@every <duration>`. Matching local wall-clock times lives here; time zones and
// daylight saving time are Schedule's (schedule.hpp).
//
// The dialect is croner's default (npm croner 11, which the tests cross-check), minus
// its extensions (L, W, #, ?, +, a year field):
//   - a day matches when day-of-month OR day-of-week matches, if both are restricted;
//     a field counts as unrestricted only when it is exactly `*` (so `*/2` in
//     day-of-month is restricted, unlike Vixie cron, which looks at the first character);
//   - day-of-week 0 and 7 are Sunday; names (JAN-DEC, SUN-SAT) are case-insensitive;
//   - a step needs `*` or a range before it (`*/5`, `1-10/2`; not `5/5`).
// Stricter than croner: an expression that can never fire (`0 0 30 2 *`) is an error.
#pragma once

#include <bitset>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <date/date.h>

namespace plexus::schedule {

// A bad expression; field() is "second", "minute", "hour", "day-of-month", "month",
// "day-of-week", "every" or "expression", token() the offending text.
class CronParseError : public std::invalid_argument {
 public:
  CronParseError(std::string field, std::string token, const std::string& problem);
  const std::string& field() const { return field_; }
  const std::string& token() const { return token_; }

 private:
  std::string field_;
  std::string token_;
};

class CronExpression {
 public:
  // Throws CronParseError.
  static CronExpression parse(std::string_view text);

  const std::string& text() const { return text_; }

  // The interval of `@every`, which fires at fixed distances from an anchor regardless
  // of time zone; nullopt for calendar expressions.
  std::optional<std::chrono::seconds> every() const { return every_; }

  // A single second, minute and hour (croner's "fixed-time job", e.g. `30 2 * * *`):
  // such a job runs once when its time is repeated and after the gap when it is
  // skipped by a DST change; other jobs follow the wall clock (see schedule.hpp).
  bool fixed_time() const { return fixed_time_; }

  // The first local wall-clock time at or after `from` that matches. Calendar
  // expressions only.
  date::local_seconds first_match_at_or_after(date::local_seconds from) const;

 private:
  bool matches_day(date::year_month_day day) const;
  std::optional<std::chrono::seconds> first_time_of_day_at_or_after(std::chrono::seconds from) const;

  std::string text_;
  std::optional<std::chrono::seconds> every_;
  std::bitset<60> seconds_, minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_of_month_;  // 1..31
  std::bitset<13> months_;         // 1..12
  std::bitset<7> days_of_week_;    // 0 = Sunday
  bool day_of_month_star_ = true;
  bool day_of_week_star_ = true;
  bool fixed_time_ = false;
};

}  // namespace plexus::schedule
