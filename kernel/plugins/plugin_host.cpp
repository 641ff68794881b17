#include "kernel/plugins/plugin_host.hpp"

#include <dlfcn.h>
#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <future>
#include <cstring>
#include <fstream>
#include <random>

#include <spdlog/logger.h>

#include "kernel/jobs/job_service.hpp"
#include "kernel/log/log.hpp"
#include "kernel/plugins/runtime.hpp"
#include "kernel/resources/resource_routes.hpp"

namespace plexus::plugins {
namespace {

using Clock = std::chrono::steady_clock;

std::shared_ptr<spdlog::logger> logger() { return log::get("plugins"); }

std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::filesystem::file_time_type modified(const std::filesystem::path& file) {
  std::error_code ec;
  const auto time = std::filesystem::last_write_time(file, ec);
  return ec ? std::filesystem::file_time_type{} : time;
}

// Runs the lifecycle functions a descriptor has; older plugins may lack later members.
void stop_and_destroy(Generation& generation) {
  const auto* descriptor = generation.descriptor;
  if (!descriptor || !generation.instance) return;
  if (PLEXUS_HAS_MEMBER(descriptor, plexus_plugin_descriptor, stop) && descriptor->stop) {
    descriptor->stop(generation.instance);
  }
  if (PLEXUS_HAS_MEMBER(descriptor, plexus_plugin_descriptor, destroy) && descriptor->destroy) {
    descriptor->destroy(generation.instance);
  }
  generation.instance = nullptr;
}

// Timers, subscriptions and streams end before the drain, so no new work starts.
void revoke_activity(Generation& generation, events::Bus& bus) {
  std::map<std::uint64_t, std::function<void()>> timers;
  std::vector<std::uint64_t> subscriptions;
  std::vector<std::weak_ptr<http::EventStream>> streams;
  {
    std::lock_guard lock(generation.mutex);
    timers.swap(generation.timers);
    subscriptions.swap(generation.subscriptions);
    streams.swap(generation.open_streams);
  }
  for (auto& [id, cancel] : timers) cancel();
  for (auto id : subscriptions) bus.unsubscribe(id);
  for (auto& weak : streams) {
    if (auto stream = weak.lock()) stream->close();
  }
}

// Unloads the library and checks that the loader really let it go.
std::string unload_library(Generation& generation) {
  generation.descriptor = nullptr;
  {
    std::lock_guard lock(generation.mutex);
    generation.streams.clear();
    generation.routes.clear();
    generation.services.clear();
    generation.tools.clear();
    generation.kinds.clear();
    generation.drivers.clear();
    generation.job_handlers.clear();
  }
  generation.library.unload();
  std::string problem;
  if (void* still = ::dlopen(generation.copy().c_str(), RTLD_NOW | RTLD_NOLOAD)) {
    ::dlclose(still);
    problem = "library copy is still mapped after unload (a thread_local destructor or unique symbol pins it)";
  }
  std::error_code ignored;
  std::filesystem::remove(generation.copy(), ignored);
  return problem;
}

std::vector<std::string_view> segments(std::string_view pattern) {
  std::vector<std::string_view> parts;
  while (!pattern.empty()) {
    pattern.remove_prefix(1);  // the '/'
    const auto slash = pattern.find('/');
    parts.push_back(pattern.substr(0, slash));
    pattern = slash == std::string_view::npos ? std::string_view() : pattern.substr(slash);
  }
  return parts;
}

// True when every path `mounted` matches is one `own` matches too: with the plugin's
// routes first in the table, `own` would answer them all ("/x/{name}" covers "/x/{id}",
// "/x/{rest*}" covers "/x/{id}/diff", "/x/export" covers nothing with a parameter there).
bool covers(const http::Route& own, const http::Route& mounted) {
  if (own.method != mounted.method) return false;
  const auto a = segments(own.pattern), b = segments(mounted.pattern);
  for (std::size_t i = 0; i < a.size(); ++i) {
    const bool param = a[i].starts_with('{');
    if (param && a[i].ends_with("*}")) return i < b.size();
    if (i >= b.size()) return false;
    if (!param && a[i] != b[i]) return false;
  }
  return a.size() == b.size();
}

// The plugin's own routes, then the store's routes of each kind with a route_prefix
// (ABI 1.5). Throws when one of its own routes would hide a mounted one.
std::vector<http::Route> published_routes(const Generation& generation, resources::ResourceStore* store) {
  auto routes = generation.routes;
  if (!store) return routes;
  for (const auto& kind : generation.kinds) {
    if (kind.route_prefix.empty()) continue;
    for (auto& mounted : resources::kind_routes(*store, kind.name, kind.route_prefix)) {
      for (const auto& own : generation.routes) {
        if (covers(own, mounted)) {
          throw std::runtime_error("resource kind '" + kind.name + "': its route_prefix would serve " +
                                   mounted.method + " " + mounted.pattern + ", which the plugin's route " +
                                   own.method + " " + own.pattern + " answers first");
        }
      }
      mounted.owner = generation.name();
      routes.push_back(std::move(mounted));
    }
  }
  return routes;
}

}  // namespace

PluginHost::PluginHost(PluginHostOptions options, http::Router& router, metrics::Registry& metrics, events::Bus& bus)
    : options_(std::move(options)),
      router_(router),
      metrics_(metrics),
      bus_(bus),
      runtime_(std::make_unique<Runtime>(options_.workers)) {
  std::filesystem::create_directories(options_.run_dir);
  // Copies left by a previous process that died are useless now.
  for (const auto& entry : std::filesystem::directory_iterator(options_.run_dir)) {
    if (entry.path().extension() == ".so") std::filesystem::remove(entry.path());
  }
}

PluginHost::~PluginHost() { stop(); }

bool PluginHost::wanted(const Record& record) const {
  if (!record.manifest) return false;
  return record.enabled_override.value_or(record.manifest->enabled);
}

void PluginHost::start() {
  {
    std::lock_guard lock(mutex_);
    converge_locked();
  }
  if (options_.watch && !watching_) {
    inotify_fd_ = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (inotify_fd_ >= 0) {
      const auto mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE;
      ::inotify_add_watch(inotify_fd_, options_.manifests_dir.c_str(), mask);
      ::inotify_add_watch(inotify_fd_, options_.library_dir.c_str(), IN_CLOSE_WRITE | IN_MOVED_TO);
      watching_ = true;
      watcher_ = std::thread([this] { watch_loop(); });
    } else {
      logger()->warn("cannot watch {}: {}", options_.manifests_dir.string(), std::strerror(errno));
    }
  }
}

void PluginHost::stop() {
  if (watching_.exchange(false)) watcher_.join();
  if (inotify_fd_ >= 0) {
    ::close(inotify_fd_);
    inotify_fd_ = -1;
  }
  std::lock_guard lock(mutex_);
  // Dependents first: unload in reverse start order.
  std::vector<std::string> names;
  for (const auto& [name, record] : records_) {
    if (record.current) names.push_back(name);
  }
  std::vector<Manifest> manifests;
  for (const auto& name : names) manifests.push_back(*records_[name].manifest);
  std::vector<std::string> ignored;
  auto order = start_order(manifests, ignored);
  for (const auto& name : names) {
    if (std::find(order.begin(), order.end(), name) == order.end()) order.push_back(name);
  }
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    auto record = records_.find(*it);
    if (record != records_.end() && record->second.current) {
      unload_locked(record->second);
      record->second.state = "stopped";
    }
  }
}

void PluginHost::watch_loop() {
  while (watching_) {
    pollfd fd{inotify_fd_, POLLIN, 0};
    if (::poll(&fd, 1, 200) <= 0) continue;
    // Debounce: editors and compilers write a file in several steps.
    char buffer[4096];
    do {
      while (::read(inotify_fd_, buffer, sizeof buffer) > 0) {
      }
    } while (::poll(&fd, 1, 300) > 0 && watching_);
    if (!watching_) break;
    try {
      rescan();
    } catch (const std::exception& e) {
      logger()->error("rescan after a change failed: {}", e.what());
    }
  }
}

void PluginHost::rescan() {
  std::lock_guard lock(mutex_);
  converge_locked();
}

void PluginHost::converge_locked() {
  auto scan = scan_manifests(options_.manifests_dir, options_.library_dir);
  scan_errors_.clear();
  for (const auto& [file, error] : scan.errors) {
    scan_errors_.push_back(error);
    logger()->error("manifest {}: {}", file.string(), error);
  }
  std::map<std::string, Manifest> found;
  for (auto& manifest : scan.manifests) found.emplace(manifest.name, std::move(manifest));

  // Gone manifests: unload and forget.
  for (auto it = records_.begin(); it != records_.end();) {
    if (found.count(it->first)) {
      ++it;
      continue;
    }
    if (it->second.current) unload_locked(it->second);
    logger()->info("plugin {}: manifest removed", it->first);
    it = records_.erase(it);
  }

  std::vector<Manifest> enabled;
  for (auto& [name, manifest] : found) {
    auto& record = records_[name];
    record.name = name;
    const auto text = read_text(manifest.file);
    const bool manifest_changed = record.manifest && record.manifest_text != text;
    record.manifest = manifest;
    if (manifest_changed) record.enabled_override.reset();  // the operator's file speaks again
    // A running plugin keeps the text it was loaded from, so a change reloads it below.
    if (!record.current) record.manifest_text = text;
    if (wanted(record)) {
      Manifest copy = manifest;
      copy.enabled = true;
      enabled.push_back(std::move(copy));
    }
  }
  const auto plan = plan_start(enabled);
  const auto& order = plan.order;
  std::map<std::string, std::string> excluded;
  for (const auto& [name, reason] : plan.excluded) {
    scan_errors_.push_back(reason);
    logger()->error("plugin {}: {}", name, reason);
    excluded[name] = reason;
  }

  for (auto& [name, record] : records_) {
    const bool should_run = std::find(order.begin(), order.end(), name) != order.end();
    if (!should_run && record.current) unload_locked(record);
    if (should_run) continue;
    record.state = wanted(record) ? "failed" : "disabled";
    if (auto it = excluded.find(name); it != excluded.end()) record.last_error = it->second;
  }
  for (const auto& name : order) {
    auto& record = records_[name];
    const auto text = read_text(record.manifest->file);
    const bool changed = !record.current || record.manifest_text != text ||
                         record.library_time != modified(record.manifest->library);
    if (!changed) continue;
    record.manifest_text = text;
    load_locked(record);
  }
}

std::shared_ptr<Generation> PluginHost::start_generation(Record& record, std::string& error) {
  const Manifest& manifest = *record.manifest;
  PluginMetadata metadata;
  try {
    metadata = read_metadata(manifest.library, PLEXUS_ABI_MAJOR, PLEXUS_ABI_MINOR);
    check_compatible(manifest, metadata);  // name, version range, config against the plugin's schema
  } catch (const std::exception& e) {
    error = e.what();
    return nullptr;
  }

  const auto number = record.loads + 1;
  const auto copy = options_.run_dir / (manifest.name + "." + std::to_string(number) + "." +
                                        std::to_string(std::random_device{}()) + ".so");
  std::error_code ec;
  std::filesystem::copy_file(manifest.library, copy, std::filesystem::copy_options::overwrite_existing, ec);
  if (ec) {
    error = "cannot copy " + manifest.library.string() + " to " + copy.string() + ": " + ec.message();
    return nullptr;
  }
  auto generation = std::make_shared<Generation>(*this, manifest, metadata, number, copy, options_.breaker_failures,
                                                 options_.breaker_cooldown);
  auto abandon = [&](std::string why) {
    revoke_activity(*generation, bus_);
    stop_and_destroy(*generation);
    unload_library(*generation);
    error = std::move(why);
    return nullptr;
  };
  try {
    generation->library.load(copy.string(), boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  } catch (const std::exception& e) {
    std::filesystem::remove(copy, ec);
    error = std::string("cannot load ") + manifest.library.string() + ": " + e.what();
    return nullptr;
  }
  if (!generation->library.has(PLEXUS_PLUGIN_ENTRY_SYMBOL)) {
    return abandon("expected the exported symbol " PLEXUS_PLUGIN_ENTRY_SYMBOL ", got none");
  }
  const auto entry = generation->library.get<const plexus_plugin_descriptor*()>(PLEXUS_PLUGIN_ENTRY_SYMBOL);
  const auto* descriptor = entry();
  if (!descriptor || !PLEXUS_HAS_MEMBER(descriptor, plexus_plugin_descriptor, start) || !descriptor->create ||
      !descriptor->start) {
    return abandon("expected a descriptor with create and start, got an incomplete one");
  }
  if (descriptor->abi_major != PLEXUS_ABI_MAJOR || descriptor->abi_minor > PLEXUS_ABI_MINOR) {
    return abandon("expected descriptor ABI " + std::to_string(PLEXUS_ABI_MAJOR) + ".<=" +
                   std::to_string(PLEXUS_ABI_MINOR) + ", got " + std::to_string(descriptor->abi_major) + "." +
                   std::to_string(descriptor->abi_minor));
  }
  generation->descriptor = descriptor;
  void* instance = nullptr;
  if (descriptor->create(host_api(), generation->handle(), &instance) != PLEXUS_OK || !instance) {
    generation->descriptor = nullptr;
    return abandon("create failed: " + std::string(host_api()->last_error(nullptr).ptr,
                                                   host_api()->last_error(nullptr).len));
  }
  generation->instance = instance;
  if (descriptor->start(instance) != PLEXUS_OK) {
    const auto reason = host_api()->last_error(nullptr);
    return abandon("start failed" + (reason.len ? ": " + std::string(reason.ptr, reason.len) : std::string()));
  }
  return generation;
}

ActionResult PluginHost::load_locked(Record& record) {
  const auto started_at = Clock::now();
  auto& loads = metrics_.counter("plexus_plugin_loads_total", "Plugin generations loaded, by outcome.",
                                 {"plugin", "outcome"});
  std::string error;
  auto generation = start_generation(record, error);
  if (generation) {
    try {
      publish(record.name, generation.get());
    } catch (const std::exception& e) {
      revoke_activity(*generation, bus_);
      generation->stop_accepting();
      stop_and_destroy(*generation);
      unload_library(*generation);
      generation.reset();
      error = e.what();
      if (record.current) publish(record.name, record.current.get());
    }
  }
  if (!generation) {
    loads.with({record.name, "failed"}).inc();
    record.last_error = error;
    if (!record.current) record.state = "failed";
    logger()->error("plugin {}: {}{}", record.name, error,
                    record.current ? "; generation " + std::to_string(record.current->number()) + " keeps serving"
                                   : "");
    return {false, error};
  }
  swap_job_handlers(record.current.get(), generation.get());
  auto old = std::exchange(record.current, generation);
  record.loads = generation->number();
  record.state = "running";
  record.last_error.clear();
  record.library_time = modified(record.manifest->library);
  loads.with({record.name, "ok"}).inc();
  if (old) retire(old, record);
  const auto seconds = std::chrono::duration<double>(Clock::now() - started_at).count();
  metrics_.histogram("plexus_plugin_load_duration_seconds", "Time to load a plugin and retire its previous generation.",
                     {"plugin"})
      .with({record.name})
      .observe(seconds);
  logger()->info("plugin {} {} generation {} running ({} routes)", record.name, generation->metadata().version,
                 generation->number(), generation->routes.size());
  return {true, "generation " + std::to_string(generation->number()) + " running"};
}

void PluginHost::retire(std::shared_ptr<Generation> generation, Record& record) {
  generation->stop_accepting();
  revoke_activity(*generation, bus_);
  const auto until = Clock::now() + options_.drain_timeout;
  while (generation->leases() > 0 && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  if (generation->leases() > 0) {
    // Unloading code that still runs would crash the process: keep it and tell.
    metrics_.counter("plexus_plugin_drain_timeouts_total", "Generations kept loaded because calls did not finish.",
                     {"plugin"})
        .with({record.name})
        .inc();
    record.last_error = "generation " + std::to_string(generation->number()) + " did not drain within " +
                        std::to_string(options_.drain_timeout.count()) + " ms; kept loaded";
    logger()->error("plugin {}: {}", record.name, record.last_error);
    record.stuck.push_back(std::move(generation));
    return;
  }
  stop_and_destroy(*generation);
  const auto problem = unload_library(*generation);
  if (!problem.empty()) logger()->warn("plugin {} generation {}: {}", record.name, generation->number(), problem);
  // Stuck generations that have drained since can go now too.
  std::erase_if(record.stuck, [&](const std::shared_ptr<Generation>& stuck) {
    if (stuck->leases() > 0) return false;
    stop_and_destroy(*stuck);
    unload_library(*stuck);
    return true;
  });
}

void PluginHost::publish(const std::string& owner, const Generation* generation) {
  // Routes first (they may conflict), then the registries; each swaps in one step.
  router_.replace_owner(owner, generation ? published_routes(*generation, options_.resources)
                                          : std::vector<http::Route>{});
  services_.replace_owner(owner, generation ? generation->services : std::vector<Service>{});
  tools_.replace_owner(owner, generation ? generation->tools : std::vector<Tool>{});
  if (options_.resources) {
    options_.resources->kinds().replace_owner(owner, generation ? generation->kinds : std::vector<resources::Kind>{});
  }
  if (options_.datasources) {
    // Closes the idle connections of a replaced driver while its library is loaded.
    options_.datasources->drivers().replace_owner(
        owner, generation ? generation->drivers : std::vector<datasources::Driver>{});
  }
}

void PluginHost::swap_job_handlers(Generation* old, Generation* next) {
  auto* jobs = options_.jobs;
  if (!jobs) return;
  // The old handlers go first (JobService waits for their running jobs, up to the drain
  // timeout: a stuck one holds its lease, so retire() keeps the old code loaded), so the
  // new generation's handle() for the same kinds is not refused as another owner's.
  if (old) {
    try {
      jobs->unhandle_owner(old->job_owner(), options_.drain_timeout);
    } catch (const std::exception& e) {
      logger()->error("plugin {}: cannot take its job handlers back: {}", old->name(), e.what());
    }
  }
  if (!next) return;
  std::lock_guard lock(next->mutex);
  for (const auto& [kind, handler] : next->job_handlers) {
    try {
      if (!jobs->handle(kind, handler, next->job_owner())) {
        logger()->error("plugin {}: job kind {} is handled by another plugin", next->name(), kind);
      }
    } catch (const std::exception& e) {
      logger()->error("plugin {}: job kind {}: {}", next->name(), kind, e.what());
    }
  }
}

void PluginHost::unload_locked(Record& record) {
  publish(record.name, nullptr);
  swap_job_handlers(record.current.get(), nullptr);
  auto old = std::exchange(record.current, nullptr);
  if (old) retire(old, record);
  logger()->info("plugin {} unloaded", record.name);
}

ActionResult PluginHost::reload(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto it = records_.find(name);
  if (it == records_.end()) return {false, "no plugin named '" + name + "'"};
  if (!it->second.current) return {false, "plugin '" + name + "' is not running; enable it first"};
  // Re-read the manifest too: an operator reloading expects the file's current state.
  try {
    it->second.manifest = parse_manifest(it->second.manifest->file, options_.library_dir);
  } catch (const std::exception& e) {
    return {false, e.what()};
  }
  it->second.manifest_text = read_text(it->second.manifest->file);
  return load_locked(it->second);
}

ActionResult PluginHost::enable(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto it = records_.find(name);
  if (it == records_.end()) return {false, "no plugin named '" + name + "'"};
  it->second.enabled_override = true;
  converge_locked();
  const auto& record = records_.at(name);
  if (record.current) return {true, "running generation " + std::to_string(record.current->number())};
  return {false, record.last_error.empty() ? "plugin '" + name + "' did not start" : record.last_error};
}

ActionResult PluginHost::disable(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto it = records_.find(name);
  if (it == records_.end()) return {false, "no plugin named '" + name + "'"};
  it->second.enabled_override = false;
  converge_locked();
  return {true, "disabled"};
}

nlohmann::json PluginHost::status() const {
  std::lock_guard lock(mutex_);
  nlohmann::json items = nlohmann::json::array();
  for (const auto& [name, record] : records_) {
    nlohmann::json item{{"name", name},
                        {"state", record.state},
                        {"enabled", wanted(record)},
                        {"last_error", record.last_error.empty() ? nlohmann::json(nullptr) : nlohmann::json(record.last_error)},
                        {"loads", record.loads}};
    if (record.manifest) {
      item["manifest"] = record.manifest->file.string();
      item["library"] = record.manifest->library.string();
    }
    if (record.current) {
      item["version"] = record.current->metadata().version;
      item["generation"] = record.current->number();
      item["in_flight"] = record.current->leases();
      item["circuit_open"] = record.current->breaker().open();
      nlohmann::json routes = nlohmann::json::array();
      for (const auto& route : published_routes(*record.current, options_.resources)) {
        routes.push_back(route.method + " " + route.pattern);
      }
      item["routes"] = routes;
    }
    nlohmann::json stuck = nlohmann::json::array();
    for (const auto& generation : record.stuck) {
      stuck.push_back({{"generation", generation->number()}, {"in_flight", generation->leases()}});
    }
    item["draining"] = stuck;
    items.push_back(std::move(item));
  }
  return {{"items", items}, {"errors", scan_errors_}};
}

std::map<std::string, std::vector<DeclaredPermission>> PluginHost::declared_permissions() const {
  std::lock_guard lock(mutex_);
  std::map<std::string, std::vector<DeclaredPermission>> declared;
  for (const auto& [name, record] : records_) {
    if (record.current && !record.current->metadata().permissions.empty()) {
      declared[name] = record.current->metadata().permissions;
    }
  }
  return declared;
}

bool PluginHost::all_running(std::string& reason) const {
  std::lock_guard lock(mutex_);
  for (const auto& [name, record] : records_) {
    if (wanted(record) && !record.current) {
      reason = "plugin " + name + " is enabled but not running" +
               (record.last_error.empty() ? std::string() : ": " + record.last_error);
      return false;
    }
  }
  return true;
}

void PluginHost::register_admin_routes(http::Router& router) {
  std::vector<http::Route> routes;
  routes.push_back({"GET", "/api/v1/admin/plugins", [this](http::Request&) {
                      return http::Response::json(200, status());
                    }});
  routes.push_back({"POST", "/api/v1/admin/plugins/{name}/{action}", [this](http::Request& request) {
                      const auto& name = request.path_params.at("name");
                      const auto& action = request.path_params.at("action");
                      ActionResult result;
                      if (action == "reload") {
                        result = reload(name);
                      } else if (action == "enable") {
                        result = enable(name);
                      } else if (action == "disable") {
                        result = disable(name);
                      } else {
                        throw http::HttpError(404, "not_found", "unknown action '" + action +
                                                                    "' (expected reload, enable or disable)");
                      }
                      bool known = false;
                      {
                        std::lock_guard lock(mutex_);
                        known = records_.count(name) > 0;
                      }
                      if (!known) throw http::HttpError(404, "not_found", result.message);
                      if (options_.audit) {
                        options_.audit(request.caller.get(), "kernel",
                                       {{"action", "plugin." + action},
                                        {"target", "plugin/" + name},
                                        {"outcome", result.ok ? "success" : "failure"},
                                        {"details", {{"message", result.message}}}});
                      }
                      if (!result.ok) throw http::HttpError(409, "plugin_action_failed", result.message);
                      return http::Response::json(200, {{"name", name}, {"action", action}, {"message", result.message}});
                    }});
  routes[0].summary = "Every plugin: state, version, generation, last error";
  routes[1].summary = "Reload, enable or disable one plugin";
  routes[0].permission = "admin.plugins.view";
  routes[1].permission = "admin.plugins.manage";
  router.add_all(std::move(routes));
}

}  // namespace plexus::plugins
