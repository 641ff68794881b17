// The runtime router: every request under /runtime/ (issue 7 item 3). Finds the API of
// the caller's tenant by method and path, decides access (public APIs, api.execute,
// staging for api.write), merges and validates the parameters, runs the SQL on the
// API (execute.hpp) and answers its outcome, recording the run.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <plexus/plugin.hpp>

#include "canary.hpp"
#include "exec_log.hpp"
#include "execute.hpp"
#include "response_cache.hpp"
#include "route_table.hpp"
#include "run_observer.hpp"

namespace plexus::api_manager {

class Runtime {
 public:
  // The OpenAPI document of the APIs a caller may see (public ones for anonymous callers).
  using OpenApi = std::function<nlohmann::json(const std::vector<ApiDefinition>&)>;

  // `log` may be null (no execution log). `cache_ttl`: how long a tenant's route table
  // is reused when no change event says it changed earlier.
  Runtime(sdk::Host& host, ExecLog* log, OpenApi openapi, std::chrono::milliseconds cache_ttl);

  void handle(const sdk::Request& req, sdk::Response& res);

  // Runs `api` outside an HTTP request (test cases, schedules, batches): `raw_params`
  // merged and validated as a JSON body would be, then executed; nested API calls see
  // `stage`. `caller` may be null (no caller: tool calls are refused, nested APIs run
  // without a permission check). Steps go to `steps` when given. Not logged.
  Outcome run(const std::string& tenant, const std::string& stage, const CompiledApi& api,
              const nlohmann::json& raw_params, const plexus_caller* caller = nullptr,
              std::vector<StepRecord>* steps = nullptr, const std::string& request_id = {});
  // The canary of API `id` (canary.hpp): its policy, state and figures on this node;
  // nullopt when the staging revision is no canary of the production one.
  std::optional<nlohmann::json> canary_status(const std::string& tenant, const std::string& id);
  // The tenant's API `id` on `stage`; null when there is none. Shares the cached table.
  std::shared_ptr<const RouteTable> routes(const std::string& tenant, const std::string& stage) {
    return table(tenant, stage);
  }
  // Drops the cached route tables of `tenant` (all tenants when empty).
  void invalidate(const std::string& tenant = {});
  // A resource.api.changed event's payload: {"tenant", "id", ...}: the route tables and
  // the cached answers of that API go.
  void on_change(std::string_view payload_json);

 private:
  // Runs another API of the same tenant and stage for a workflow step or a script.
  Outcome call_nested(const ExecContext& outer, const std::string& id, const nlohmann::json& params,
                      std::chrono::steady_clock::time_point deadline);
  std::shared_ptr<const RouteTable> table(const std::string& tenant, const std::string& stage);

  struct Entry {
    std::shared_ptr<const RouteTable> table;
    std::chrono::steady_clock::time_point loaded;
  };
  sdk::Host& host_;
  ExecLog* log_;
  OpenApi openapi_;
  std::chrono::milliseconds cache_ttl_;
  std::mutex mutex_;
  std::map<std::string, Entry> cache_;  // "<tenant>\n<stage>"
  ResponseCache answers_;
  RunObserver observer_;
  Canary canary_;
};

// {"error": {"code", "message", "details"?, "request_id"}}.
nlohmann::json error_body(std::string_view code, std::string_view message, const nlohmann::json& details,
                          std::string_view request_id);

}  // namespace plexus::api_manager
