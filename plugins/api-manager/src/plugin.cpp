// The api-manager plugin's entry: registers the kind "api", the runtime routes under
// /runtime/ and the execution log's routes; the logic lives in the static library.
#include <chrono>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>
#include <plexus/plugin.hpp>

#include "api_jobs.hpp"
#include "api_tests.hpp"
#include "canary_route.hpp"
#include "compatibility.hpp"
#include "definition.hpp"
#include "exec_log.hpp"
#include "openapi.hpp"
#include "promotion_gate.hpp"
#include "runtime.hpp"
#include "save_check.hpp"
#include "slow_summary.hpp"

namespace plexus::api_manager {

class ApiManagerPlugin : public sdk::Plugin {
 public:
  void start() override {
    const auto config = nlohmann::json::parse(host().config_json(), nullptr, false);
    const auto settings = config.is_object() ? config : nlohmann::json::object();

    host().resource_kind(
        {.name = "api",
         .json_schema = "",  // validate_content checks everything, naming each problem once
         .permission_prefix = "api",
         .requires_approval = false,
         .validate =
             [](std::string_view content) { return validate_content(nlohmann::json::parse(content)).dump(); },
         .references = [](std::string_view content) { return api_references(nlohmann::json::parse(content)).dump(); },
         // Tests and compatibility before production (promotion_gate.hpp); runs after start().
         .pre_promotion = [this](std::string_view input) { return check_promotion(host(), *runtime_, input); },
         // The store's lifecycle routes again under this plugin's API (docs/api-manager.md).
         .route_prefix = "/api/v1/api-manager/apis",
         // System APIs and SQL its datasource cannot compile (save_check.hpp).
         .check_save = [this](const sdk::Caller& caller,
                              std::string_view input) { return check_api_save(host(), caller, input); }});

    log_ = std::make_unique<ExecLog>(host());
    register_exec_log_routes(host(), *log_, "/api/v1/api-manager");
    start_exec_log_retention(host(), *log_, exec_log_retention(settings));
    // Runtime runs are written in batches: every 100 ms, and what is left on stop.
    host().timer(100, true, [this] { log_->flush(); });

    RuntimeOpenApiOptions options;
    options.stage_header = "X-Plexus-Stage";
    Runtime::OpenApi openapi = [options](const std::vector<ApiDefinition>& apis) {
      return runtime_openapi(apis, options);
    };
    const auto ttl = std::chrono::milliseconds(settings.value("route_cache_ttl_ms", 5000));
    runtime_ = std::make_unique<Runtime>(host(), log_.get(), std::move(openapi), ttl);
    register_slow_summary_route(host(), *runtime_, *log_, "/api/v1/api-manager");
    register_canary_route(host(), *runtime_, "/api/v1/api-manager");
    // Test suites (kind api-test) and the compatibility check (api_tests.hpp, compatibility.hpp).
    register_api_tests(host(), *runtime_, "/api/v1/api-manager");
    register_compatibility_route(host(), "/api/v1/api-manager");
    // Schedules and batches: the job kind api-manager.run and its routes (api_jobs.hpp).
    jobs_ = std::make_unique<ApiJobs>(host(), *runtime_, *log_);
    jobs_->register_handler();
    jobs_->register_routes("/api/v1/api-manager");
    // Saves and promotions of APIs reach the route tables at once; the TTL covers
    // changes made on other nodes when events are not shared between them.
    host().subscribe("resource.api.changed",
                     [this](std::string_view, std::string_view payload) { runtime_->on_change(payload); });
    for (const char* method : {"GET", "POST", "PUT", "PATCH", "DELETE"}) {
      host().route(
          method, "/runtime/{path*}", sdk::kOptional,
          [this](const sdk::Request& req, sdk::Response& res) { runtime_->handle(req, res); }, 0,
          "A runtime API: its production revision, or staging for editors (X-Plexus-Stage: staging)");
    }
  }

  void stop() override {
    if (log_) log_->flush();
  }

 private:
  std::unique_ptr<ExecLog> log_;
  std::unique_ptr<Runtime> runtime_;
  std::unique_ptr<ApiJobs> jobs_;  // after runtime_ and log_: it uses them
};

}  // namespace plexus::api_manager

// The permissions checked in the plugin's code rather than on a route (those the
// catalogue finds itself): for custom roles, with `:<id>` for one API or service.
PLEXUS_PLUGIN_WITH_PERMISSIONS(
    plexus::api_manager::ApiManagerPlugin, "api-manager", "0.1.0",
    "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
    "\"exec_log_retention\":{\"type\":\"string\",\"pattern\":\"^[0-9]+(ms|s|m|h|d)$\","
    "\"description\":\"How long runs stay in the execution log, such as 30d\"},"
    "\"route_cache_ttl_ms\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":600000,"
    "\"description\":\"How long a tenant's route table is reused (change events refresh it sooner)\"}}}",
    "[{\"permission\":\"api.execute\",\"description\":\"Call runtime APIs at /runtime (api.execute:<id> for "
    "one), also from workflows, scripts, schedules and batches\"},"
    "{\"permission\":\"api.system.write\",\"description\":\"Save, change, delete or restore system APIs "
    "(besides api.write)\"},"
    "{\"permission\":\"api.service.execute\",\"description\":\"Let workflow steps call a kernel service "
    "(api.service.execute:<service>)\"}]")
