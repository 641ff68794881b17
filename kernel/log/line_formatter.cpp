#include "kernel/log/line_formatter.hpp"

#include <chrono>
#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace plexus::log {
namespace {

// 2026-11-27T06:41:43.123Z
void append_utc_time(spdlog::log_clock::time_point time, spdlog::memory_buf_t& dest) {
  const auto since_epoch = time.time_since_epoch();
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - seconds).count();
  const std::time_t t = seconds.count();
  std::tm tm{};
  gmtime_r(&t, &tm);
  fmt::format_to(std::back_inserter(dest), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
}

std::string_view level_name(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace: return "trace";
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    case spdlog::level::err: return "error";
    case spdlog::level::critical: return "critical";
    default: return "off";
  }
}

}  // namespace

LineFormatter::LineFormatter(Format format, Redactor redactor)
    : format_(format), redactor_(std::move(redactor)) {}

void LineFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  const std::string message = redactor_(std::string_view(msg.payload.data(), msg.payload.size()));
  const std::string_view logger(msg.logger_name.data(), msg.logger_name.size());
  const std::string_view request_id = current_request_id();
  if (format_ == Format::json) {
    spdlog::memory_buf_t time;
    append_utc_time(msg.time, time);
    nlohmann::json line{{"time", std::string_view(time.data(), time.size())},
                        {"level", level_name(msg.level)},
                        {"logger", logger},
                        {"message", message}};
    if (!request_id.empty()) line["request_id"] = request_id;
    // Invalid UTF-8 in a message must not throw out of the logger.
    const std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    dest.append(text.data(), text.data() + text.size());
  } else {
    append_utc_time(msg.time, dest);
    fmt::format_to(std::back_inserter(dest), " {:<5} {} [{}] {}", level_name(msg.level), logger,
                   request_id.empty() ? std::string_view("-") : request_id, message);
  }
  dest.push_back('\n');
}

std::unique_ptr<spdlog::formatter> LineFormatter::clone() const {
  return std::make_unique<LineFormatter>(format_, redactor_);
}

}  // namespace plexus::log
