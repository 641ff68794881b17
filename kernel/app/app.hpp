// plexusd as an object: configuration in, a running server out. main() and the
// in-process tests both build the kernel through this one class.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "kernel/audit/audit_log.hpp"
#include "kernel/config/config.hpp"
#include "kernel/datasources/datasources.hpp"
#include "kernel/jobs/cluster_membership.hpp"
#include "kernel/jobs/job_service.hpp"
#include "kernel/schedule/scheduler.hpp"
#include "kernel/events/bus.hpp"
#include "kernel/http/router.hpp"
#include "kernel/http/server.hpp"
#include "kernel/identity/identity.hpp"
#include "kernel/metrics/registry.hpp"
#include "kernel/plugins/plugin_host.hpp"
#include "kernel/resources/kinds.hpp"
#include "kernel/resources/resource_store.hpp"
#include "kernel/store/database.hpp"

namespace plexus::audit {
class RetentionWorker;
}
namespace plexus::resources {
class RetentionWorker;
}
namespace plexus::events {
class RedisBridge;
}

namespace plexus {

class JobRoutes;

// One readiness condition reported by /readyz; false with a reason when not ready.
struct ReadinessCheck {
  std::string name;
  std::function<bool(std::string& reason)> check;
};

class App {
 public:
  // Configures logging from `config` (call once per process), opens the database,
  // creates tenant "default" and user "admin" on first start (password
  // `admin_password`, or generated when empty) and registers the kernel routes.
  // Throws std::runtime_error with a clear message.
  explicit App(config::Config config, std::string admin_password = {});
  ~App();
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  // Starts the enabled plugins, imports the bootstrap bundles (resources.bootstrap;
  // after the plugins, whose kinds they use), starts the job worker and the scheduler,
  // then the listeners.
  void start();
  // Graceful: stops accepting, finishes in-flight requests up to http.shutdown_timeout,
  // stops the scheduler and waits for running jobs, then unloads the plugins.
  bool stop();

  int port(const std::string& listener = "main") const { return server_->port(listener); }
  const config::Config& config() const { return config_; }
  http::Router& router() { return router_; }
  metrics::Registry& metrics() { return metrics_; }
  store::Database& database() { return *database_; }
  events::Bus& bus() { return bus_; }
  plugins::PluginHost& plugins() { return *plugins_; }
  audit::AuditLog& audit() { return *audit_; }
  identity::Identity& identity() { return *identity_; }
  resources::ResourceKinds& resource_kinds() { return resource_kinds_; }
  resources::ResourceStore& resources() { return *resources_; }
  datasources::Datasources& datasources() { return *datasources_; }
  jobs::JobService& jobs() { return *jobs_; }
  schedule::Scheduler& scheduler() { return *scheduler_; }
  // The admin password generated on first start, to be shown once; nullopt otherwise.
  const std::optional<std::string>& generated_admin_password() const { return generated_admin_password_; }
  void add_readiness_check(ReadinessCheck check);
  std::vector<ReadinessCheck> readiness_checks() const;

 private:
  config::Config config_;
  metrics::Registry metrics_;
  http::Router router_;
  std::unique_ptr<store::Database> database_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<identity::Identity> identity_;
  std::optional<std::string> generated_admin_password_;
  std::unique_ptr<audit::RetentionWorker> retention_;
  resources::ResourceKinds resource_kinds_;
  std::unique_ptr<resources::ResourceStore> resources_;
  std::unique_ptr<resources::RetentionWorker> resource_retention_;
  std::unique_ptr<datasources::Datasources> datasources_;
  std::unique_ptr<jobs::ClusterMembership> cluster_;
  std::unique_ptr<jobs::JobService> jobs_;  // outlives the plugins, which unhandle their kinds
  std::unique_ptr<schedule::Scheduler> scheduler_;
  std::unique_ptr<JobRoutes> job_routes_;  // the progress streams
  events::Bus bus_{&metrics_};
  std::unique_ptr<events::RedisBridge> bridge_;  // events.redis.url set; goes before the bus
  std::unique_ptr<plugins::PluginHost> plugins_;
  mutable std::mutex readiness_mutex_;  // plugins add checks while /readyz runs
  std::vector<ReadinessCheck> readiness_;
  std::unique_ptr<http::Server> server_;
};

// The log options, server options and database URL that `config` describes.
std::filesystem::path data_dir_of(const config::Config& config);
http::ServerOptions server_options_of(const config::Config& config);
std::string database_url_of(const config::Config& config);
plugins::PluginHostOptions plugin_options_of(const config::Config& config);

}  // namespace plexus
