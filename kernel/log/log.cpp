#include "kernel/log/log.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <shared_mutex>
#include <stdexcept>

#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "kernel/log/line_formatter.hpp"

namespace plexus::log {
namespace {

// Logging is process-wide by nature (spdlog's own registry is too); this is its one state.
struct State {
  std::mutex mutex;
  Options options;
  std::vector<spdlog::sink_ptr> sinks;
  std::map<std::string, std::shared_ptr<spdlog::logger>, std::less<>> loggers;

  std::shared_mutex secrets_mutex;
  std::vector<std::string> secrets;
};

State& state() {
  static State instance;
  return instance;
}

thread_local std::string current_request;
// Read on every request by the HTTP server: no lock.
std::atomic<bool> debug_enabled{false};

spdlog::level::level_enum parse_level(std::string_view name) {
  static const std::pair<std::string_view, spdlog::level::level_enum> names[] = {
      {"trace", spdlog::level::trace}, {"debug", spdlog::level::debug},     {"info", spdlog::level::info},
      {"warn", spdlog::level::warn},   {"warning", spdlog::level::warn},    {"error", spdlog::level::err},
      {"critical", spdlog::level::critical}, {"off", spdlog::level::off}};
  for (const auto& [text, level] : names) {
    if (text == name) return level;
  }
  throw std::invalid_argument("unknown log level '" + std::string(name) +
                              "' (expected trace, debug, info, warn, error, critical or off)");
}

// "http.access" takes its own entry, else "http"'s, else the default.
spdlog::level::level_enum resolve_level(const Options& options, std::string_view name) {
  std::string_view candidate = name;
  while (true) {
    auto it = options.loggers.find(std::string(candidate));
    if (it != options.loggers.end()) return parse_level(it->second);
    const auto dot = candidate.rfind('.');
    if (dot == std::string_view::npos) break;
    candidate = candidate.substr(0, dot);
  }
  if (options.debug && options.level == "info") return spdlog::level::debug;
  return parse_level(options.level);
}

std::vector<spdlog::sink_ptr> make_sinks(const Options& options) {
  std::vector<spdlog::sink_ptr> sinks;
  if (options.console) sinks.push_back(std::make_shared<spdlog::sinks::stderr_sink_mt>());
  if (!options.file.empty()) {
    std::filesystem::create_directories(options.file.parent_path());
    sinks.push_back(std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
        options.file.string(), options.file_max_size, options.file_max_files));
  }
  for (auto& sink : sinks) {
    sink->set_formatter(std::make_unique<LineFormatter>(options.format, redact));
    sink->set_level(spdlog::level::trace);
  }
  return sinks;
}

std::shared_ptr<spdlog::logger> make_logger(State& s, std::string_view name) {
  auto logger = std::make_shared<spdlog::logger>(std::string(name), s.sinks.begin(), s.sinks.end());
  logger->set_level(resolve_level(s.options, name));
  logger->flush_on(spdlog::level::warn);
  return logger;
}

}  // namespace

void configure(const Options& options) {
  // Validate every level before changing anything.
  parse_level(options.level);
  for (const auto& [name, level] : options.loggers) parse_level(level);

  State& s = state();
  std::lock_guard lock(s.mutex);
  s.options = options;
  debug_enabled = options.debug;
  s.sinks = make_sinks(options);
  for (auto& [name, logger] : s.loggers) {
    logger->sinks() = s.sinks;
    logger->set_level(resolve_level(s.options, name));
  }
}

std::shared_ptr<spdlog::logger> get(std::string_view name) {
  State& s = state();
  std::lock_guard lock(s.mutex);
  auto it = s.loggers.find(name);
  if (it != s.loggers.end()) return it->second;
  if (s.sinks.empty() && s.options.console) s.sinks = make_sinks(s.options);
  auto logger = make_logger(s, name);
  s.loggers.emplace(std::string(name), logger);
  return logger;
}

void set_level(std::string_view logger, std::string_view level) {
  if (!level.empty()) parse_level(level);
  State& s = state();
  std::lock_guard lock(s.mutex);
  if (level.empty()) {
    s.options.loggers.erase(std::string(logger));
  } else {
    s.options.loggers[std::string(logger)] = std::string(level);
  }
  for (auto& [name, existing] : s.loggers) existing->set_level(resolve_level(s.options, name));
}

std::map<std::string, std::string> levels() {
  State& s = state();
  std::lock_guard lock(s.mutex);
  std::map<std::string, std::string> result;
  for (const auto& [name, logger] : s.loggers) {
    const auto view = spdlog::level::to_string_view(logger->level());
    result[name] = std::string(view.data(), view.size());
  }
  return result;
}

bool debug_mode() { return debug_enabled.load(std::memory_order_relaxed); }

void add_secret(std::string_view value) {
  // Very short values would mask ordinary words; they are not credible secrets anyway.
  if (value.size() < 4) return;
  State& s = state();
  std::unique_lock lock(s.secrets_mutex);
  if (std::find(s.secrets.begin(), s.secrets.end(), value) == s.secrets.end()) s.secrets.emplace_back(value);
  // Longest first, so a secret containing another is masked whole.
  std::sort(s.secrets.begin(), s.secrets.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
}

std::string redact(std::string_view text) {
  std::string result(text);
  State& s = state();
  std::shared_lock lock(s.secrets_mutex);
  for (const auto& secret : s.secrets) {
    for (auto pos = result.find(secret); pos != std::string::npos; pos = result.find(secret, pos + 3)) {
      result.replace(pos, secret.size(), "***");
    }
  }
  return result;
}

RequestScope::RequestScope(std::string_view request_id) : previous_(std::move(current_request)) {
  current_request.assign(request_id);
}

RequestScope::~RequestScope() { current_request = std::move(previous_); }

std::string_view current_request_id() { return current_request; }

void flush() {
  State& s = state();
  std::lock_guard lock(s.mutex);
  for (auto& sink : s.sinks) sink->flush();
}

}  // namespace plexus::log
