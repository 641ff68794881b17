// Parsing cron expressions: the accepted syntax, and errors that name the field and the token.
#include "kernel/schedule/cron_expression.hpp"

#include <catch2/catch.hpp>

using plexus::schedule::CronExpression;
using plexus::schedule::CronParseError;

namespace {

// The error parse() throws for `text`; fails the test when it parses.
CronParseError parse_error(const std::string& text) {
  try {
    CronExpression::parse(text);
  } catch (const CronParseError& error) {
    return error;
  }
  FAIL("'" << text << "' parsed, expected an error");
  throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("valid expressions parse") {
  for (const auto* text : {"* * * * *",       "*/5 * * * *",    "0 9-17 * * MON-FRI",
                           "0,30 8 1,15 * *", "1-10/2 * * * *", "0 0 1 jan-mar *",
                           "0 0 * * sun",     "0 0 * * 7",      "0 0 * * 0-7",
                           "*/15 * * * * *",  "  0 0 * * *  ",  "@yearly",
                           "@annually",       "@monthly",       "@weekly",
                           "@daily",          "@midnight",      "@hourly",
                           "@DAILY",          "@every 30s",     "0 0 30 2 MON"})
    CHECK_NOTHROW(CronExpression::parse(text));
  CHECK(CronExpression::parse("  0 0 * * *  ").text() == "0 0 * * *");
}

TEST_CASE("@every takes a duration in descending units") {
  CHECK(CronExpression::parse("@every 30s").every() == std::chrono::seconds{30});
  CHECK(CronExpression::parse("@every 5m").every() == std::chrono::minutes{5});
  CHECK(CronExpression::parse("@every 1h30m").every() == std::chrono::minutes{90});
  CHECK(CronExpression::parse("@every 2d").every() == std::chrono::hours{48});
  CHECK_FALSE(CronExpression::parse("*/5 * * * *").every());
}

TEST_CASE("fixed-time jobs have a single second, minute and hour") {
  CHECK(CronExpression::parse("30 2 * * *").fixed_time());
  CHECK(CronExpression::parse("0 30 2 * * *").fixed_time());
  CHECK(CronExpression::parse("@daily").fixed_time());
  CHECK(CronExpression::parse("0 0 1 * MON").fixed_time());
  CHECK_FALSE(CronExpression::parse("30 2,14 * * *").fixed_time());
  CHECK_FALSE(CronExpression::parse("0 1-3 * * *").fixed_time());
  CHECK_FALSE(CronExpression::parse("*/5 * * * *").fixed_time());
  CHECK_FALSE(CronExpression::parse("*/30 30 2 * * *").fixed_time());
  CHECK_FALSE(CronExpression::parse("@hourly").fixed_time());
}

TEST_CASE("invalid expressions name the field and the token") {
  struct Bad {
    const char* text;
    const char* field;
    const char* token;
    const char* message_part;
  };
  for (const auto& bad : {
           Bad{"", "expression", "", "empty"},
           Bad{"* * * *", "expression", "* * * *", "expected 5 fields"},
           Bad{"0 0 0 1 1 * 2025", "expression", "0 0 0 1 1 * 2025", "got 7"},
           Bad{"60 * * * *", "minute", "60", "60 is outside 0-59"},
           Bad{"* 24 * * *", "hour", "24", "outside 0-23"},
           Bad{"61 * * * * *", "second", "61", "outside 0-59"},
           Bad{"* * 0 * *", "day-of-month", "0", "outside 1-31"},
           Bad{"* * * 13 *", "month", "13", "outside 1-12"},
           Bad{"* * * FOO *", "month", "FOO", "not a number or a name"},
           Bad{"* * * * 8", "day-of-week", "8", "outside 0-7"},
           Bad{"* * * * MON-FUN", "day-of-week", "MON-FUN", "'FUN' is not a number or a name"},
           Bad{"x * * * *", "minute", "x", "not a number"},
           Bad{"*/0 * * * *", "minute", "*/0", "step '0'"},
           Bad{"*/61 * * * *", "minute", "*/61", "from 1 to 60"},
           Bad{"5/5 * * * *", "minute", "5/5", "a step needs '*' or a range"},
           Bad{"10-5 * * * *", "minute", "10-5", "runs backwards"},
           Bad{"1,,2 * * * *", "minute", "", "empty list item"},
           Bad{"0 0 30 2 *", "day-of-month", "30", "never fire"},
           Bad{"0 0 31 4,6,9,11 *", "day-of-month", "31", "never fire"},
           Bad{"@fortnightly", "expression", "@fortnightly", "unknown macro"},
           Bad{"@daily 5", "expression", "@daily 5", "a macro stands alone"},
           Bad{"@every", "every", "@every", "expected '@every <duration>'"},
           Bad{"@every 0s", "every", "0s", "at least 1s"},
           Bad{"@every 5x", "every", "5x", "unit 'x'"},
           Bad{"@every 30m1h", "every", "30m1h", "out of order"},
           Bad{"@every 1h30", "every", "1h30", "<number><unit>"},
       }) {
    INFO("expression: '" << bad.text << "'");
    const auto error = parse_error(bad.text);
    CHECK(error.field() == bad.field);
    CHECK(error.token() == bad.token);
    CHECK_THAT(error.what(), Catch::Contains(bad.message_part));
    CHECK_THAT(error.what(), Catch::StartsWith(std::string(bad.field) + " '" + bad.token + "': "));
  }
}
