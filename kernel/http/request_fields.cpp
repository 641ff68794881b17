#include "kernel/http/request_fields.hpp"

#include <charconv>

namespace plexus::http {

void bad_field(const std::string& field, const std::string& message, nlohmann::json details) {
  if (!details.is_object()) details = nlohmann::json::object();
  details["field"] = field;
  throw HttpError(400, "invalid_field", message, std::move(details));
}

void bad_parameter(const std::string& name, const std::string& message) {
  throw HttpError(400, "invalid_parameter", message, {{"field", name}});
}

nlohmann::json object_body(const Request& request) {
  if (request.body.empty()) return nlohmann::json::object();
  auto body = request.json();
  if (!body.is_object()) throw HttpError(400, "invalid_body", "the request body must be a JSON object");
  return body;
}

std::optional<std::string> optional_string(const nlohmann::json& body, const std::string& field,
                                           std::size_t max_size) {
  const auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) bad_field(field, field + " must be a string");
  auto value = it->get<std::string>();
  if (value.size() > max_size) bad_field(field, field + " is longer than " + std::to_string(max_size) + " bytes");
  return value;
}

std::string required_string(const nlohmann::json& body, const std::string& field, std::size_t max_size) {
  auto value = optional_string(body, field, max_size);
  if (!value || value->empty()) bad_field(field, field + " is required");
  return std::move(*value);
}

int limit_parameter(const Request& request, int fallback, int max) {
  const auto it = request.query.find("limit");
  if (it == request.query.end()) return fallback;
  int value = 0;
  const auto* end = it->second.data() + it->second.size();
  const auto [ptr, error] = std::from_chars(it->second.data(), end, value);
  if (error != std::errc() || ptr != end || value < 1 || value > max) {
    bad_parameter("limit", "limit must be an integer from 1 to " + std::to_string(max));
  }
  return value;
}

}  // namespace plexus::http
