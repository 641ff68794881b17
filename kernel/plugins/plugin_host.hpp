// The plugin host: loads plugins named by manifests, hands them the host services
// table, and reloads them while the server keeps serving (DESIGN.md "Hot reload"):
// metadata checked before dlopen, a unique copy per generation, the new generation
// started before the route swap, leases drained before the old one is unloaded.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernel/auth/caller.hpp"
#include "kernel/events/bus.hpp"
#include "kernel/http/router.hpp"
#include "kernel/metrics/registry.hpp"
#include "kernel/plugins/generation.hpp"
#include "kernel/plugins/named_registry.hpp"
#include "kernel/datasources/datasources.hpp"
#include "kernel/resources/resource_store.hpp"
#include "kernel/store/database.hpp"

namespace plexus::jobs {
class ClusterMembership;
class JobService;
}  // namespace plexus::jobs
namespace plexus::schedule {
class Scheduler;
}

namespace plexus::plugins {

struct PluginHostOptions {
  std::filesystem::path library_dir;    // where manifests' relative library paths resolve
  std::filesystem::path manifests_dir;  // *.yaml, watched when `watch`
  std::filesystem::path run_dir;        // per-generation copies of the libraries
  std::chrono::milliseconds drain_timeout{10'000};
  bool watch = true;
  int breaker_failures = 5;
  std::chrono::milliseconds breaker_cooldown{30'000};
  int workers = 2;  // threads for timers and service calls
  // Where the host table's `audit` goes: (caller or nullptr, plugin name, event JSON
  // with a prefixed action). Unset: audit calls fail with PLEXUS_ERR_UNAVAILABLE.
  std::function<void(const auth::Caller*, const std::string& plugin, const nlohmann::json& event)> audit;
  // The kernel database behind db_migrate/db_query/db_exec; none: they answer
  // PLEXUS_ERR_UNAVAILABLE.
  store::Database* database = nullptr;
  // Where plugins' resource kinds go and resource_get/resource_list read; none: those
  // calls answer PLEXUS_ERR_UNAVAILABLE.
  resources::ResourceStore* resources = nullptr;
  // Where plugins' drivers go and datasource_* calls run; none: PLEXUS_ERR_UNAVAILABLE.
  datasources::Datasources* datasources = nullptr;
  // This node's part in the cluster, behind cluster_leader; none: PLEXUS_ERR_UNAVAILABLE.
  jobs::ClusterMembership* cluster = nullptr;
  // The node's jobs and schedules, behind the job_* and schedule_* members; none:
  // those answer PLEXUS_ERR_UNAVAILABLE.
  jobs::JobService* jobs = nullptr;
  schedule::Scheduler* scheduler = nullptr;
  // How long a tool call may run (tools.call_timeout) before the caller gets a 504.
  std::chrono::milliseconds tool_timeout{30'000};
};

// The outcome of one tool call (docs/tools.md), for REST and the tool_call member.
struct ToolCall {
  enum class Outcome { ok, not_found, invalid, denied, timeout, unavailable, failed };
  Outcome outcome = Outcome::failed;
  std::string output;  // ok: the tool's JSON answer
  std::string message;  // otherwise: why, fit for the caller
  nlohmann::json details;  // invalid input: {"field", "problems": [{"pointer","message"}]}
  std::string plugin;      // the tool's plugin, when the tool exists
};

// The outcome of an admin action, for REST and logs.
struct ActionResult {
  bool ok = false;
  std::string message;
};

class PluginHost {
 public:
  PluginHost(PluginHostOptions options, http::Router& router, metrics::Registry& metrics, events::Bus& bus);
  ~PluginHost();
  PluginHost(const PluginHost&) = delete;
  PluginHost& operator=(const PluginHost&) = delete;

  // Scans the manifests, starts the enabled plugins in dependency order, starts watching.
  void start();
  // Unloads everything, dependents first.
  void stop();

  // Re-reads the manifests directory and converges: load new, reload changed, unload gone.
  void rescan();
  ActionResult reload(const std::string& name);
  ActionResult enable(const std::string& name);
  ActionResult disable(const std::string& name);

  // Every known plugin: state, version, generation, last error.
  nlohmann::json status() const;
  // Readiness: every enabled plugin is running.
  bool all_running(std::string& reason) const;
  // The permissions each running plugin declares in its metadata, by plugin name.
  std::map<std::string, std::vector<DeclaredPermission>> declared_permissions() const;

  // GET /api/v1/admin/plugins and POST /api/v1/admin/plugins/{name}/{action}.
  void register_admin_routes(http::Router& router);

  // GET /api/v1/tools, GET /api/v1/tools/{name}, POST /api/v1/tools/{name}/call and
  // GET /api/v1/admin/services.
  void register_tool_routes(http::Router& router);
  // Runs tool `name` for `caller` with the caller's permissions: permission and input
  // schema checked first, the handler on a worker under a lease, audited and counted.
  // `via` says who asked ("rest", "plugin:<name>"); timeout 0: options().tool_timeout.
  ToolCall call_tool(const auth::Caller& caller, std::string_view name, std::string_view input,
                     std::chrono::milliseconds timeout, const std::string& via);

  NamedRegistry<Service>& services() { return services_; }
  NamedRegistry<Tool>& tools() { return tools_; }

  // Used by the host services table.
  http::Router& router() { return router_; }
  metrics::Registry& metrics() { return metrics_; }
  events::Bus& bus() { return bus_; }
  const PluginHostOptions& options() const { return options_; }
  struct Runtime;
  Runtime& runtime() { return *runtime_; }

 private:
  struct Record {
    std::string name;
    std::optional<Manifest> manifest;
    std::string manifest_error;
    std::optional<bool> enabled_override;  // from the admin API; wins over the manifest
    std::string state = "stopped";         // stopped, running, failed, disabled
    std::string last_error;
    std::shared_ptr<Generation> current;
    std::vector<std::shared_ptr<Generation>> stuck;  // did not drain in time; kept loaded
    std::uint64_t loads = 0;
    std::filesystem::file_time_type library_time{};
    std::string manifest_text;
  };

  bool wanted(const Record& record) const;
  // Loads and starts a new generation, then swaps it in. The old one keeps serving on failure.
  ActionResult load_locked(Record& record);
  void unload_locked(Record& record);
  std::shared_ptr<Generation> start_generation(Record& record, std::string& error);
  void retire(std::shared_ptr<Generation> generation, Record& record);
  void converge_locked();
  // Makes what `generation` registered (nothing, when null) the live set of `owner`.
  void publish(const std::string& owner, const Generation* generation);
  // Takes `old`'s job handlers away (waiting for its running jobs) and hands `next`'s
  // to the job service; either may be null.
  void swap_job_handlers(Generation* old, Generation* next);
  void watch_loop();

  PluginHostOptions options_;
  http::Router& router_;
  metrics::Registry& metrics_;
  events::Bus& bus_;
  NamedRegistry<Service> services_{"service"};
  NamedRegistry<Tool> tools_{"tool"};
  std::unique_ptr<Runtime> runtime_;

  mutable std::recursive_mutex mutex_;  // lifecycle actions run one at a time
  std::map<std::string, Record> records_;
  std::vector<std::string> scan_errors_;

  std::atomic<bool> watching_{false};
  std::thread watcher_;
  int inotify_fd_ = -1;
};

// The table handed to every plugin.
const plexus_host_api* host_api();

}  // namespace plexus::plugins
