// A schedule: an expression in an IANA time zone, and its next fire time.
//
// Calendar expressions follow the zone's wall clock. Across daylight saving changes
// they do what npm croner 11 (and croner-rust, after Vixie cron) does:
//   - fixed-time jobs (a single second, minute and hour, e.g. `30 2 * * *`,
//     CronExpression::fixed_time()): a time that occurs twice (fall back) fires once,
//     at its first occurrence; a time that does not exist (spring forward) fires at
//     the first instant after the gap (03:00 for 02:30 in Berlin), on the same day;
//   - all other jobs (a wildcard, step, range or list in second, minute or hour, e.g.
//     `*/15 * * * *`, `0 1-3 * * *`): a repeated time fires on both occurrences, a
//     skipped time does not fire.
// `@every` ignores the zone: it fires at anchor + k * interval.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <date/tz.h>

#include "kernel/schedule/cron_expression.hpp"

namespace plexus::schedule {

class Schedule {
 public:
  // `zone` is an IANA name ("Europe/Berlin", "UTC"); an unknown one throws
  // std::invalid_argument naming it. `anchor` is where `@every` intervals start.
  Schedule(CronExpression expression, const std::string& zone,
           std::chrono::sys_seconds anchor = std::chrono::sys_seconds{});

  const CronExpression& expression() const { return expression_; }
  const std::string& zone_name() const { return zone_name_; }

  // The first fire time strictly after `after`.
  std::chrono::sys_seconds next_fire_after(std::chrono::system_clock::time_point after) const;

 private:
  std::chrono::sys_seconds next_matching_instant(date::local_seconds from,
                                                 std::chrono::sys_seconds after) const;
  std::optional<std::chrono::sys_seconds> fire_instant(date::local_seconds local,
                                                       std::chrono::sys_seconds after) const;

  CronExpression expression_;
  std::string zone_name_;
  const date::time_zone* zone_;
  std::chrono::sys_seconds anchor_;
};

}  // namespace plexus::schedule
