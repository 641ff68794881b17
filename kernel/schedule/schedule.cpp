#include "kernel/schedule/schedule.hpp"

#include <algorithm>
#include <stdexcept>

namespace plexus::schedule {

namespace {

using std::chrono::seconds;
using std::chrono::sys_seconds;

const date::time_zone* find_zone(const std::string& name) {
  try {
    return date::locate_zone(name);
  } catch (const std::runtime_error&) {
    throw std::invalid_argument("unknown time zone '" + name +
                                "' (expected an IANA name such as Europe/Berlin or UTC)");
  }
}

// Floor division, so that times before the anchor land on the grid too.
std::int64_t intervals_before(seconds distance, seconds interval) {
  const auto quotient = distance / interval;
  return distance % interval < seconds{0} ? quotient - 1 : quotient;
}

// The instant a wall-clock time names under a given UTC offset.
sys_seconds at_offset(date::local_seconds local, seconds offset) {
  return sys_seconds{(local - offset).time_since_epoch()};
}

}  // namespace

Schedule::Schedule(CronExpression expression, const std::string& zone, sys_seconds anchor)
    : expression_(std::move(expression)), zone_name_(zone), zone_(find_zone(zone)), anchor_(anchor) {}

sys_seconds Schedule::next_fire_after(std::chrono::system_clock::time_point after_point) const {
  const auto after = std::chrono::floor<seconds>(after_point);  // fire times are whole seconds
  if (const auto interval = expression_.every())
    return anchor_ + (intervals_before(after - anchor_, *interval) + 1) * *interval;

  const auto local = zone_->to_local(after);
  auto next = next_matching_instant(local + seconds{1}, after);

  // In the first pass through a repeated hour the wall clock will come back: times
  // earlier than `local` fire again after the transition (non-fixed-time jobs only).
  const auto local_info = zone_->get_info(local);
  const bool first_pass =
      local_info.result == date::local_info::ambiguous && after < at_offset(local, local_info.second.offset);
  if (first_pass && !expression_.fixed_time()) {
    const auto transition = zone_->get_info(after).end;
    next = std::min(next, next_matching_instant(zone_->to_local(transition), transition - seconds{1}));
  }
  return next;
}

// Walks matching wall-clock times from `from` until one maps to an instant after `after`.
sys_seconds Schedule::next_matching_instant(date::local_seconds from, sys_seconds after) const {
  for (;;) {
    const auto match = expression_.first_match_at_or_after(from);
    if (const auto instant = fire_instant(match, after)) return *instant;
    from = match + seconds{1};
  }
}

// The instant a matching wall-clock time fires at, if it is after `after` (see the
// header for the DST rules).
std::optional<sys_seconds> Schedule::fire_instant(date::local_seconds local, sys_seconds after) const {
  const auto info = zone_->get_info(local);
  const auto later_than_after = [&](sys_seconds instant) {
    return instant > after ? std::optional{instant} : std::nullopt;
  };
  switch (info.result) {
    case date::local_info::unique: return later_than_after(at_offset(local, info.first.offset));
    case date::local_info::ambiguous: {
      const auto earlier = at_offset(local, info.first.offset);
      if (earlier > after) return earlier;
      if (expression_.fixed_time()) return std::nullopt;
      return later_than_after(at_offset(local, info.second.offset));
    }
    case date::local_info::nonexistent: {
      if (!expression_.fixed_time()) return std::nullopt;
      const auto transition = info.first.end;
      // Only on the same local day: a gap across midnight must not move a job to the next day.
      const auto transition_day = date::floor<date::days>(zone_->to_local(transition));
      if (transition_day != date::floor<date::days>(local)) return std::nullopt;
      return later_than_after(transition);
    }
  }
  return std::nullopt;
}

}  // namespace plexus::schedule
