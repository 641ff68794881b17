#include "kernel/identity/request_fields.hpp"

#include <charconv>

#include "kernel/auth/base64url.hpp"
#include "kernel/config/units.hpp"
#include "kernel/store/clock.hpp"

namespace plexus::identity {

std::optional<bool> optional_bool(const nlohmann::json& body, const std::string& field) {
  const auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_boolean()) bad_field(field, field + " must be true or false");
  return it->get<bool>();
}

std::optional<std::vector<std::string>> optional_string_list(const nlohmann::json& body,
                                                             const std::string& field) {
  const auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_array()) bad_field(field, field + " must be an array of strings");
  std::vector<std::string> out;
  for (const auto& item : *it) {
    if (!item.is_string()) bad_field(field, field + " must be an array of strings");
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::optional<std::chrono::milliseconds> optional_duration(const nlohmann::json& body,
                                                           const std::string& field) {
  const auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::nullopt;
  std::optional<std::int64_t> ms;
  if (it->is_number_integer()) {
    const auto seconds = it->get<std::int64_t>();
    if (seconds > 0 && seconds < std::int64_t{1} << 40) ms = seconds * 1000;
  } else if (it->is_string()) {
    ms = config::parse_duration_ms(it->get<std::string>());
  }
  if (!ms || *ms <= 0)
    bad_field(field, field + " must be a positive duration: seconds, or text such as \"12h\" or \"30d\"");
  return std::chrono::milliseconds(*ms);
}

std::optional<std::chrono::system_clock::time_point> optional_time(const nlohmann::json& body,
                                                                   const std::string& field) {
  const auto text = optional_string(body, field, 64);
  if (!text) return std::nullopt;
  const auto time = store::parse_time(*text);
  if (!time) bad_field(field, field + " must be an ISO-8601 UTC time such as 2030-01-31T12:00:00Z");
  return time;
}

bool is_identifier(std::string_view text) {
  if (text.empty() || text.size() > 64) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-'))) return false;
  }
  return true;
}

bool is_username(std::string_view text) {
  if (text.empty() || text.size() > 64) return false;
  for (const char c : text) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-' || c == '@' || c == '+';
    if (!ok) return false;
  }
  return true;
}

void require_acceptable_password(const std::string& password, const auth::PasswordPolicy& policy,
                                 const std::string& username, const std::string& field) {
  const auto problems = auth::check_password(password, policy, username);
  if (problems.empty()) return;
  throw http::HttpError(400, "weak_password", "the password does not meet the password policy",
                        {{"field", field}, {"problems", problems}});
}

std::string encode_cursor(const std::string& position) { return auth::base64url_encode(position); }

std::string decode_cursor(const std::string& cursor) {
  auto decoded = auth::base64url_decode(cursor);
  if (!decoded) bad_parameter("cursor", "cursor is not one this server handed out");
  return std::move(*decoded);
}

}  // namespace plexus::identity
