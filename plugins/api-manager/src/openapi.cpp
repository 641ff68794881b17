#include "openapi.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <map>
#include <set>
#include <string_view>

#include "path_template.hpp"
#include "pointer_token.hpp"

namespace plexus::api_manager {
namespace {

using json = nlohmann::json;

bool identifier_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Component names must match ^[a-zA-Z0-9._-]+$.
std::string component_name(std::string_view text) {
  std::string out;
  for (char c : text) out += identifier_char(c) || c == '.' || c == '-' ? c : '_';
  return out.empty() ? "_" : out;
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

// ---- schemas ------------------------------------------------------------------------------

// Keywords whose value is a schema, a map of schemas or an array of schemas; everything
// else ("default", "examples", "const", "enum", ...) is data and left alone.
constexpr std::array<std::string_view, 12> kSchemaKeywords{"items",
                                                           "additionalProperties",
                                                           "not",
                                                           "if",
                                                           "then",
                                                           "else",
                                                           "contains",
                                                           "propertyNames",
                                                           "unevaluatedItems",
                                                           "unevaluatedProperties",
                                                           "additionalItems",
                                                           "contentSchema"};
constexpr std::array<std::string_view, 5> kSchemaMaps{"properties", "patternProperties", "dependentSchemas",
                                                      "$defs", "definitions"};
constexpr std::array<std::string_view, 4> kSchemaLists{"allOf", "anyOf", "oneOf", "prefixItems"};
constexpr std::array<std::string_view, 5> kMethods{"GET", "POST", "PUT", "PATCH", "DELETE"};

template <std::size_t N>
bool listed(const std::array<std::string_view, N>& list, std::string_view name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

// Moves one API's schemas into the document: their "$defs" become components (the
// names in `defs`), their "$ref"s follow, "$id"/"$schema" go (they would change how
// references resolve), and references that cannot resolve here become open schemas.
class SchemaPlacer {
 public:
  SchemaPlacer(const std::string& prefix, json& components) : prefix_(prefix), components_(components) {}

  // A copy of `schema` fit for this document.
  json place(const json& schema) {
    if (!schema.is_object()) return schema.is_boolean() ? schema : json::object();
    json copy = schema;
    for (const char* key : {"$defs", "definitions"}) {
      if (!copy.contains(key) || !copy[key].is_object()) continue;
      for (auto& [name, def] : copy[key].items()) {
        const std::string ref = std::string("#/") + key + "/" + pointer_token(name);
        if (!names_.count(ref)) names_[ref] = unique_name(prefix_ + "_" + component_name(name));
      }
    }
    for (const char* key : {"$defs", "definitions"}) {
      if (!copy.contains(key) || !copy[key].is_object()) continue;
      for (auto& [name, def] : copy[key].items()) {
        const std::string ref = std::string("#/") + key + "/" + pointer_token(name);
        components_[names_.at(ref)] = walk(def);
      }
      copy.erase(key);
    }
    return walk(copy);
  }

 private:
  std::string unique_name(const std::string& wanted) {
    std::string name = wanted;
    for (int n = 2; components_.contains(name) || taken_.count(name); ++n)
      name = wanted + "_" + std::to_string(n);
    taken_.insert(name);
    return name;
  }

  std::string resolve(const std::string& ref) const {
    // "#/$defs/name" or a pointer below it: "#/$defs/name/properties/x".
    for (const auto& [from, to] : names_) {
      if (ref == from) return "#/components/schemas/" + to;
      if (ref.rfind(from + "/", 0) == 0) return "#/components/schemas/" + to + ref.substr(from.size());
    }
    return {};
  }

  json walk(const json& schema) {
    if (!schema.is_object()) return schema;
    json out = json::object();
    for (const auto& [key, value] : schema.items()) {
      if (key == "$id" || key == "$schema" || key == "$defs" || key == "definitions") continue;
      if (key == "$ref" && value.is_string()) {
        const auto target = resolve(value.get<std::string>());
        if (target.empty()) {
          out["description"] =
              "Refers to " + value.get<std::string>() + ", which this document cannot resolve";
        } else {
          out["$ref"] = target;
        }
      } else if (listed(kSchemaKeywords, key)) {
        if (value.is_array()) {
          out[key] = json::array();
          for (const auto& item : value) out[key].push_back(walk(item));
        } else {
          out[key] = walk(value);
        }
      } else if (listed(kSchemaMaps, key) && value.is_object()) {
        out[key] = json::object();
        for (const auto& [name, item] : value.items()) out[key][name] = walk(item);
      } else if (listed(kSchemaLists, key) && value.is_array()) {
        out[key] = json::array();
        for (const auto& item : value) out[key].push_back(walk(item));
      } else if (!out.contains(key)) {
        out[key] = value;
      }
    }
    return out;
  }

  std::string prefix_;
  json& components_;
  std::map<std::string, std::string> names_;  // "#/$defs/x" -> component name
  std::set<std::string> taken_;
};

// ---- examples -----------------------------------------------------------------------------

struct Example {
  std::string key;  // unique within the operation
  std::string summary;
  json params = json::object();
  json response;  // null when absent
};

std::vector<Example> examples_of(const ApiDefinition& api) {
  std::vector<Example> out;
  if (!api.examples.is_array()) return out;
  std::set<std::string> keys;
  for (const auto& item : api.examples) {
    if (!item.is_object()) continue;
    Example example;
    example.summary = item.value("name", std::string());
    std::string key = component_name(example.summary.empty() ? "example" : example.summary);
    for (int n = 2; keys.count(key); ++n)
      key = component_name(example.summary.empty() ? "example" : example.summary) + "_" + std::to_string(n);
    keys.insert(key);
    example.key = key;
    if (item.contains("params") && item["params"].is_object()) example.params = item["params"];
    if (item.contains("response")) example.response = item["response"];
    out.push_back(std::move(example));
  }
  return out;
}

json example_object(const Example& example, const json& value) {
  json out{{"value", value}};
  if (!example.summary.empty()) out["summary"] = example.summary;
  return out;
}

// ---- operations -----------------------------------------------------------------------------

json error_response(const std::string& description) {
  return {{"description", description},
          {"content", {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}};
}

bool body_method(const std::string& method) {
  return method == "POST" || method == "PUT" || method == "PATCH";
}

// "The first line of the description", cut to a summary's length.
std::string summary_of(const ApiDefinition& api) {
  std::string text = api.description.substr(0, api.description.find('\n'));
  if (text.size() > 120) text = text.substr(0, 117) + "...";
  return text.empty() ? api.method + " " + api.path : text;
}

json parameter(const std::string& name, const std::string& in, bool required, const json& schema,
               const std::vector<Example>& examples) {
  json out{{"name", name}, {"in", in}, {"required", required}, {"schema", schema}};
  if (schema.is_object() && schema.contains("description") && schema["description"].is_string()) {
    out["description"] = schema["description"];
  }
  json values = json::object();
  for (const auto& example : examples) {
    if (example.params.contains(name)) values[example.key] = example_object(example, example.params[name]);
  }
  if (!values.empty()) out["examples"] = std::move(values);
  return out;
}

json operation(const ApiDefinition& api, const PathTemplate& path, const std::string& op_id,
               const RuntimeOpenApiOptions& options, json& schemas) {
  SchemaPlacer placer(op_id, schemas);
  const json params = placer.place(api.params.is_object() ? api.params : json::object());
  const json properties = params.contains("properties") && params["properties"].is_object()
                              ? params["properties"]
                              : json::object();
  std::vector<std::string> required;  // in the definition's order
  if (params.contains("required") && params["required"].is_array()) {
    for (const auto& name : params["required"]) {
      if (name.is_string()) required.push_back(name.get<std::string>());
    }
  }
  const auto is_required = [&](const std::string& name) {
    return std::find(required.begin(), required.end(), name) != required.end();
  };
  const auto examples = examples_of(api);

  json op{{"operationId", op_id},
          {"summary", summary_of(api)},
          {"x-plexus-api-id", api.id},
          {"x-plexus-revision", api.revision},
          {"x-plexus-type", api.type}};
  if (!api.description.empty()) op["description"] = api.description;
  if (!api.tags.empty()) op["tags"] = api.tags;

  json parameters = json::array();
  const auto path_names = path.parameters();
  for (const auto& name : path_names) {
    parameters.push_back(parameter(name, "path", true,
                                   properties.contains(name) ? properties[name] : json{{"type", "string"}},
                                   examples));
  }
  std::vector<std::string> others;
  for (const auto& [name, schema] : properties.items()) {
    if (std::find(path_names.begin(), path_names.end(), name) == path_names.end()) others.push_back(name);
  }
  if (body_method(api.method)) {
    json body = params;
    body["type"] = "object";
    body["properties"] = json::object();
    for (const auto& name : others) body["properties"][name] = properties[name];
    json body_required = json::array();
    for (const auto& name : required) {
      if (std::find(others.begin(), others.end(), name) != others.end()) body_required.push_back(name);
    }
    body.erase("required");
    if (!body_required.empty()) body["required"] = body_required;
    json media{{"schema", body}};
    json values = json::object();
    for (const auto& example : examples) {
      json value = json::object();
      for (const auto& name : others) {
        if (example.params.contains(name)) value[name] = example.params[name];
      }
      values[example.key] = example_object(example, value);
    }
    if (!values.empty()) media["examples"] = std::move(values);
    op["requestBody"] = {{"required", !body_required.empty()}, {"content", {{"application/json", media}}}};
  } else {
    for (const auto& name : others) {
      parameters.push_back(parameter(name, "query", is_required(name), properties[name], examples));
    }
  }
  if (!options.stage_header.empty() && !api.is_public) {
    parameters.push_back(
        {{"name", options.stage_header},
         {"in", "header"},
         {"required", false},
         {"description", "Set to 'staging' to run the staging revision (editors only)"},
         {"schema", {{"type", "string"}, {"enum", json::array({"staging", "production"})}}}});
  }
  if (!parameters.empty()) op["parameters"] = std::move(parameters);

  json success{{"schema", api.response.is_object() || api.response.is_boolean()
                              ? placer.place(api.response)
                              : json{{"$ref", "#/components/schemas/Rows"}}}};
  json response_examples = json::object();
  for (const auto& example : examples) {
    if (!example.response.is_null())
      response_examples[example.key] = example_object(example, example.response);
  }
  if (!response_examples.empty()) success["examples"] = std::move(response_examples);
  op["responses"] = {
      {"200", {{"description", "The API's answer"}, {"content", {{"application/json", success}}}}},
      {"400", error_response("The parameters fail validation; details.fields names each problem")},
      {"500", error_response("The API failed; quote the request_id")},
      {"502", error_response("The datasource failed to run the API, or is not available")},
      {"504", error_response("The datasource did not answer in time")}};
  if (api.is_public) {
    op["security"] = json::array();
  } else {
    op["responses"]["401"] = error_response("No valid credentials");
    op["responses"]["403"] = error_response("The caller may not run this API");
  }
  return op;
}

std::uint32_t fnv1a(std::string_view text) {
  std::uint32_t hash = 2166136261u;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 16777619u;
  }
  return hash;
}

}  // namespace

std::string operation_id(const std::string& api_id) {
  if (!api_id.empty() && std::all_of(api_id.begin(), api_id.end(), identifier_char)) return api_id;
  std::string out;
  for (char c : api_id) out += identifier_char(c) ? c : '_';
  char hash[16];
  std::snprintf(hash, sizeof hash, "_%08x", fnv1a(api_id));
  return out + hash;
}

json runtime_openapi(const std::vector<ApiDefinition>& apis, const RuntimeOpenApiOptions& options) {
  std::vector<const ApiDefinition*> sorted;
  for (const auto& api : apis) sorted.push_back(&api);
  std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) { return a->id < b->id; });

  json paths = json::object();
  json schemas{{"Rows",
                {{"type", "object"},
                 {"description", "The rows an SQL API answers, one object per row"},
                 {"required", json::array({"rows", "truncated"})},
                 {"properties",
                  {{"rows", {{"type", "array"}, {"items", {{"type", "object"}}}}},
                   {"truncated",
                    {{"type", "boolean"}, {"description", "More rows were there than the API returns"}}}}}}},
               {"Error",
                {{"type", "object"},
                 {"required", {"error"}},
                 {"properties",
                  {{"error",
                    {{"type", "object"},
                     {"required", {"code", "message", "request_id"}},
                     {"properties",
                      {{"code", {{"type", "string"}}},
                       {"message", {{"type", "string"}}},
                       {"details", json::object()},
                       {"request_id", {{"type", "string"}}}}}}}}}}}};
  std::set<std::string> tags, operation_ids, routes;
  std::map<std::string, std::string> shape_keys;  // "/a/{}" -> "/runtime/a/{id}"
  json skipped = json::array();
  for (const auto* api : sorted) {
    const auto method = api->method;
    std::string problem;
    const auto path = parse_path_template(api->path, &problem);
    if (!listed(kMethods, method) || !path) {
      skipped.push_back(
          {{"id", api->id}, {"reason", path ? "method " + method + " is not served" : problem}});
      continue;
    }
    // Paths that differ only in parameter names are the same route to OpenAPI (and to the router).
    std::string text, shape;
    for (const auto& segment : path->segments) {
      text += "/" + (segment.parameter ? "{" + segment.text + "}" : segment.text);
      shape += "/" + (segment.parameter ? std::string("{}") : segment.text);
    }
    if (!routes.insert(method + " " + shape).second) {
      skipped.push_back({{"id", api->id}, {"reason", "another API serves " + method + " " + text}});
      continue;
    }
    // One path item per shape: a second API whose path differs only in parameter names
    // (another method) would make a conflicting path item, so it keeps the first's names.
    const std::string key = options.base_path + (text.empty() ? "/" : text);
    const auto [existing, fresh] = shape_keys.emplace(shape, key);
    if (!fresh && existing->second != key) {
      skipped.push_back(
          {{"id", api->id},
           {"reason", "its path differs from " + existing->second + " only in parameter names"}});
      continue;
    }
    std::string op_id = operation_id(api->id);
    for (int n = 2; operation_ids.count(op_id); ++n) op_id = operation_id(api->id) + "_" + std::to_string(n);
    operation_ids.insert(op_id);
    paths[key][lower(method)] = operation(*api, *path, op_id, options, schemas);
    for (const auto& tag : api->tags) tags.insert(tag);
  }

  json tag_list = json::array();
  for (const auto& tag : tags) tag_list.push_back({{"name", tag}});
  json document{
      {"openapi", "3.1.0"},
      {"info",
       {{"title", options.title}, {"version", options.version}, {"description", options.description}}},
      {"paths", paths},
      {"security", {{{"bearer", json::array()}}, {{"apiKey", json::array()}}}},
      {"components",
       {{"schemas", schemas},
        {"securitySchemes",
         {{"bearer", {{"type", "http"}, {"scheme", "bearer"}, {"bearerFormat", "JWT or API key"}}},
          {"apiKey", {{"type", "apiKey"}, {"in", "header"}, {"name", "X-API-Key"}}}}}}}};
  if (!tag_list.empty()) document["tags"] = std::move(tag_list);
  if (!options.server_url.empty()) document["servers"] = {{{"url", options.server_url}}};
  if (!skipped.empty()) document["x-plexus-skipped"] = std::move(skipped);
  return document;
}

}  // namespace plexus::api_manager
