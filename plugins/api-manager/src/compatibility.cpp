#include "compatibility.hpp"

#include <optional>
#include <set>

#include "pointer_token.hpp"
#include "runtime.hpp"

namespace plexus::api_manager {
namespace {

using nlohmann::json;

// A schema's "type" as a set; empty when absent (any type).
std::set<std::string> types_of(const json& schema) {
  std::set<std::string> out;
  if (!schema.is_object()) return out;
  const auto it = schema.find("type");
  if (it == schema.end()) return out;
  if (it->is_string()) out.insert(it->get<std::string>());
  if (it->is_array()) {
    for (const auto& t : *it) {
      if (t.is_string()) out.insert(t.get<std::string>());
    }
  }
  return out;
}

// Does a schema of `types` take every value of type `type`? Integers are numbers.
bool takes(const std::set<std::string>& types, const std::string& type) {
  return types.empty() || types.count(type) || (type == "integer" && types.count("number"));
}

// Some value the `before` types allowed that `after` refuses; nullopt when none.
std::optional<std::string> refused_type(const std::set<std::string>& before,
                                        const std::set<std::string>& after) {
  if (before.empty()) {
    if (!after.empty()) return std::string("any type");
    return std::nullopt;
  }
  for (const auto& type : before) {
    if (!takes(after, type)) return type;
  }
  return std::nullopt;
}

std::string type_text(const std::set<std::string>& types) {
  if (types.empty()) return "any";
  std::string out;
  for (const auto& t : types) out += (out.empty() ? "" : "|") + t;
  return out;
}

const json& member(const json& object, const char* name) {
  static const json kNull;
  if (!object.is_object()) return kNull;
  const auto it = object.find(name);
  return it == object.end() ? kNull : *it;
}

std::set<std::string> required_of(const json& params) {
  std::set<std::string> out;
  const auto& required = member(params, "required");
  if (required.is_array()) {
    for (const auto& name : required) {
      if (name.is_string()) out.insert(name.get<std::string>());
    }
  }
  return out;
}

// "ops/servers/{id}" -> "ops/servers/{}": renaming a path parameter changes no URL.
std::string path_shape(const json& path) {
  if (!path.is_string()) return {};
  std::string text = path.get<std::string>();
  if (!text.empty() && text.front() == '/') text.erase(0, 1);
  std::string out;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find('/', start);
    if (end == std::string::npos) end = text.size();
    const auto segment = text.substr(start, end - start);
    if (!out.empty() || start > 0) out += '/';
    out += segment.size() >= 2 && segment.front() == '{' && segment.back() == '}' ? "{}" : segment;
    start = end + 1;
  }
  return out;
}

// The response schemas, walked in step: what a caller reading `before` relied on.
void compare_response(const json& before, const json& after, const std::string& pointer,
                      const std::string& field, std::vector<BreakingChange>& out) {
  if (!before.is_object() || !after.is_object()) return;
  const auto old_types = types_of(before);
  const auto new_types = types_of(after);
  // A response may narrow (number -> integer); a value of a type the old schema did not
  // allow breaks callers that read it.
  if (const auto widened = refused_type(new_types, old_types)) {
    out.push_back({"response_field_retyped", pointer,
                   "the response " + (field.empty() ? std::string("body") : "field '" + field + "'") +
                       " changed type from " + type_text(old_types) + " to " + type_text(new_types)});
    return;
  }
  const auto& old_properties = member(before, "properties");
  const auto& new_properties = member(after, "properties");
  if (old_properties.is_object() && new_properties.is_object()) {
    for (const auto& [name, schema] : old_properties.items()) {
      const auto at = pointer + "/properties/" + pointer_token(name);
      const auto named = field.empty() ? name : field + "." + name;
      const auto it = new_properties.find(name);
      if (it == new_properties.end()) {
        out.push_back({"response_field_removed", at, "the response field '" + named + "' was removed"});
      } else {
        compare_response(schema, *it, at, named, out);
      }
    }
  }
  const auto& old_items = member(before, "items");
  const auto& new_items = member(after, "items");
  if (old_items.is_object() && new_items.is_object()) {
    compare_response(old_items, new_items, pointer + "/items", field + "[]", out);
  }
}

}  // namespace

std::vector<BreakingChange> breaking_changes(const json& from, const json& to) {
  std::vector<BreakingChange> out;
  const auto& old_method = member(from, "method");
  const auto& new_method = member(to, "method");
  if (old_method != new_method) {
    out.push_back({"method_changed", "/method",
                   "the method changed from " + old_method.dump() + " to " + new_method.dump()});
  }
  if (path_shape(member(from, "path")) != path_shape(member(to, "path"))) {
    out.push_back(
        {"path_changed", "/path",
         "the path changed from " + member(from, "path").dump() + " to " + member(to, "path").dump()});
  }

  const auto& old_params = member(from, "params");
  const auto& new_params = member(to, "params");
  const auto& old_properties = member(old_params, "properties");
  const auto& new_properties = member(new_params, "properties");
  if (old_properties.is_object()) {
    for (const auto& [name, schema] : old_properties.items()) {
      const auto at = "/params/properties/" + pointer_token(name);
      const auto it = new_properties.is_object() ? new_properties.find(name) : new_properties.end();
      if (!new_properties.is_object() || it == new_properties.end()) {
        out.push_back({"parameter_removed", at, "the parameter '" + name + "' was removed"});
        continue;
      }
      const auto old_types = types_of(schema);
      const auto new_types = types_of(*it);
      if (const auto refused = refused_type(old_types, new_types)) {
        out.push_back({"parameter_retyped", at + "/type",
                       "the parameter '" + name + "' changed type from " + type_text(old_types) + " to " +
                           type_text(new_types)});
      }
    }
  }
  const auto old_required = required_of(old_params);
  for (const auto& name : required_of(new_params)) {
    if (!old_required.count(name)) {
      out.push_back(
          {"parameter_required", "/params/required", "the parameter '" + name + "' is now required"});
    }
  }
  if (member(old_params, "additionalProperties") != false &&
      member(new_params, "additionalProperties") == false) {
    out.push_back({"unknown_parameters_refused", "/params/additionalProperties",
                   "parameters the API does not declare are now refused (additionalProperties: false)"});
  }

  compare_response(member(from, "response"), member(to, "response"), "/response", "", out);
  return out;
}

json to_json(const std::vector<BreakingChange>& changes) {
  json out = json::array();
  for (const auto& c : changes)
    out.push_back({{"change", c.change}, {"pointer", c.pointer}, {"message", c.message}});
  return out;
}

namespace {

struct Side {
  std::string stage;  // "production" | "staging" | "current"
  json item;          // {"revision", "content", ...}
};

struct BadSide {
  int status;
  std::string code;
  std::string message;
  std::string field;
};

// One side of the comparison: a stage name, or a revision number a stage points at.
Side side_of(sdk::Host& host, const std::string& tenant, const std::string& id, const std::string& text,
             const std::string& field) {
  auto read = [&](const std::string& stage) -> std::optional<json> {
    try {
      return json::parse(host.resource_get(tenant, "api", id, stage == "current" ? "" : stage));
    } catch (const sdk::Error& e) {
      if (e.status() == PLEXUS_ERR_NOT_FOUND) return std::nullopt;
      throw;
    }
  };
  if (text == "production" || text == "staging" || text == "current") {
    auto item = read(text);
    if (!item) {
      throw BadSide{404, "not_found",
                    text == "current" ? "there is no API '" + id + "' in this tenant"
                                      : "the API '" + id + "' has no " + text + " revision",
                    field};
    }
    return {text, std::move(*item)};
  }
  std::int64_t number = 0;
  try {
    std::size_t used = 0;
    number = std::stoll(text, &used);
    if (used != text.size() || number < 1) throw std::invalid_argument(text);
  } catch (const std::exception&) {
    throw BadSide{400, "invalid_parameter",
                  field + " must be production, staging, current or a revision number, got '" + text + "'",
                  field};
  }
  bool exists = false;
  for (const char* stage : {"production", "staging", "current"}) {
    auto item = read(stage);
    if (!item) continue;
    exists = true;
    if (item->value("revision", std::int64_t{0}) == number) return {stage, std::move(*item)};
  }
  if (!exists) throw BadSide{404, "not_found", "there is no API '" + id + "' in this tenant", field};
  throw BadSide{400, "invalid_parameter",
                field + "=" + text +
                    ": only the revisions production, staging or current point at can be compared here; "
                    "GET /api/v1/resources/api/" +
                    id + "/diff?from=&to= shows any two revisions",
                field};
}

}  // namespace

void register_compatibility_route(sdk::Host& host, const std::string& prefix) {
  host.route(
      "GET", prefix + "/apis/{id}/compatibility", "api.read:{id}",
      [&host](const sdk::Request& req, sdk::Response& res) {
        const std::string tenant(req.caller().tenant().empty() ? "default" : req.caller().tenant());
        const std::string id(req.param("id"));
        const std::string from_text(req.query("from").empty() ? "production" : req.query("from"));
        const std::string to_text(req.query("to").empty() ? "current" : req.query("to"));
        try {
          const auto from = side_of(host, tenant, id, from_text, "from");
          const auto to = side_of(host, tenant, id, to_text, "to");
          const auto changes = breaking_changes(from.item["content"], to.item["content"]);
          json answer{{"api", id},
                      {"from", {{"stage", from.stage}, {"revision", from.item["revision"]}}},
                      {"to", {{"stage", to.stage}, {"revision", to.item["revision"]}}},
                      {"breaking", to_json(changes)},
                      {"compatible", changes.empty()}};
          // Whether the newer side already accepts these changes for the older revision.
          const auto& accepted = member(to.item["content"], "compatibility");
          if (accepted.is_object()) answer["accepted"] = accepted;
          res.json(200, answer.dump());
        } catch (const BadSide& bad) {
          res.json(bad.status,
                   error_body(bad.code, bad.message, json{{"field", bad.field}}, req.request_id()).dump());
        }
      },
      0, "Breaking changes of the API against its production revision");
}

}  // namespace plexus::api_manager
