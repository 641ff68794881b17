// Issue 6's cross-check of next fire times with an independent implementation, npm
// croner (tests/js/cron_next.mjs): a few hundred expressions generated from a fixed
// seed (steps, ranges, lists, names, a seconds field, macros, day-of-month with
// day-of-week), each started around the DST transitions of several zones; the next 5
// fire times must agree. Needs node and tests/js/node_modules (tools/test runs npm ci);
// fails without them.
#include <charconv>
#include <filesystem>
#include <random>
#include <sstream>

#include <catch2/catch.hpp>
#include <date/tz.h>
#include <nlohmann/json.hpp>

#include "kernel/schedule/schedule.hpp"
#include "tests/support/node_js.hpp"
#include "tests/support/test_support.hpp"

using plexus::schedule::CronExpression;
using plexus::schedule::Schedule;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using std::chrono::sys_seconds;

namespace {

constexpr int kRunsPerCase = 5;

struct Case {
  std::string expression;
  std::string zone;
  sys_seconds from;
};

const std::vector<std::string> kZones{"Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Seoul",
                                      "UTC"};

// The zone's offset changes in 2025 and 2026; for zones without DST, instants where
// Berlin changes, so those zones are exercised at the same moments.
std::vector<sys_seconds> transitions(const std::string& zone_name) {
  std::vector<sys_seconds> out;
  const auto* zone = date::locate_zone(zone_name);
  const sys_seconds end{date::sys_days{date::year{2027} / 1 / 1}};
  for (auto info = zone->get_info(sys_seconds{date::sys_days{date::year{2025} / 1 / 1}}); info.end < end;
       info = zone->get_info(info.end))
    out.push_back(info.end);
  return out.empty() ? transitions("Europe/Berlin") : out;
}

std::string iso(sys_seconds t) { return date::format("%FT%TZ", t); }

std::string local(sys_seconds t, const std::string& zone) {
  return date::format("%F %T %Z", date::zoned_time<seconds>{zone, t});
}

// Hand-picked jobs whose DST behaviour differs (fixed-time or not, gap or repeat).
const std::vector<std::string> kDstExpressions{
    "30 2 * * *",   "0 2 * * *",   "0 3 * * *",     "59 1 * * *",     "0 30 2 * * *",
    "*/15 * * * *", "0 1-3 * * *", "30 2,14 * * *", "0 */30 * * * *", "* 2 * * *",
    "0 2 * * SUN",  "@hourly",     "@daily"};

std::vector<std::string> generated_expressions(std::mt19937& rng, int count) {
  const auto pick = [&](const std::vector<std::string>& options) { return options[rng() % options.size()]; };
  const std::vector<std::string> macros{"@yearly", "@annually", "@monthly", "@weekly",
                                        "@daily",  "@midnight", "@hourly"};
  const std::vector<std::string> second{"0", "30", "*/15", "0,30", "10-20/5", "*/20", "45"};
  const std::vector<std::string> minute{"*",     "0",      "30",   "*/5", "*/15",
                                        "15,45", "0-10/5", "5-20", "59",  "0,30"};
  const std::vector<std::string> hour{"*",   "2",    "1",      "3",    "0",  "1-3",
                                      "*/6", "2,14", "0-23/2", "8-17", "23", "*/4"};
  const std::vector<std::string> day_of_month{"*", "*", "*", "1", "15", "1-7", "*/2", "10,20", "13", "28"};
  const std::vector<std::string> month{"*",   "*",           "*",       "3", "10,11", "MAR-NOV",
                                       "*/3", "JAN,APR,OCT", "mar,oct", "4", "11"};
  const std::vector<std::string> day_of_week{"*",       "*",   "*",       "0", "7",   "SUN",
                                             "MON-FRI", "1-5", "SAT,SUN", "5", "*/2", "tue"};
  std::vector<std::string> out;
  for (int i = 0; i < count; ++i) {
    if (rng() % 10 == 0) {
      out.push_back(pick(macros));
      continue;
    }
    std::string expression = rng() % 10 < 3 ? pick(second) + " " : "";
    expression += pick(minute) + " " + pick(hour) + " " + pick(day_of_month) + " " + pick(month) + " " +
                  pick(day_of_week);
    out.push_back(expression);
  }
  return out;
}

std::vector<Case> crosscheck_cases() {
  std::mt19937 rng(20261127);  // fixed: the same cases on every run
  const std::vector<seconds> offsets{-hours{26},
                                     -hours{3},
                                     -minutes{90},
                                     -minutes{61},
                                     -hours{1},
                                     -minutes{30},
                                     -seconds{1},
                                     seconds{0},
                                     seconds{1},
                                     minutes{30},
                                     minutes{59} + seconds{59},
                                     hours{1},
                                     hours{2},
                                     hours{25}};
  std::vector<Case> cases;
  for (const auto& expression : generated_expressions(rng, 300)) {
    for (int i = 0; i < 4; ++i) {
      const auto& zone = kZones[rng() % kZones.size()];
      const auto zone_transitions = transitions(zone);
      const auto transition = zone_transitions[rng() % zone_transitions.size()];
      cases.push_back({expression, zone, transition + offsets[rng() % offsets.size()]});
    }
  }
  for (const auto& expression : kDstExpressions)
    for (const auto& zone : kZones)
      for (const auto transition : transitions(zone))
        for (const seconds offset : {seconds{-5400}, seconds{-1}, seconds{1800}})
          cases.push_back({expression, zone, transition + offset});
  return cases;
}

// croner's next fire times for every case, one node run.
nlohmann::json croner_runs(const std::vector<Case>& cases) {
  nlohmann::json input = nlohmann::json::array();
  for (const auto& c : cases)
    input.push_back({{"expression", c.expression}, {"zone", c.zone}, {"from", iso(c.from)}});
  const auto result = plexus::test::run_command(
      {plexus::test::node_binary("croner"), (plexus::test::js_dir() / "cron_next.mjs").string(), "--count",
       std::to_string(kRunsPerCase)},
      input.dump());
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  auto output = nlohmann::json::parse(result.out);
  REQUIRE(output.size() == cases.size());
  return output;
}

// "2025-03-30T01:00:00Z", as cron_next.mjs prints it.
sys_seconds parse_iso(const std::string& text) {
  REQUIRE(text.size() == 20);
  const auto number = [&](std::size_t offset, std::size_t length) {
    int value = 0;
    const auto [end, error] = std::from_chars(text.data() + offset, text.data() + offset + length, value);
    REQUIRE((error == std::errc{} && end == text.data() + offset + length));
    return value;
  };
  const date::year_month_day day{date::year{number(0, 4)}, date::month(static_cast<unsigned>(number(5, 2))),
                                 date::day(static_cast<unsigned>(number(8, 2)))};
  return date::sys_days{day} + hours{number(11, 2)} + minutes{number(14, 2)} + seconds{number(17, 2)};
}

std::string describe(const std::vector<std::string>& runs, const std::string& zone) {
  std::ostringstream out;
  for (const auto& run : runs) out << "\n    " << run << "  (" << local(parse_iso(run), zone) << ")";
  return out.str();
}

}  // namespace

TEST_CASE("next fire times agree with croner on generated expressions around DST transitions") {
  const auto cases = crosscheck_cases();
  REQUIRE(cases.size() > 1000);
  const auto expected = croner_runs(cases);

  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    INFO("case " << i << ": '" << c.expression << "' in " << c.zone << " after " << iso(c.from) << " ("
                 << local(c.from, c.zone) << ")");
    REQUIRE_FALSE(expected[i].contains("error"));
    const auto croner = expected[i].at("runs").get<std::vector<std::string>>();
    REQUIRE(croner.size() == kRunsPerCase);

    const Schedule schedule(CronExpression::parse(c.expression), c.zone);
    std::vector<std::string> ours;
    for (auto t = c.from; ours.size() < croner.size();) {
      t = schedule.next_fire_after(t);
      ours.push_back(iso(t));
    }
    if (ours != croner)
      FAIL("croner:" << describe(croner, c.zone) << "\n  plexus_schedule:" << describe(ours, c.zone));
  }
}
