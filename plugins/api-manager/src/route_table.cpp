#include "route_table.hpp"

#include <algorithm>
#include <stdexcept>

#include "sql_placeholders.hpp"

namespace plexus::api_manager {

RouteTable::RouteTable(std::vector<ApiDefinition> apis, std::vector<std::string>* skipped) {
  for (auto& def : apis) {
    std::string why;
    auto path = parse_path_template(def.path, &why);
    if (!path) {
      if (skipped) skipped->push_back(def.id + ": path " + why);
      continue;
    }
    std::shared_ptr<const ParamSchema> schema;
    try {
      schema = std::make_shared<const ParamSchema>(def.params);
    } catch (const std::invalid_argument& e) {
      if (skipped) skipped->push_back(def.id + ": params " + e.what());
      continue;
    }
    auto placeholders = sql_placeholders(def.sql);
    apis_.push_back({std::move(def), std::move(*path), std::move(placeholders), std::move(schema)});
  }
  std::stable_sort(apis_.begin(), apis_.end(), [](const CompiledApi& a, const CompiledApi& b) {
    if (more_specific(a.path, b.path)) return true;
    if (more_specific(b.path, a.path)) return false;
    return a.def.id < b.def.id;
  });
}

RouteTable RouteTable::from_resources(const nlohmann::json& list, std::vector<std::string>* skipped) {
  std::vector<ApiDefinition> apis;
  if (list.is_array()) {
    for (const auto& item : list) {
      const auto id = item.value("id", std::string());
      try {
        apis.push_back(parse_definition(id, item.value("revision", std::int64_t{0}), item.at("content")));
      } catch (const std::exception& e) {
        if (skipped) skipped->push_back(e.what());
      }
    }
  }
  return RouteTable(std::move(apis), skipped);
}

RouteTable::Match RouteTable::find(std::string_view method, std::string_view path) const {
  Match out;
  for (const auto& api : apis_) {
    auto params = match_path(api.path, path);
    if (!params) continue;
    if (api.def.method == method || (method == "HEAD" && api.def.method == "GET")) {
      out.api = &api;
      out.params = std::move(*params);
      out.allowed.clear();
      return out;
    }
    if (std::find(out.allowed.begin(), out.allowed.end(), api.def.method) == out.allowed.end()) {
      out.allowed.push_back(api.def.method);
    }
  }
  std::sort(out.allowed.begin(), out.allowed.end());
  return out;
}

std::vector<ApiDefinition> RouteTable::definitions() const {
  std::vector<ApiDefinition> out;
  for (const auto& api : apis_) out.push_back(api.def);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

const CompiledApi* RouteTable::by_id(std::string_view id) const {
  for (const auto& api : apis_) {
    if (api.def.id == id) return &api;
  }
  return nullptr;
}

}  // namespace plexus::api_manager
