#include "kernel/resources/bundle_format.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <string_view>

#include "kernel/http/request_fields.hpp"
#include "kernel/json/yaml_json.hpp"

namespace plexus::resources {
namespace {

enum class Format { json, yaml };

// "Application/YAML; charset=utf-8" -> "application/yaml".
std::string media_type(std::string_view text) {
  text = text.substr(0, text.find(';'));
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::optional<Format> format_of(const std::string& type) {
  if (type == "application/yaml" || type == "application/x-yaml" || type == "text/yaml") return Format::yaml;
  if (type == "application/json") return Format::json;
  return std::nullopt;
}

// The first type Accept lists that names a format; q-values are not weighed.
Format accepted(std::string_view accept) {
  for (std::size_t start = 0; start < accept.size();) {
    const auto comma = std::min(accept.find(',', start), accept.size());
    const auto type = media_type(accept.substr(start, comma - start));
    if (const auto format = format_of(type)) return *format;
    if (type == "*/*" || type == "application/*") return Format::json;
    start = comma + 1;
  }
  return Format::json;
}

nlohmann::json parse_yaml(const std::string& body) {
  try {
    return yaml_json::parse(body);
  } catch (const yaml_json::YamlError& error) {
    nlohmann::json details{{"line", error.line()}, {"column", error.column()}, {"reason", error.message()}};
    if (!error.pointer().empty()) details["field"] = error.pointer();
    throw http::HttpError(400, "invalid_yaml", std::string("request body: ") + error.what(),
                          std::move(details));
  }
}

}  // namespace

nlohmann::json bundle_of(const http::Request& request) {
  auto format = format_of(media_type(request.header("Content-Type").value_or("")));
  if (!format) {
    // curl --data-binary sends form encoding unless told otherwise: look at the body.
    const auto first = request.body.find_first_not_of(" \t\r\n");
    format = first == std::string::npos || request.body[first] == '{' ? Format::json : Format::yaml;
  }
  return *format == Format::yaml ? parse_yaml(request.body) : request.json();
}

http::Response bundle_response(const http::Request& request, const nlohmann::json& bundle) {
  Format format = accepted(request.header("Accept").value_or(""));
  if (const auto it = request.query.find("format"); it != request.query.end()) {
    if (it->second != "json" && it->second != "yaml") http::bad_parameter("format", "format is json or yaml");
    format = it->second == "yaml" ? Format::yaml : Format::json;
  }
  auto response = format == Format::yaml ? http::Response::text(200, yaml_json::to_yaml(bundle),
                                                                "application/yaml; charset=utf-8")
                                         : http::Response::json(200, bundle);
  response.headers.set("Vary", "Accept");
  return response;
}

}  // namespace plexus::resources
