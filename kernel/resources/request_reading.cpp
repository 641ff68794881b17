#include "kernel/resources/request_reading.hpp"

#include <charconv>
#include <limits>

namespace plexus::resources {
namespace {

using http::bad_field;
using http::bad_parameter;

std::optional<std::int64_t> positive_integer(std::string_view text) {
  std::int64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, error] = std::from_chars(text.data(), end, value);
  if (text.empty() || error != std::errc() || ptr != end || value < 1) return std::nullopt;
  return value;
}

}  // namespace

std::optional<std::int64_t> optional_revision(const nlohmann::json& body, const std::string& field) {
  const auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer() || it->get<std::int64_t>() < 1) {
    bad_field(field, field + " must be a revision number (an integer from 1)");
  }
  return it->get<std::int64_t>();
}

std::optional<std::int64_t> revision_parameter(const http::Request& request, const std::string& name) {
  const auto it = request.query.find(name);
  if (it == request.query.end()) return std::nullopt;
  const auto value = positive_integer(it->second);
  if (!value) bad_parameter(name, name + " must be a revision number (an integer from 1)");
  return value;
}

std::int64_t revision_in_path(const http::Request& request, const std::string& name) {
  const auto value = positive_integer(request.path_params.at(name));
  if (!value) bad_parameter(name, name + " must be a revision number (an integer from 1)");
  return *value;
}

bool flag_parameter(const http::Request& request, const std::string& name) {
  const auto it = request.query.find(name);
  if (it == request.query.end() || it->second == "false") return false;
  if (it->second == "true" || it->second.empty()) return true;
  bad_parameter(name, name + " must be true or false");
}

IfMatch if_match(const http::Request& request) {
  const auto header = request.header("If-Match");
  if (!header) return {};
  std::string_view text = *header;
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  if (text == "*") return {true, std::nullopt};
  std::optional<std::int64_t> revision;
  if (text.size() >= 3 && text.front() == '"' && text.back() == '"') {
    revision = positive_integer(text.substr(1, text.size() - 2));
  }
  if (!revision) {
    throw http::HttpError(400, "invalid_header",
                          "If-Match must be the ETag of the revision the change is based on, such as \"3\"",
                          {{"header", "If-Match"}});
  }
  return {true, revision};
}

std::optional<std::int64_t> required_if_match(const http::Request& request) {
  const auto condition = if_match(request);
  if (!condition.present) {
    throw http::HttpError(428, "precondition_required",
                          "send If-Match with the ETag of the revision this change is based on",
                          {{"header", "If-Match"}});
  }
  return condition.revision;
}

std::string etag(std::int64_t revision) { return "\"" + std::to_string(revision) + "\""; }

}  // namespace plexus::resources
