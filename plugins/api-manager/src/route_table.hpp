// A tenant's runtime APIs of one stage, ready to match requests: path templates parsed,
// SQL placeholders found and parameter schemas compiled once per revision.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "definition.hpp"
#include "params.hpp"
#include "path_template.hpp"

namespace plexus::api_manager {

struct CompiledApi {
  ApiDefinition def;
  PathTemplate path;
  std::vector<std::string> placeholders;
  std::shared_ptr<const ParamSchema> schema;
};

class RouteTable {
 public:
  RouteTable() = default;
  // Definitions that do not parse are left out, each named in `skipped` with the reason.
  explicit RouteTable(std::vector<ApiDefinition> apis, std::vector<std::string>* skipped = nullptr);
  // From Host::resource_list: [{"id","revision","content"}].
  static RouteTable from_resources(const nlohmann::json& list, std::vector<std::string>* skipped = nullptr);

  struct Match {
    const CompiledApi* api = nullptr;           // null: no API for this method and path
    std::map<std::string, std::string> params;  // the path parameters
    std::vector<std::string> allowed;           // methods the path has, when `api` is null (405)
  };
  // `path` below /runtime/, without the leading "/". The most specific template wins
  // (a literal over a parameter at the first segment where they differ), then the lowest id.
  Match find(std::string_view method, std::string_view path) const;

  // The API with this id; null when there is none.
  const CompiledApi* by_id(std::string_view id) const;
  const std::vector<CompiledApi>& apis() const { return apis_; }
  std::vector<ApiDefinition> definitions() const;

 private:
  std::vector<CompiledApi> apis_;  // sorted: most specific first, then by id
};

}  // namespace plexus::api_manager
