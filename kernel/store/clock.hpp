// Times as the store keeps them: ISO-8601 UTC text with milliseconds, which sorts
// and compares correctly as a string on SQLite and PostgreSQL alike.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace plexus::store {

using TimePoint = std::chrono::system_clock::time_point;

// "2026-11-27T09:07:03.123Z"
std::string format_time(TimePoint time);
std::string utc_now();
// Accepts what format_time writes, plus "...Z" without fraction; nullopt otherwise.
std::optional<TimePoint> parse_time(std::string_view text);

}  // namespace plexus::store
