// One log format for every component (COM-8): UTC time, level, logger, request id,
// message; text or JSON lines; console and rotating file together; a level per
// logger that can change at runtime; known secrets masked before anything is written.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/logger.h>

namespace plexus::log {

enum class Format { text, json };

struct Options {
  std::string level = "info";             // default for loggers without their own entry
  std::map<std::string, std::string> loggers;  // "http.access" -> "warn"; a name also covers its children
  Format format = Format::text;
  bool console = true;
  std::filesystem::path file;  // empty: no file
  std::size_t file_max_size = 20 * 1024 * 1024;
  std::size_t file_max_files = 5;
  bool debug = false;  // debug mode: default level debug and request details logged
};

// Installs the sinks and levels; loggers created before and after follow them.
// Throws std::invalid_argument on an unknown level name.
void configure(const Options& options);

// The logger for a component ("http", "http.access", "plugin.hello"), created on first use.
std::shared_ptr<spdlog::logger> get(std::string_view name);

// Runtime change; an empty level removes the logger's own entry. Throws on an unknown level.
void set_level(std::string_view logger, std::string_view level);
// Every logger with its effective level, and the configured entries.
std::map<std::string, std::string> levels();
bool debug_mode();

// Values that must never reach a log line (passwords, keys, tokens); masked as "***".
void add_secret(std::string_view value);
// Masks registered secrets in `text`.
std::string redact(std::string_view text);

// Marks log lines written by this thread with a request id while in scope.
class RequestScope {
 public:
  explicit RequestScope(std::string_view request_id);
  ~RequestScope();
  RequestScope(const RequestScope&) = delete;
  RequestScope& operator=(const RequestScope&) = delete;

 private:
  std::string previous_;
};
std::string_view current_request_id();

// Flushes every sink (before exit, before a log download).
void flush();

}  // namespace plexus::log
