#include "kernel/app/log_routes.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>

#include "kernel/audit/audit_log.hpp"
#include "kernel/http/access.hpp"
#include "kernel/http/router.hpp"
#include "kernel/log/log.hpp"

namespace plexus {
namespace {

using http::HttpError;
using http::Request;
using http::Response;

// A download is held in memory: the cap keeps one request from taking a node's RAM.
constexpr std::uint64_t kDownloadCap = 50ULL * 1024 * 1024;
constexpr std::size_t kMaxLines = 10'000'000;

const auth::Caller& caller_of(const Request& request) {
  static const auth::Caller anonymous;
  return request.caller ? *request.caller : anonymous;
}

void record(audit::AuditLog* audit, audit::AuditEvent event) {
  if (audit != nullptr) audit->record(std::move(event));
}

// Logger names as the kernel and plugins make them: "http.access", "plugin.hello".
bool valid_logger_name(std::string_view name) {
  return !name.empty() && name.size() <= 128 && std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '.' || c == '_' || c == '-';
  });
}

nlohmann::json levels_body() { return {{"levels", log::levels()}}; }

Response set_level(Request& request, audit::AuditLog* audit) {
  const std::string logger = request.path_params.at("logger");
  if (!valid_logger_name(logger))
    throw HttpError(400, "invalid_parameter",
                    "a logger name is letters, digits, '.', '_' and '-' (at most 128)",
                    {{"field", "logger"}});
  const auto body = request.json();
  if (!body.is_object() || !body.contains("level") || !body["level"].is_string())
    throw HttpError(400, "invalid_field",
                    "\"level\" is required: trace, debug, info, warn, error, critical, off, or "
                    "\"\" to fall back to the parent logger's level",
                    {{"field", "level"}});
  const std::string level = body["level"].get<std::string>();

  const auto before = log::levels();
  try {
    log::set_level(logger, level);
  } catch (const std::invalid_argument& e) {
    throw HttpError(400, "invalid_field", e.what(), {{"field", "level"}});
  }
  const auto& caller = caller_of(request);
  log::get("log")->info("level of logger '{}' set to '{}' by {}", logger,
                        level.empty() ? "(inherited)" : level, caller.actor());

  auto event = audit::event_of(caller, "logs.level", "logger/" + logger);
  const auto old = before.find(logger);
  event.before = {{"level", old == before.end() ? nlohmann::json(nullptr) : nlohmann::json(old->second)}};
  event.after = {{"level", level.empty() ? nlohmann::json(nullptr) : nlohmann::json(level)}};
  record(audit, std::move(event));
  return Response::json(200, levels_body());
}

std::optional<std::size_t> lines_parameter(const Request& request) {
  const auto it = request.query.find("lines");
  if (it == request.query.end()) return std::nullopt;
  std::size_t lines = 0;
  const auto& text = it->second;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), lines);
  if (text.empty() || error != std::errc{} || end != text.data() + text.size() || lines == 0 ||
      lines > kMaxLines)
    throw HttpError(400, "invalid_parameter",
                    "lines must be a whole number from 1 to " + std::to_string(kMaxLines),
                    {{"field", "lines"}});
  return lines;
}

// Where the last `lines` lines of a file of `size` bytes start, never before `floor`;
// scanning backwards in blocks so a big file is not read whole.
std::uint64_t start_of_last_lines(std::ifstream& file, std::uint64_t size, std::size_t lines,
                                  std::uint64_t floor, bool& reached_floor) {
  std::array<char, 64 * 1024> block{};
  std::uint64_t end = size;
  // A final newline ends the last line; it does not start another.
  if (end > floor) {
    file.seekg(static_cast<std::streamoff>(end - 1));
    if (file.get() == '\n') --end;
  }
  std::size_t newlines = 0;
  while (end > floor) {
    const std::uint64_t begin = std::max(floor, end > block.size() ? end - block.size() : 0);
    file.seekg(static_cast<std::streamoff>(begin));
    file.read(block.data(), static_cast<std::streamsize>(end - begin));
    for (std::uint64_t i = end - begin; i-- > 0;) {
      if (block[i] == '\n' && ++newlines == lines) return begin + i + 1;
    }
    end = begin;
  }
  reached_floor = floor > 0;
  return floor;
}

// Moves `start` past the next newline, so a cut file begins with a whole line.
std::uint64_t next_line_start(std::ifstream& file, std::uint64_t start, std::uint64_t size) {
  file.seekg(static_cast<std::streamoff>(start - 1));
  for (std::uint64_t at = start - 1; at < size; ++at) {
    if (file.get() == '\n') return at + 1;
  }
  return size;
}

// Safe inside a quoted Content-Disposition filename.
std::string attachment_name(const std::filesystem::path& file) {
  std::string name = file.filename().string();
  for (auto& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') c = '_';
  }
  return name.empty() ? "plexus.log" : name;
}

Response download(Request& request, const std::filesystem::path& log_file, audit::AuditLog* audit) {
  const auto lines = lines_parameter(request);
  if (log_file.empty())
    throw HttpError(404, "not_found",
                    "logging to a file is off (log.file: off); the log goes to the console only");
  log::flush();
  std::error_code ec;
  const auto size = std::filesystem::file_size(log_file, ec);
  std::ifstream file(log_file, std::ios::binary);
  if (ec || !file) throw HttpError(404, "not_found", "the log file does not exist (yet)");

  // The file only grows while we read: everything up to `size` is stable.
  const std::uint64_t floor = size > kDownloadCap ? size - kDownloadCap : 0;
  bool truncated = false;
  std::uint64_t start = floor;
  if (lines) {
    start = start_of_last_lines(file, size, *lines, floor, truncated);
  } else {
    truncated = floor > 0;
  }
  if (truncated && start > 0) start = next_line_start(file, start, size);

  std::string body(static_cast<std::size_t>(size - start), '\0');
  file.clear();
  file.seekg(static_cast<std::streamoff>(start));
  file.read(body.data(), static_cast<std::streamsize>(body.size()));
  body.resize(static_cast<std::size_t>(file.gcount()));

  auto event = audit::event_of(caller_of(request), "logs.download", "log/" + attachment_name(log_file));
  event.details = {{"lines", lines ? nlohmann::json(*lines) : nlohmann::json(nullptr)},
                   {"bytes", body.size()},
                   {"truncated", truncated}};
  record(audit, std::move(event));

  auto response = Response::text(200, std::move(body));
  response.headers.set("Content-Disposition", "attachment; filename=\"" + attachment_name(log_file) + "\"");
  response.headers.set("Cache-Control", "no-store");
  // Set when the file was larger than the download cap and only its end was sent.
  if (truncated) response.headers.set("X-Log-Truncated", "true");
  return response;
}

}  // namespace

void register_log_routes(http::Router& router, std::filesystem::path log_file, audit::AuditLog* audit) {
  std::vector<http::Route> routes;

  http::Route get_levels{"GET", "/api/v1/admin/logs/levels",
                         [](Request&) { return Response::json(200, levels_body()); }};
  get_levels.summary = "Every logger with its effective level: {\"levels\": {logger: level}}";
  get_levels.permission = "admin.logs.view";
  routes.push_back(std::move(get_levels));

  http::Route put_level{"PUT", "/api/v1/admin/logs/levels/{logger}",
                        [audit](Request& request) { return set_level(request, audit); }};
  put_level.summary =
      "Change one logger's level at runtime ({\"level\"}; \"\" inherits the parent's); a name covers its "
      "children";
  put_level.permission = "admin.logs.manage";
  routes.push_back(std::move(put_level));

  http::Route get_file{"GET", "/api/v1/admin/logs/download",
                       [log_file = std::move(log_file), audit](Request& request) {
                         return download(request, log_file, audit);
                       }};
  get_file.summary =
      "The current log file as text/plain (?lines=N: its last N lines; at most the last 50 MiB)";
  get_file.permission = "admin.logs.view";
  routes.push_back(std::move(get_file));

  router.add_all(std::move(routes));
}

}  // namespace plexus
