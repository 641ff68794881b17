#include "kernel/datasources/datasource_kind.hpp"

#include <algorithm>

#include "kernel/resources/content_schema.hpp"
#include "kernel/secrets/sealed_fields.hpp"

namespace plexus::datasources {
namespace {

// What the kernel itself reads from every datasource; the rest belongs to the driver.
const nlohmann::json& content_schema() {
  static const nlohmann::json schema = {
      {"type", "object"},
      {"required", {"driver"}},
      {"properties",
       {{"driver", {{"type", "string"}, {"minLength", 1}}},
        {"read_only", {{"type", "boolean"}}},
        {"description", {{"type", "string"}}},
        {"max_rows", {{"type", "integer"}, {"minimum", 1}, {"maximum", 1000000}}},
        {"timeout_ms", {{"type", "integer"}, {"minimum", 1}, {"maximum", 3600000}}}}}};
  return schema;
}

// The options a driver checks: the content without the kernel's own keys, secrets
// (sealed or placeholders) standing in as strings.
nlohmann::json driver_options(nlohmann::json content, const std::vector<std::string>& secrets) {
  for (const auto* key : {"driver", "description", "max_rows", "timeout_ms"}) content.erase(key);
  for (const auto& name : secrets) {
    if (const auto it = content.find(name); it != content.end() && it->is_object()) *it = "********";
  }
  return content;
}

std::vector<resources::Problem> check(const DriverRegistry& drivers, const nlohmann::json& content) {
  if (!content.is_object()) return {};  // the kind's schema says so
  const auto name = content.value("driver", "");
  const auto driver = drivers.find(name);
  if (!driver) {
    std::string known;
    for (const auto& each : drivers.list()) known += (known.empty() ? "" : ", ") + each->name;
    return {{"/driver", "no driver '" + name + "' is loaded (loaded: " + (known.empty() ? "none" : known) +
                            "); enable its connector plugin"}};
  }
  if (driver->options_schema.is_null() || driver->options_schema.empty()) return {};
  // Compiled per check: saving a datasource is rare, and the driver may be reloaded.
  const resources::ContentSchema schema(driver->options_schema);
  return schema.problems(driver_options(content, secret_fields_of(driver.get())));
}

}  // namespace

std::string seal_context(const std::string& tenant, const std::string& name) {
  return "datasource/" + tenant + "/" + name;
}

std::vector<std::string> secret_fields_of(const Driver* driver) {
  std::vector<std::string> names{"password"};
  if (driver) {
    for (const auto& name : driver->secret_fields) {
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    }
  }
  return names;
}

resources::Kind datasource_kind(const DriverRegistry& drivers, const secrets::SecretBox& box) {
  resources::Kind kind;
  kind.name = std::string(kDatasourceKind);
  kind.json_schema = content_schema();
  kind.validator = [&drivers](const nlohmann::json& content) { return check(drivers, content); };
  kind.seal = [&drivers, &box](nlohmann::json& content, const nlohmann::json& previous, const std::string& tenant,
                               const std::string& id) {
    const auto driver = drivers.find(content.value("driver", ""));
    secrets::seal_fields(content, box, secret_fields_of(driver.get()), seal_context(tenant, id), previous);
  };
  kind.present = [](nlohmann::json& content) { secrets::redact_fields(content); };
  return kind;
}

}  // namespace plexus::datasources
