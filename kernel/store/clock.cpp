#include "kernel/store/clock.hpp"

#include <cstdio>

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace plexus::store {

std::string format_time(TimePoint time) {
  const auto ms = std::chrono::time_point_cast<std::chrono::milliseconds>(time);
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z", std::chrono::floor<std::chrono::seconds>(ms),
                     static_cast<int>(ms.time_since_epoch().count() % 1000 + 1000) % 1000);
}

std::string utc_now() { return format_time(std::chrono::system_clock::now()); }

std::optional<TimePoint> parse_time(std::string_view text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, ms = 0;
  const std::string copy(text);
  int consumed = 0;
  if (std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &consumed) != 6) {
    return std::nullopt;
  }
  std::string_view rest = text.substr(static_cast<std::size_t>(consumed));
  if (rest.size() == 5 && rest[0] == '.') {
    for (char c : rest.substr(1, 3)) {
      if (c < '0' || c > '9') return std::nullopt;
      ms = ms * 10 + (c - '0');
    }
    rest = rest.substr(4);
  }
  if (rest != "Z") return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year{y}, std::chrono::month{static_cast<unsigned>(mo)},
                                         std::chrono::day{static_cast<unsigned>(d)}};
  if (!date.ok() || h > 23 || mi > 59 || s > 60) return std::nullopt;
  return std::chrono::sys_days{date} + std::chrono::hours{h} + std::chrono::minutes{mi} + std::chrono::seconds{s} +
         std::chrono::milliseconds{ms};
}

}  // namespace plexus::store
