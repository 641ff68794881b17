// Next fire times: the calendar rules, @every, time zones and daylight saving time
// (the rules in kernel/schedule/schedule.hpp, which follow croner).
#include "kernel/schedule/schedule.hpp"

#include <catch2/catch.hpp>

using plexus::schedule::CronExpression;
using plexus::schedule::Schedule;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using std::chrono::sys_seconds;

namespace {

sys_seconds utc(int year, unsigned month, unsigned day, int hour, int minute, int second = 0) {
  return date::sys_days{date::year{year} / month / day} + hours{hour} + minutes{minute} + seconds{second};
}

// The next `count` fire times after `from`.
std::vector<sys_seconds> fires(const std::string& expression, const std::string& zone, sys_seconds from,
                               std::size_t count) {
  const Schedule schedule(CronExpression::parse(expression), zone);
  std::vector<sys_seconds> out;
  while (out.size() < count) out.push_back(from = schedule.next_fire_after(from));
  return out;
}

sys_seconds first_fire(const std::string& expression, const std::string& zone, sys_seconds from) {
  return fires(expression, zone, from, 1).front();
}

}  // namespace

TEST_CASE("the next fire time is strictly after the given time") {
  CHECK(first_fire("*/5 * * * *", "UTC", utc(2025, 6, 1, 10, 2, 30)) == utc(2025, 6, 1, 10, 5));
  CHECK(first_fire("*/5 * * * *", "UTC", utc(2025, 6, 1, 10, 5)) == utc(2025, 6, 1, 10, 10));
  const Schedule schedule(CronExpression::parse("*/5 * * * *"), "UTC");
  CHECK(schedule.next_fire_after(utc(2025, 6, 1, 10, 4, 59) + milliseconds{999}) == utc(2025, 6, 1, 10, 5));
  CHECK(schedule.next_fire_after(utc(2025, 6, 1, 10, 5) + milliseconds{1}) == utc(2025, 6, 1, 10, 10));
}

TEST_CASE("fields, steps, ranges, lists and the seconds field") {
  CHECK(fires("*/20 * * * * *", "UTC", utc(2025, 6, 1, 10, 0, 5), 3) ==
        std::vector{utc(2025, 6, 1, 10, 0, 20), utc(2025, 6, 1, 10, 0, 40), utc(2025, 6, 1, 10, 1, 0)});
  CHECK(fires("0 9-17/4 * * *", "UTC", utc(2025, 6, 1, 0, 0), 4) ==
        std::vector{utc(2025, 6, 1, 9, 0), utc(2025, 6, 1, 13, 0), utc(2025, 6, 1, 17, 0),
                    utc(2025, 6, 2, 9, 0)});
  CHECK(fires("15,45 23 31 * *", "UTC", utc(2025, 1, 31, 23, 30), 3) ==
        std::vector{utc(2025, 1, 31, 23, 45), utc(2025, 3, 31, 23, 15), utc(2025, 3, 31, 23, 45)});
  CHECK(first_fire("0 0 29 2 *", "UTC", utc(2025, 1, 1, 0, 0)) == utc(2028, 2, 29, 0, 0));
  CHECK(first_fire("0 12 * DEC *", "UTC", utc(2025, 6, 1, 0, 0)) == utc(2025, 12, 1, 12, 0));
}

TEST_CASE("day-of-month and day-of-week: either matches when both are restricted") {
  // July 2025: the 4th, 11th and 18th are Fridays, the 13th a Sunday.
  CHECK(fires("0 0 13 * FRI", "UTC", utc(2025, 6, 28, 0, 0), 4) ==
        std::vector{utc(2025, 7, 4, 0, 0), utc(2025, 7, 11, 0, 0), utc(2025, 7, 13, 0, 0),
                    utc(2025, 7, 18, 0, 0)});
  // Only a `*` leaves a field unrestricted: `*/10` days OR Mondays (the 7th and 14th).
  CHECK(fires("0 0 */10 * MON", "UTC", utc(2025, 7, 1, 0, 0), 4) ==
        std::vector{utc(2025, 7, 7, 0, 0), utc(2025, 7, 11, 0, 0), utc(2025, 7, 14, 0, 0),
                    utc(2025, 7, 21, 0, 0)});
  CHECK(fires("0 0 * * MON", "UTC", utc(2025, 7, 1, 0, 0), 2) ==
        std::vector{utc(2025, 7, 7, 0, 0), utc(2025, 7, 14, 0, 0)});
  CHECK(fires("0 0 13 * *", "UTC", utc(2025, 7, 1, 0, 0), 2) ==
        std::vector{utc(2025, 7, 13, 0, 0), utc(2025, 8, 13, 0, 0)});
  // 0 and 7 are both Sunday.
  CHECK(first_fire("0 0 * * 7", "UTC", utc(2025, 7, 1, 0, 0)) == utc(2025, 7, 6, 0, 0));
  CHECK(first_fire("0 0 * * 0", "UTC", utc(2025, 7, 1, 0, 0)) == utc(2025, 7, 6, 0, 0));
}

TEST_CASE("macros") {
  const auto from = utc(2025, 7, 2, 10, 30);  // a Wednesday
  CHECK(first_fire("@yearly", "UTC", from) == utc(2026, 1, 1, 0, 0));
  CHECK(first_fire("@annually", "UTC", from) == utc(2026, 1, 1, 0, 0));
  CHECK(first_fire("@monthly", "UTC", from) == utc(2025, 8, 1, 0, 0));
  CHECK(first_fire("@weekly", "UTC", from) == utc(2025, 7, 6, 0, 0));
  CHECK(first_fire("@daily", "UTC", from) == utc(2025, 7, 3, 0, 0));
  CHECK(first_fire("@midnight", "UTC", from) == utc(2025, 7, 3, 0, 0));
  CHECK(first_fire("@hourly", "UTC", from) == utc(2025, 7, 2, 11, 0));
}

TEST_CASE("@every fires at fixed intervals from the anchor, whatever the zone") {
  const auto every_90m = CronExpression::parse("@every 1h30m");
  const Schedule from_epoch(every_90m, "UTC");
  CHECK(from_epoch.next_fire_after(utc(2025, 1, 1, 0, 0)) ==
        utc(2025, 1, 1, 1, 30));  // 2025-01-01 is on the grid
  CHECK(from_epoch.next_fire_after(utc(2025, 1, 1, 0, 10)) == utc(2025, 1, 1, 1, 30));
  const Schedule anchored(every_90m, "Europe/Berlin", utc(2025, 3, 30, 0, 10));
  CHECK(anchored.next_fire_after(utc(2025, 3, 30, 0, 0)) ==
        utc(2025, 3, 30, 0, 10));  // before the anchor too
  // Across the spring-forward change (01:00Z) the interval stays 90 real minutes.
  CHECK(anchored.next_fire_after(utc(2025, 3, 30, 0, 10)) == utc(2025, 3, 30, 1, 40));
  CHECK(anchored.next_fire_after(utc(2025, 3, 30, 0, 9, 59)) == utc(2025, 3, 30, 0, 10));
}

TEST_CASE("an unknown time zone is an error naming it") {
  const auto daily = CronExpression::parse("@daily");
  CHECK_THROWS_AS(Schedule(daily, "Europe/Berln"), std::invalid_argument);
  CHECK_THROWS_WITH(Schedule(daily, "Europe/Berln"), Catch::Contains("unknown time zone 'Europe/Berln'"));
}

TEST_CASE("time zones without DST: Asia/Seoul and UTC") {
  CHECK(fires("30 2 * * *", "Asia/Seoul", utc(2025, 3, 29, 12, 0), 2) ==
        std::vector{utc(2025, 3, 29, 17, 30), utc(2025, 3, 30, 17, 30)});
  CHECK(fires("30 2 * * *", "UTC", utc(2025, 3, 29, 12, 0), 2) ==
        std::vector{utc(2025, 3, 30, 2, 30), utc(2025, 3, 31, 2, 30)});
}

// Berlin: 2025-03-30 02:00 CET becomes 03:00 CEST (01:00Z); 2025-10-26 03:00 CEST
// becomes 02:00 CET (01:00Z), so 02:00-02:59 happens twice.
TEST_CASE("Europe/Berlin: a fixed-time job in the gap runs after it, in the repeat once") {
  CHECK(fires("30 2 * * *", "Europe/Berlin", utc(2025, 3, 29, 12, 0), 2) ==
        std::vector{utc(2025, 3, 30, 1, 0), utc(2025, 3, 31, 0, 30)});  // 03:00 CEST, then 02:30 CEST
  CHECK(fires("0 30 2 * * *", "Europe/Berlin", utc(2025, 3, 29, 12, 0), 1) ==
        std::vector{utc(2025, 3, 30, 1, 0)});
  CHECK(fires("30 2 * * *", "Europe/Berlin", utc(2025, 10, 25, 12, 0), 2) ==
        std::vector{utc(2025, 10, 26, 0, 30), utc(2025, 10, 27, 1, 30)});  // 02:30 CEST only, then 02:30 CET
  // Started in the first pass after its time: not again in the second pass.
  CHECK(first_fire("0 2 * * *", "Europe/Berlin", utc(2025, 10, 26, 0, 30)) == utc(2025, 10, 27, 1, 0));
}

TEST_CASE("Europe/Berlin: other jobs skip the gap and run in both passes of the repeat") {
  CHECK(fires("*/30 * * * *", "Europe/Berlin", utc(2025, 3, 30, 0, 20), 2) ==
        std::vector{utc(2025, 3, 30, 0, 30), utc(2025, 3, 30, 1, 0)});  // 01:30 CET, 03:00 CEST
  CHECK(fires("0 1-3 * * *", "Europe/Berlin", utc(2025, 3, 29, 23, 30), 3) ==
        std::vector{utc(2025, 3, 30, 0, 0), utc(2025, 3, 30, 1, 0), utc(2025, 3, 30, 23, 0)});  // no 02:00
  CHECK(fires("*/30 * * * *", "Europe/Berlin", utc(2025, 10, 26, 0, 10), 5) ==
        std::vector{utc(2025, 10, 26, 0, 30), utc(2025, 10, 26, 1, 0), utc(2025, 10, 26, 1, 30),
                    utc(2025, 10, 26, 2, 0),
                    utc(2025, 10, 26, 2, 30)});  // 02:30 CEST, 02:00 CET, 02:30 CET, 03:00 CET, 03:30 CET
  CHECK(fires("0 1-3 * * *", "Europe/Berlin", utc(2025, 10, 25, 22, 30), 4) ==
        std::vector{utc(2025, 10, 25, 23, 0), utc(2025, 10, 26, 0, 0), utc(2025, 10, 26, 1, 0),
                    utc(2025, 10, 26, 2, 0)});
  // Started late in the first pass, the wall clock comes back: 02:00 CET is next.
  CHECK(first_fire("*/30 * * * *", "Europe/Berlin", utc(2025, 10, 26, 0, 45)) == utc(2025, 10, 26, 1, 0));
  CHECK(first_fire("*/30 * * * *", "Europe/Berlin", utc(2025, 10, 26, 1, 15)) == utc(2025, 10, 26, 1, 30));
  CHECK(first_fire("30 2,14 * * *", "Europe/Berlin", utc(2025, 10, 26, 0, 45)) == utc(2025, 10, 26, 1, 30));
}

// New York: 2025-03-09 02:00 EST becomes 03:00 EDT (07:00Z); 2025-11-02 02:00 EDT
// becomes 01:00 EST (06:00Z), so 01:00-01:59 happens twice.
TEST_CASE("America/New_York across both changes") {
  CHECK(first_fire("30 2 * * *", "America/New_York", utc(2025, 3, 9, 5, 0)) == utc(2025, 3, 9, 7, 0));
  CHECK(fires("30 1 * * *", "America/New_York", utc(2025, 11, 2, 4, 0), 2) ==
        std::vector{utc(2025, 11, 2, 5, 30), utc(2025, 11, 3, 6, 30)});
  CHECK(fires("*/20 1 * * *", "America/New_York", utc(2025, 11, 2, 4, 0), 6) ==
        std::vector{utc(2025, 11, 2, 5, 0), utc(2025, 11, 2, 5, 20), utc(2025, 11, 2, 5, 40),
                    utc(2025, 11, 2, 6, 0), utc(2025, 11, 2, 6, 20), utc(2025, 11, 2, 6, 40)});
  CHECK(fires("*/20 2 * * *", "America/New_York", utc(2025, 3, 9, 5, 0), 1) ==
        std::vector{utc(2025, 3, 10, 6, 0)});
}

// Sydney (southern hemisphere): 2025-04-06 03:00 AEDT becomes 02:00 AEST (16:00Z the
// day before), 2025-10-05 02:00 AEST becomes 03:00 AEDT (2025-10-04 16:00Z).
TEST_CASE("Australia/Sydney: DST ends in April and starts in October") {
  CHECK(fires("30 2 * * *", "Australia/Sydney", utc(2025, 4, 5, 12, 0), 2) ==
        std::vector{utc(2025, 4, 5, 15, 30), utc(2025, 4, 6, 16, 30)});
  CHECK(fires("0,30 2 * * *", "Australia/Sydney", utc(2025, 4, 5, 12, 0), 4) ==
        std::vector{utc(2025, 4, 5, 15, 0), utc(2025, 4, 5, 15, 30), utc(2025, 4, 5, 16, 0),
                    utc(2025, 4, 5, 16, 30)});
  CHECK(fires("30 2 * * *", "Australia/Sydney", utc(2025, 10, 4, 12, 0), 2) ==
        std::vector{utc(2025, 10, 4, 16, 0), utc(2025, 10, 5, 15, 30)});
  CHECK(first_fire("0,30 2 * * *", "Australia/Sydney", utc(2025, 10, 4, 12, 0)) == utc(2025, 10, 5, 15, 0));
}
