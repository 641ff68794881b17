#include "kernel/app/app.hpp"

#include <fstream>
#include <stdexcept>

#include <unistd.h>

#include <spdlog/logger.h>

#include "kernel/app/cluster_routes.hpp"
#include "kernel/app/health_routes.hpp"
#include "kernel/app/job_routes.hpp"
#include "kernel/app/log_routes.hpp"
#include "kernel/app/openapi.hpp"
#include "kernel/app/schedule_routes.hpp"
#include "kernel/audit/audit_routes.hpp"
#include "kernel/audit/retention_worker.hpp"
#include "kernel/datasources/datasource_routes.hpp"
#include "kernel/events/event_routes.hpp"
#include "kernel/events/redis_bridge.hpp"
#include "kernel/log/log.hpp"
#include "kernel/resources/bootstrap_bundles.hpp"
#include "kernel/resources/change_events.hpp"
#include "kernel/resources/resource_routes.hpp"
#include "kernel/resources/retention_worker.hpp"
#include "kernel/secrets/secret_file.hpp"

namespace plexus {
namespace {

log::Options log_options_of(const config::Config& config) {
  log::Options options;
  options.level = config.get_string("log.level");
  options.loggers = config.get_map("log.loggers");
  options.format = config.get_string("log.format") == "json" ? log::Format::json : log::Format::text;
  options.console = config.get_bool("log.console");
  const auto& file = config.get_string("log.file");
  if (file.empty()) {
    options.file = data_dir_of(config) / "logs" / "plexus.log";
  } else if (file != "off") {
    options.file = file;
  }
  options.file_max_size = config.get_size("log.file_max_size");
  options.file_max_files = static_cast<std::size_t>(config.get_int("log.file_max_files"));
  options.debug = config.get_bool("log.debug");
  return options;
}

}  // namespace

std::filesystem::path data_dir_of(const config::Config& config) {
  return std::filesystem::absolute(config.get_string("data_dir")).lexically_normal();
}

std::string database_url_of(const config::Config& config) {
  const auto& url = config.get_string("store.url");
  return url.empty() ? "sqlite:" + (data_dir_of(config) / "plexus.db").string() : url;
}

http::ServerOptions server_options_of(const config::Config& config) {
  http::ServerOptions options;
  http::ListenerOptions main;
  main.name = "main";
  main.address = config.get_string("http.address");
  main.port = static_cast<int>(config.get_int("http.port"));
  main.tls_cert_file = config.get_string("http.tls.cert");
  main.tls_key_file = config.get_string("http.tls.key");
  const auto console_port = config.get_int("http.console.port");
  options.listeners = {main};
  if (console_port != 0) {
    // COM-14: the web console on a port of its own; the API listener stops serving it.
    options.listeners[0].surface = http::Surface::api;
    http::ListenerOptions console = main;
    console.name = "console";
    console.port = static_cast<int>(console_port);
    const auto& console_address = config.get_string("http.console.address");
    if (!console_address.empty()) console.address = console_address;
    console.surface = http::Surface::console;
    options.listeners.push_back(console);
  }
  options.io_threads = static_cast<int>(config.get_int("http.io_threads"));
  options.workers = static_cast<int>(config.get_int("http.workers"));
  options.max_header_size = config.get_size("http.max_header_size");
  options.max_body_size = config.get_size("http.max_body_size");
  options.header_timeout = config.get_duration("http.header_timeout");
  options.body_timeout = config.get_duration("http.body_timeout");
  options.idle_timeout = config.get_duration("http.idle_timeout");
  options.write_timeout = config.get_duration("http.write_timeout");
  options.max_connections = static_cast<std::size_t>(config.get_int("http.max_connections"));
  options.sse_max_queued = static_cast<std::size_t>(config.get_int("http.sse.max_queued"));
  options.sse_heartbeat = config.get_duration("http.sse.heartbeat");
  options.cors_origins = config.get_list("http.cors.origins");
  options.hsts_max_age = std::chrono::duration_cast<std::chrono::seconds>(config.get_duration("http.hsts_max_age"));
  return options;
}

std::filesystem::path audit_export_dir_of(const config::Config& config) {
  const auto& dir = config.get_string("audit.export_dir");
  return dir.empty() ? data_dir_of(config) / "audit-export" : std::filesystem::absolute(dir);
}

plugins::PluginHostOptions plugin_options_of(const config::Config& config) {
  plugins::PluginHostOptions options;
  const auto& dir = config.get_string("plugins.dir");
  if (dir.empty()) {
    // Installed and build trees alike: bin/plexusd beside lib/plexus/.
    options.library_dir = std::filesystem::canonical("/proc/self/exe").parent_path().parent_path() / "lib" / "plexus";
  } else {
    options.library_dir = std::filesystem::absolute(dir);
  }
  options.manifests_dir = std::filesystem::absolute(config.get_string("plugins.manifests"));
  options.run_dir = data_dir_of(config) / "run" / "plugins";
  options.watch = config.get_bool("plugins.watch");
  options.drain_timeout = config.get_duration("plugins.drain_timeout");
  options.breaker_failures = static_cast<int>(config.get_int("plugins.breaker_failures"));
  options.breaker_cooldown = config.get_duration("plugins.breaker_cooldown");
  options.tool_timeout = config.get_duration("plugins.tool_call_timeout");
  return options;
}

namespace {

std::string store_key_of(const config::Config& config) {
  const auto& configured = config.get_string("store.secret_key");
  if (!configured.empty()) return configured;
  return secrets::read_or_create_secret(data_dir_of(config) / "secrets" / "store-key", "store key");
}

// cluster.node_id, or "<hostname>-<8 random characters>" made once and kept in
// <data_dir>/node-id, so a restarted node is the same node.
std::string node_id_of(const config::Config& config) {
  const auto& configured = config.get_string("cluster.node_id");
  if (!configured.empty()) return configured;
  const auto file = data_dir_of(config) / "node-id";
  if (std::ifstream in(file); in) {
    std::string id;
    std::getline(in, id);
    if (!id.empty()) return id;
  }
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  const auto id = std::string(host) + "-" + secrets::random_secret(6).substr(0, 8);
  std::filesystem::create_directories(file.parent_path());
  std::ofstream(file) << id << "\n";
  return id;
}

jobs::JobServiceOptions job_service_options_of(const config::Config& config, const std::string& node_id) {
  jobs::JobServiceOptions options;
  options.worker.node_id = node_id;
  options.worker.concurrency = static_cast<int>(config.get_int("jobs.concurrency"));
  options.worker.poll_interval = config.get_duration("jobs.poll_interval");
  options.worker.claim_duration = config.get_duration("jobs.claim_duration");
  options.max_attempts = static_cast<int>(config.get_int("jobs.max_attempts"));
  return options;
}

schedule::SchedulerOptions scheduler_options_of(const config::Config& config, const std::string& node_id,
                                                std::function<bool()> leader) {
  schedule::SchedulerOptions options;
  options.node_id = node_id;
  options.leader = std::move(leader);
  options.missed_runs =
      schedule::parse_missed_run_policy(config.get_string("schedules.missed_runs")).value_or(options.missed_runs);
  options.catch_up_cap = static_cast<std::size_t>(config.get_int("schedules.catch_up_cap"));
  options.misfire_threshold = config.get_duration("schedules.misfire_threshold");
  options.tick = config.get_duration("schedules.tick");
  options.max_attempts = static_cast<int>(config.get_int("jobs.max_attempts"));
  return options;
}

datasources::Limits datasource_limits_of(const config::Config& config) {
  datasources::Limits limits;
  limits.max_rows = static_cast<std::uint64_t>(config.get_int("datasources.max_rows"));
  limits.timeout_ms = static_cast<std::uint64_t>(config.get_duration("datasources.timeout").count());
  limits.idle_connections = static_cast<std::size_t>(config.get_int("datasources.idle_connections"));
  return limits;
}

}  // namespace

App::App(config::Config config, std::string admin_password) : config_(std::move(config)) {
  for (const auto& secret : config_.secret_values()) log::add_secret(secret);
  log::configure(log_options_of(config_));
  metrics::register_process_metrics(metrics_);

  store::DatabaseOptions database;
  database.url = database_url_of(config_);
  database.pool_size = static_cast<std::size_t>(config_.get_int("store.pool_size"));
  database.busy_timeout = config_.get_duration("store.busy_timeout");
  database_ = std::make_unique<store::Database>(database);
  log::get("store")->info("database: {}", store::redact_url(database.url));

  add_readiness_check({"database", [this](std::string& reason) { return database_->ping(&reason); }});
  register_health_routes(*this);

  audit_ = std::make_unique<audit::AuditLog>(*database_);
  identity_ = std::make_unique<identity::Identity>(*database_, *audit_,
                                                   identity::identity_options_of(config_, data_dir_of(config_)));
  if (!admin_password.empty()) log::add_secret(admin_password);
  generated_admin_password_ = identity_->bootstrap(admin_password);
  if (generated_admin_password_) log::add_secret(*generated_admin_password_);
  // Plugins start later; the catalogue asks them each time it is listed.
  identity_->register_routes(router_, [this] {
    std::vector<identity::PluginPermission> listed;
    if (!plugins_) return listed;
    for (const auto& [plugin, permissions] : plugins_->declared_permissions()) {
      for (const auto& p : permissions) listed.push_back({p.permission, p.description, plugin});
    }
    return listed;
  });
  audit::register_audit_routes(router_, *audit_);
  const auto& log_file = log_options_of(config_).file;
  register_log_routes(router_, log_file, audit_.get());
  retention_ = std::make_unique<audit::RetentionWorker>(*audit_, config_.get_duration("audit.retention"),
                                                        audit_export_dir_of(config_));

  resources_ = std::make_unique<resources::ResourceStore>(*database_, *audit_, resource_kinds_,
                                                          resources::publish_changes_on(bus_));
  resources::register_resource_routes(router_, *resources_);
  resource_retention_ = std::make_unique<resources::RetentionWorker>(
      *resources_, resources::retention_schedule_of(config_), metrics_);
  datasources_ = std::make_unique<datasources::Datasources>(*resources_, secrets::SecretBox(store_key_of(config_)),
                                                            datasource_limits_of(config_), metrics_);
  datasources::register_datasource_routes(router_, *datasources_, *resources_, *audit_);

  cluster_ = std::make_unique<jobs::ClusterMembership>(*database_, node_id_of(config_),
                                                       config_.get_duration("cluster.lease_ttl"),
                                                       nlohmann::json{{"version", PLEXUS_VERSION}});
  register_cluster_routes(router_, *cluster_);
  events::register_event_routes(
      router_, bus_, {cluster_->node_id(), static_cast<std::size_t>(config_.get_int("events.stream_queue"))},
      audit_.get());
  if (const auto& redis_url = config_.get_string("events.redis.url"); !redis_url.empty()) {
    events::RedisBridgeOptions bridge;
    bridge.url = redis_url;
    bridge.stream = config_.get_string("events.redis.stream");
    bridge.max_length = static_cast<std::uint64_t>(config_.get_int("events.redis.max_length"));
    bridge.node_id = cluster_->node_id();
    try {
      bridge_ = std::make_unique<events::RedisBridge>(bus_, std::move(bridge), &metrics_);
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error(std::string("events.redis.url: ") + e.what());
    }
  }

  jobs_ = std::make_unique<jobs::JobService>(*database_, job_service_options_of(config_, cluster_->node_id()));
  job_routes_ = std::make_unique<JobRoutes>(*jobs_, *audit_);
  job_routes_->register_routes(router_);
  scheduler_ = std::make_unique<schedule::Scheduler>(
      *database_, jobs_->queue(), scheduler_options_of(config_, cluster_->node_id(), [this] { return cluster_->leader(); }));
  register_schedule_routes(router_, *scheduler_, *audit_);

  auto plugin_options = plugin_options_of(config_);
  plugin_options.database = database_.get();
  plugin_options.resources = resources_.get();
  plugin_options.datasources = datasources_.get();
  plugin_options.cluster = cluster_.get();
  plugin_options.jobs = jobs_.get();
  plugin_options.scheduler = scheduler_.get();
  plugin_options.audit = [this](const auth::Caller* caller, const std::string& plugin, const nlohmann::json& event) {
    audit::AuditEvent row = caller ? audit::event_of(*caller, event.value("action", ""), event.value("target", ""))
                                   : audit::AuditEvent{};
    if (!caller) {
      row.actor = "plugin:" + plugin;
      row.action = event.value("action", "");
      row.target = event.value("target", "");
    }
    row.outcome = event.value("outcome", "success");
    row.before = event.value("before", nlohmann::json());
    row.after = event.value("after", nlohmann::json());
    row.details = event.value("details", nlohmann::json());
    audit_->record(std::move(row));
  };
  plugins_ = std::make_unique<plugins::PluginHost>(std::move(plugin_options), router_, metrics_, bus_);
  plugins_->register_admin_routes(router_);
  plugins_->register_tool_routes(router_);
  add_readiness_check({"plugins", [this](std::string& reason) { return plugins_->all_running(reason); }});
  register_openapi_route(router_, PLEXUS_VERSION);
  auto server_options = server_options_of(config_);
  server_options.authenticator = identity_->authenticator();
  server_ = std::make_unique<http::Server>(std::move(server_options), router_, metrics_);
}

App::~App() {
  // The server and plugins go first: nothing may call into identity or audit after.
  server_.reset();
  job_routes_.reset();
  // Stopped, not destroyed: plugins may still call both while they unload.
  if (scheduler_) scheduler_->stop();
  if (jobs_) jobs_->stop();  // no plugin handler runs once the plugins are gone
  plugins_.reset();
  bridge_.reset();  // plugins may publish while they stop; the bus outlives the bridge
  datasources_.reset();
  scheduler_.reset();
  jobs_.reset();
  cluster_.reset();
  resource_retention_.reset();
  resources_.reset();
  retention_.reset();
}

void App::start() {
  if (bridge_) bridge_->start();  // first, so what plugins publish on start reaches the other nodes
  plugins_->start();
  resources::import_bootstrap_bundles(*resources_, config_.get_string("resources.bootstrap"));
  jobs_->start();  // claims only kinds with a handler; plugins add and remove theirs at any time
  scheduler_->start();
  server_->start();
}

bool App::stop() {
  const bool clean = server_->stop(config_.get_duration("http.shutdown_timeout"));
  scheduler_->stop();
  jobs_->stop();  // waits for running handlers, before the plugins that own them unload
  plugins_->stop();
  if (bridge_) bridge_->stop();
  log::flush();
  return clean;
}

void App::add_readiness_check(ReadinessCheck check) {
  std::lock_guard lock(readiness_mutex_);
  readiness_.push_back(std::move(check));
}

std::vector<ReadinessCheck> App::readiness_checks() const {
  std::lock_guard lock(readiness_mutex_);
  return readiness_;
}

}  // namespace plexus
