#include "definition.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <stdexcept>

#include "canary.hpp"
#include "params.hpp"
#include "path_template.hpp"
#include "pointer_token.hpp"
#include "script_api.hpp"
#include "sql_placeholders.hpp"
#include "workflow_api.hpp"

namespace plexus::api_manager {
namespace {

using nlohmann::json;

const std::vector<std::string> kMethods{"GET", "POST", "PUT", "PATCH", "DELETE"};
const std::vector<std::string> kKnownFields{"path",        "method",   "type",     "datasource",
                                            "sql",         "params",   "response", "tags",
                                            "description", "examples", "public",   "system",
                                            "script",      "limits",   "workflow", "timeout_ms",
                                            "cache",       "slow_ms",  "retry",    "compatibility",
                                            "canary"};

// timeout_ms, cache, slow_ms, retry, compatibility: the options every type shares.
void validate_run_options(const json& content, json& problems) {
  auto problem = [&](const std::string& pointer, const std::string& message) {
    problems.push_back({{"pointer", pointer}, {"message", message}});
  };
  auto integer_in = [&](const json& value, const std::string& pointer, std::int64_t low, std::int64_t high) {
    if (!value.is_number_integer() || value.get<std::int64_t>() < low || value.get<std::int64_t>() > high) {
      problem(pointer, "must be a whole number from " + std::to_string(low) + " to " + std::to_string(high));
    }
  };
  if (const auto it = content.find("timeout_ms"); it != content.end()) integer_in(*it, "/timeout_ms", 1, 600000);
  if (const auto it = content.find("slow_ms"); it != content.end()) {
    if (!it->is_number() || it->get<double>() < 0) problem("/slow_ms", "must be a number of milliseconds, 0 or more");
  }
  if (const auto it = content.find("cache"); it != content.end()) {
    if (!it->is_object()) {
      problem("/cache", "must be an object {\"ttl_s\": seconds}");
    } else {
      for (const auto& [key, value] : it->items()) {
        if (key == "ttl_s") {
          integer_in(value, "/cache/ttl_s", 0, 86400);
        } else {
          problem("/cache/" + pointer_token(key), "is not a cache option (ttl_s)");
        }
      }
    }
  }
  if (const auto it = content.find("retry"); it != content.end()) {
    if (!it->is_object()) {
      problem("/retry", "must be an object {\"attempts\": n, \"backoff_ms\": ms}");
    } else {
      for (const auto& [key, value] : it->items()) {
        if (key == "attempts") {
          integer_in(value, "/retry/attempts", 1, 10);
        } else if (key == "backoff_ms") {
          integer_in(value, "/retry/backoff_ms", 0, 60000);
        } else {
          problem("/retry/" + pointer_token(key), "is not a retry option (attempts, backoff_ms)");
        }
      }
    }
  }
  if (const auto it = content.find("compatibility"); it != content.end()) {
    if (!it->is_object()) {
      problem("/compatibility", "must be an object {\"accept_breaking\": revision, \"migration_note\": text}");
    } else {
      for (const auto& [key, value] : it->items()) {
        if (key == "accept_breaking") {
          integer_in(value, "/compatibility/accept_breaking", 1, INT64_MAX);
        } else if (key == "migration_note") {
          if (!value.is_string()) problem("/compatibility/migration_note", "must be a string");
        } else {
          problem("/compatibility/" + pointer_token(key), "is not a compatibility option (accept_breaking, migration_note)");
        }
      }
      if (it->contains("accept_breaking") &&
          it->value("migration_note", std::string()).find_first_not_of(" \t\r\n") == std::string::npos) {
        problem("/compatibility/migration_note", "is required with accept_breaking: say what callers must change");
      }
    }
  }
}

}  // namespace

json validate_content(const json& content) {
  json problems = json::array();
  auto problem = [&](const std::string& pointer, const std::string& message) {
    problems.push_back({{"pointer", pointer}, {"message", message}});
  };
  if (!content.is_object()) {
    problem("",
            "must be an object: {\"path\", \"method\", \"type\", \"datasource\", \"sql\", \"params\", ...}");
    return problems;
  }
  for (const auto& [key, value] : content.items()) {
    if (std::find(kKnownFields.begin(), kKnownFields.end(), key) == kKnownFields.end()) {
      problem("/" + pointer_token(key), "is not a field of an API definition");
    }
  }
  auto string_field = [&](const char* name, bool required) -> std::optional<std::string> {
    const auto it = content.find(name);
    if (it == content.end() || it->is_null()) {
      if (required) problem(std::string("/") + name, "is required");
      return std::nullopt;
    }
    if (!it->is_string()) {
      problem(std::string("/") + name, "must be a string");
      return std::nullopt;
    }
    return it->get<std::string>();
  };

  // path
  std::optional<PathTemplate> path;
  if (const auto text = string_field("path", true)) {
    std::string why;
    path = parse_path_template(*text, &why);
    if (!path) problem("/path", why);
  }
  // method
  std::string method = "GET";
  if (const auto text = string_field("method", true)) {
    method = *text;
    if (std::find(kMethods.begin(), kMethods.end(), method) == kMethods.end()) {
      problem("/method", "must be one of GET, POST, PUT, PATCH, DELETE (upper case), got '" + method + "'");
    }
  }
  if (path && method == "GET" && path->segments.size() == 1 && path->segments[0].text == "openapi.json" &&
      !path->segments[0].parameter) {
    problem("/path", "'openapi.json' is reserved: GET /runtime/openapi.json serves the OpenAPI document");
  }
  // type
  const auto type = string_field("type", true);
  if (type && *type != "sql" && *type != "workflow" && *type != "script") {
    problem("/type", "must be 'sql', 'workflow' or 'script', got '" + *type + "'");
  }
  if (type && *type == "script") validate_script_content(content, problems);
  if (type && *type == "workflow") validate_workflow_content(content, problems);
  for (const char* field : {"script", "limits"}) {
    if (content.contains(field) && !(type && *type == "script"))
      problem(std::string("/") + field, "belongs to APIs of type 'script'");
  }
  if (content.contains("workflow") && !(type && *type == "workflow"))
    problem("/workflow", "belongs to APIs of type 'workflow'");
  validate_run_options(content, problems);
  validate_canary(content, problems);
  // params
  json params = json::object();
  bool params_ok = true;
  if (const auto it = content.find("params"); it != content.end() && !it->is_null()) {
    params = *it;
    if (!params.is_object()) {
      problem(
          "/params",
          "must be a JSON Schema object of type object, such as {\"type\": \"object\", \"properties\": {}}");
      params_ok = false;
    } else {
      if (params.contains("type") && params["type"] != "object") {
        problem("/params/type", "must be \"object\": the parameters are one object of named values");
        params_ok = false;
      }
      if (params.contains("properties") && !params["properties"].is_object()) {
        problem("/params/properties", "must be an object of parameter schemas");
        params_ok = false;
      }
      if (params_ok) {
        try {
          ParamSchema compiled(params);
        } catch (const std::invalid_argument& e) {
          problem("/params", e.what());
          params_ok = false;
        }
      }
    }
  }
  auto declared = [&](const std::string& name) {
    return params_ok && params.contains("properties") && params["properties"].contains(name);
  };
  // sql
  const auto sql = string_field("sql", type && *type == "sql");
  const auto datasource = string_field("datasource", type && *type == "sql");
  if (datasource && datasource->empty()) problem("/datasource", "must name a datasource");
  if (sql) {
    if (sql->find_first_not_of(" \t\r\n") == std::string::npos) problem("/sql", "must not be empty");
    if (params_ok) {
      for (const auto& name : sql_placeholders(*sql)) {
        if (!declared(name)) {
          problem("/sql", "the placeholder :" + name + " is not declared in params.properties");
        }
      }
    }
  }
  if (path && params_ok) {
    for (const auto& name : path->parameters()) {
      if (!declared(name))
        problem("/path", "the path parameter {" + name + "} is not declared in params.properties");
    }
  }
  // the rest
  if (const auto it = content.find("response"); it != content.end() && !it->is_null()) {
    if (!it->is_object() && !it->is_boolean()) problem("/response", "must be a JSON Schema (an object)");
  }
  if (const auto it = content.find("tags"); it != content.end() && !it->is_null()) {
    if (!it->is_array()) {
      problem("/tags", "must be an array of strings");
    } else {
      for (std::size_t i = 0; i < it->size(); ++i) {
        if (!(*it)[i].is_string() || (*it)[i].get<std::string>().empty()) {
          problem("/tags/" + std::to_string(i), "must be a non-empty string");
        }
      }
    }
  }
  string_field("description", false);
  if (const auto it = content.find("examples"); it != content.end() && !it->is_null()) {
    if (!it->is_array()) {
      problem("/examples", "must be an array of {\"name\", \"params\", \"response\"?}");
    } else {
      for (std::size_t i = 0; i < it->size(); ++i) {
        const auto& example = (*it)[i];
        const auto at = "/examples/" + std::to_string(i);
        if (!example.is_object()) {
          problem(at, "must be an object {\"name\", \"params\", \"response\"?}");
          continue;
        }
        if (example.contains("name") && !example["name"].is_string())
          problem(at + "/name", "must be a string");
        if (example.contains("params") && !example["params"].is_object()) {
          problem(at + "/params", "must be an object of parameter values");
        }
      }
    }
  }
  for (const char* flag : {"public", "system"}) {
    if (const auto it = content.find(flag); it != content.end() && !it->is_null() && !it->is_boolean()) {
      problem(std::string("/") + flag, "must be true or false");
    }
  }
  return problems;
}

json api_references(const json& content) {
  json out = json::array();
  if (!content.is_object()) return out;
  std::vector<std::string> datasources, apis;
  if (const auto it = content.find("datasource"); it != content.end() && it->is_string() && !it->empty()) {
    datasources.push_back(it->get<std::string>());
  }
  if (content.value("type", std::string()) == "workflow" && content.contains("workflow")) {
    for (auto& name : workflow_datasource_references(content["workflow"])) datasources.push_back(std::move(name));
    apis = workflow_api_references(content["workflow"]);
  }
  std::sort(datasources.begin(), datasources.end());
  datasources.erase(std::unique(datasources.begin(), datasources.end()), datasources.end());
  std::sort(apis.begin(), apis.end());
  apis.erase(std::unique(apis.begin(), apis.end()), apis.end());
  for (const auto& name : datasources) out.push_back({{"kind", "datasource"}, {"id", name}});
  for (const auto& id : apis) out.push_back({{"kind", "api"}, {"id", id}});
  return out;
}

ApiDefinition parse_definition(const std::string& id, std::int64_t revision, const json& content) {
  const auto problems = validate_content(content);
  if (!problems.empty()) {
    std::string message = "API '" + id + "' revision " + std::to_string(revision) + " is not valid:";
    for (const auto& p : problems) {
      message += " " + p["pointer"].get<std::string>() + ": " + p["message"].get<std::string>() + ";";
    }
    message.pop_back();
    throw std::invalid_argument(message);
  }
  ApiDefinition def;
  def.id = id;
  def.revision = revision;
  def.path = content["path"].get<std::string>();
  if (!def.path.empty() && def.path.front() == '/') def.path.erase(0, 1);
  def.method = content["method"].get<std::string>();
  def.type = content["type"].get<std::string>();
  def.datasource = content.value("datasource", std::string());
  def.sql = content.value("sql", std::string());
  if (content.contains("params") && !content["params"].is_null()) def.params = content["params"];
  if (content.contains("response")) def.response = content["response"];
  if (content.contains("tags") && content["tags"].is_array())
    def.tags = content["tags"].get<std::vector<std::string>>();
  def.description = content.value("description", std::string());
  if (content.contains("examples") && content["examples"].is_array()) def.examples = content["examples"];
  def.is_public = content.value("public", false);
  def.is_system = content.value("system", false);
  def.script = content.value("script", std::string());
  if (content.contains("limits") && content["limits"].is_object()) def.limits = content["limits"];
  if (content.contains("workflow")) def.workflow = content["workflow"];
  def.timeout_ms = content.value("timeout_ms", def.timeout_ms);
  if (content.contains("cache")) def.cache_ttl_s = content["cache"].value("ttl_s", std::uint64_t{0});
  def.slow_ms = content.value("slow_ms", 0.0);
  if (content.contains("retry")) {
    def.retry_attempts = content["retry"].value("attempts", 1);
    def.retry_backoff_ms = content["retry"].value("backoff_ms", def.retry_backoff_ms);
  }
  if (content.contains("compatibility")) def.compatibility = content["compatibility"];
  if (content.contains("canary")) def.canary = content["canary"];
  return def;
}

}  // namespace plexus::api_manager
