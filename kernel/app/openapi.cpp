#include "kernel/app/openapi.hpp"

#include <algorithm>
#include <cctype>

#include "kernel/http/access.hpp"

namespace plexus {
namespace {

// "{path*}" in our patterns is "{path}" in OpenAPI (which cannot express "rest of the path").
std::string openapi_path(const std::string& pattern, std::vector<std::string>& parameters) {
  std::string out;
  std::size_t i = 0;
  while (i < pattern.size()) {
    if (pattern[i] == '{') {
      const auto close = pattern.find('}', i);
      std::string name = pattern.substr(i + 1, close - i - 1);
      if (!name.empty() && name.back() == '*') name.pop_back();
      parameters.push_back(name);
      out += "{" + name + "}";
      i = close + 1;
    } else {
      out += pattern[i++];
    }
  }
  return out;
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

nlohmann::json error_response(const std::string& description) {
  return {{"description", description},
          {"content", {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}};
}

}  // namespace

nlohmann::json build_openapi(const http::Router& router, const std::string& version) {
  nlohmann::json paths = nlohmann::json::object();
  std::vector<std::string> tags;
  for (const auto& route : router.routes()) {
    std::vector<std::string> parameters;
    const auto path = openapi_path(route->pattern, parameters);
    nlohmann::json operation{
        {"operationId", lower(route->method) + route->pattern},
        {"tags", {route->owner}},
        {"responses",
         {{"200", {{"description", "Success"}}},
          {"400", error_response("The request is malformed or fails validation")},
          {"500", error_response("The server failed; quote the request_id")}}}};
    if (!route->summary.empty()) operation["summary"] = route->summary;
    // Who may call it, for people and for the generated authorisation matrix test.
    operation["x-permission"] = route->permission.empty() ? "(none: denied)" : route->permission;
    if (route->permission == http::kPublic) {
      operation["security"] = nlohmann::json::array();
    } else if (route->permission == http::kOptional) {
      // Anonymous, or either credential.
      operation["security"] = {nlohmann::json::object(), {{"bearer", nlohmann::json::array()}},
                               {{"apiKey", nlohmann::json::array()}}};
      operation["responses"]["401"] = error_response("Credentials sent but not valid");
    } else {
      operation["responses"]["401"] = error_response("No valid credentials");
      operation["responses"]["403"] = error_response("The caller lacks the permission");
    }
    for (const auto& name : parameters) {
      operation["parameters"].push_back(
          {{"name", name}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}});
    }
    paths[path][lower(route->method)] = std::move(operation);
    if (std::find(tags.begin(), tags.end(), route->owner) == tags.end()) tags.push_back(route->owner);
  }
  std::sort(tags.begin(), tags.end());
  nlohmann::json tag_list = nlohmann::json::array();
  for (const auto& tag : tags) {
    tag_list.push_back({{"name", tag}, {"description", tag == "kernel" ? "The Plexus kernel" : "Plugin " + tag}});
  }
  nlohmann::json error_schema{
      {"type", "object"},
      {"required", {"error"}},
      {"properties",
       {{"error",
         {{"type", "object"},
          {"required", {"code", "message", "request_id"}},
          {"properties",
           {{"code", {{"type", "string"}}},
            {"message", {{"type", "string"}}},
            {"details", nlohmann::json::object()},
            {"request_id", {{"type", "string"}}}}}}}}}};
  return {{"openapi", "3.1.0"},
          {"info", {{"title", "Plexus"}, {"version", version},
                    {"description", "Kernel and plugin REST APIs of this Plexus node, as loaded now."}}},
          {"tags", tag_list},
          {"paths", paths},
          {"security", {{{"bearer", nlohmann::json::array()}}, {{"apiKey", nlohmann::json::array()}}}},
          {"components",
           {{"schemas", {{"Error", error_schema}}},
            {"securitySchemes",
             {{"bearer", {{"type", "http"}, {"scheme", "bearer"}, {"bearerFormat", "JWT or API key"}}},
              {"apiKey", {{"type", "apiKey"}, {"in", "header"}, {"name", "X-API-Key"}}}}}}}};
}

void register_openapi_route(http::Router& router, std::string version) {
  http::Route route{"GET", "/api/v1/openapi.json",
                    [&router, version](http::Request&) { return http::Response::json(200, build_openapi(router, version)); }};
  route.summary = "This OpenAPI document: every route the node serves now";
  route.non_blocking = true;
  route.permission = http::kPublic;  // documentation, like /healthz; it lists routes, never data
  router.add(std::move(route));
}

}  // namespace plexus
