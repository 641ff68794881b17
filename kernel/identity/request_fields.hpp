// Reading identity's request bodies and query parameters. Every mistake is a 400
// whose details name the field at fault, so a client (or a form) can point at it.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernel/auth/password.hpp"
#include "kernel/http/message.hpp"
#include "kernel/http/request_fields.hpp"

namespace plexus::identity {

using http::bad_field;
using http::bad_parameter;
using http::limit_parameter;
using http::object_body;
using http::optional_string;
using http::required_string;


// The body as a JSON object; 400 otherwise.

std::optional<bool> optional_bool(const nlohmann::json& body, const std::string& field);
std::optional<std::vector<std::string>> optional_string_list(const nlohmann::json& body,
                                                             const std::string& field);
// A lifetime: seconds as a number, or text such as "90s", "12h", "30d". Must be positive.
std::optional<std::chrono::milliseconds> optional_duration(const nlohmann::json& body,
                                                           const std::string& field);
// An ISO-8601 UTC time.
std::optional<std::chrono::system_clock::time_point> optional_time(const nlohmann::json& body,
                                                                   const std::string& field);

// True when `text` matches [a-z0-9][a-z0-9_.-]{0,63} (role and tenant ids).
bool is_identifier(std::string_view text);

// True for 1 to 64 of A-Z a-z 0-9 . _ - @ +
bool is_username(std::string_view text);

// Checks a new password against the policy; 400 "weak_password" naming `field` and
// listing every problem. Never echoes the password.
void require_acceptable_password(const std::string& password, const auth::PasswordPolicy& policy,
                                 const std::string& username, const std::string& field);

// ?limit=: 1..max, default when absent.
// Opaque paging cursors.
std::string encode_cursor(const std::string& position);
std::string decode_cursor(const std::string& cursor);  // 400 naming "cursor" when malformed

}  // namespace plexus::identity
