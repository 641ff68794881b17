// Reading a request's JSON body and query parameters the same way on every kernel
// route: a wrong field answers 400 with details.field naming it.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "kernel/http/message.hpp"

namespace plexus::http {

// 400 "invalid_field" with details.field (plus `details`, when an object).
[[noreturn]] void bad_field(const std::string& field, const std::string& message, nlohmann::json details = {});
// 400 "invalid_parameter" with details.field, for query parameters.
[[noreturn]] void bad_parameter(const std::string& name, const std::string& message);

// The body as a JSON object; an empty body is {}. 400 for anything else.
nlohmann::json object_body(const Request& request);

// A string member: absent or null is nullopt; another type, or longer than
// `max_size` bytes, is a 400 naming the field.
std::optional<std::string> optional_string(const nlohmann::json& body, const std::string& field,
                                           std::size_t max_size = 1024);
// The same, and absent or empty is a 400 "<field> is required".
std::string required_string(const nlohmann::json& body, const std::string& field, std::size_t max_size = 1024);

// ?limit=N for paging: `fallback` when absent, 400 unless 1 <= N <= max.
int limit_parameter(const Request& request, int fallback = 50, int max = 1000);

}  // namespace plexus::http
