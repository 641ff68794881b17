// One loaded copy of a plugin library: its instance, what it registered, and the
// leases that keep it loaded while calls, timers and streams are in flight.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <boost/dll/shared_library.hpp>

#include "kernel/auth/caller.hpp"
#include "kernel/datasources/driver.hpp"
#include "kernel/http/router.hpp"
#include "kernel/jobs/job_context.hpp"
#include "kernel/metrics/registry.hpp"
#include "kernel/plugins/manifest.hpp"
#include "kernel/plugins/metadata.hpp"
#include "kernel/resources/content_schema.hpp"
#include "kernel/resources/kind.hpp"
#include "plexus/abi.h"

namespace plexus::plugins {

class Generation;
class PluginHost;

// A JSON-in/JSON-out function another plugin (or the kernel) can call.
struct Service {
  std::string name;
  std::string owner;
  std::function<plexus_status(std::string_view input, std::string& output, std::string& error)> call;
};

// A tool (docs/tools.md): the host checks `permission` and the input against
// `schema` before `call` runs the plugin's handler for `caller`.
struct Tool {
  std::string name;
  std::string owner;
  std::string description;
  std::string input_schema_json;
  std::string permission;    // never empty: the declared one or "tools.execute:<name>"
  bool sees_caller = false;  // an ABI 1.4 handler; a 1.0 one is not told who calls
  std::shared_ptr<const resources::ContentSchema> schema;  // null: any JSON object
  // `output` is the tool's JSON on PLEXUS_OK and its message (may be empty) otherwise.
  std::function<plexus_status(const auth::Caller& caller, std::string_view input, std::string& output)> call;
};

// Holding one keeps a generation's code loaded.
class Lease {
 public:
  explicit Lease(std::shared_ptr<Generation> generation) : generation_(std::move(generation)) {}
  Lease(Lease&&) noexcept = default;
  Lease& operator=(Lease&&) noexcept = default;
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  ~Lease();

 private:
  std::shared_ptr<Generation> generation_;
};

// Consecutive failures open the circuit; after the cooldown one trial call decides.
class CircuitBreaker {
 public:
  CircuitBreaker(int threshold, std::chrono::milliseconds cooldown) : threshold_(threshold), cooldown_(cooldown) {}
  bool allow();
  void success();
  void failure();
  bool open() const;

 private:
  using Clock = std::chrono::steady_clock;
  mutable std::mutex mutex_;
  int threshold_;
  std::chrono::milliseconds cooldown_;
  int failures_ = 0;
  std::optional<Clock::time_point> opened_at_;
  bool trial_running_ = false;
};

}  // namespace plexus::plugins

// The opaque handles of abi.h, defined by the host.
struct plexus_host {
  plexus::plugins::Generation* generation;
};

struct plexus_http_response {
  plexus::http::Response response;
  plexus_stream_open_fn stream_open = nullptr;
  void* stream_user_data = nullptr;
};

struct plexus_job {
  plexus::jobs::JobContext* context;
};

struct plexus_event_stream {
  std::weak_ptr<plexus::http::EventStream> stream;
  plexus::plugins::Generation* generation;  // owns this handle
};

namespace plexus::plugins {

class Generation : public std::enable_shared_from_this<Generation> {
 public:
  Generation(PluginHost& host, Manifest manifest, PluginMetadata metadata, std::uint64_t number,
             std::filesystem::path copy, int breaker_threshold, std::chrono::milliseconds breaker_cooldown);
  ~Generation();

  // A lease, or nothing once the generation stopped taking new work.
  std::optional<Lease> try_lease();
  std::int64_t leases() const { return leases_.load(); }
  void stop_accepting() { accepting_ = false; }
  bool accepting() const { return accepting_.load(); }

  const std::string& name() const { return manifest_.name; }
  std::string job_owner() const { return manifest_.name + "#" + std::to_string(number_); }
  const Manifest& manifest() const { return manifest_; }
  const PluginMetadata& metadata() const { return metadata_; }
  std::uint64_t number() const { return number_; }
  const std::filesystem::path& copy() const { return copy_; }
  PluginHost& host() { return host_; }
  plexus_host* handle() { return &handle_; }
  CircuitBreaker& breaker() { return breaker_; }

  // Library and instance, driven by the PluginHost.
  boost::dll::shared_library library;
  const plexus_plugin_descriptor* descriptor = nullptr;
  void* instance = nullptr;

  // What the plugin registered; routes, services and tools go live at the swap.
  std::mutex mutex;
  std::vector<http::Route> routes;
  std::vector<Service> services;
  std::vector<Tool> tools;
  std::vector<resources::Kind> kinds;
  std::vector<datasources::Driver> drivers;
  // Job kinds and handlers (ABI 1.4), handed to the job service at the swap under
  // job_owner(), taken back before the generation unloads.
  std::vector<std::pair<std::string, std::function<nlohmann::json(jobs::JobContext&)>>> job_handlers;
  std::vector<std::uint64_t> subscriptions;
  std::map<std::uint64_t, std::function<void()>> timers;  // id -> cancel
  std::map<plexus_event_stream*, std::unique_ptr<plexus_event_stream>> streams;
  std::vector<std::weak_ptr<http::EventStream>> open_streams;
  using Family = std::variant<metrics::Family<metrics::Counter>*, metrics::Family<metrics::Gauge>*,
                              metrics::Family<metrics::Histogram>*>;
  std::vector<Family> metric_families;
  std::uint64_t next_id = 1;

 private:
  friend class Lease;
  PluginHost& host_;
  Manifest manifest_;
  PluginMetadata metadata_;
  std::uint64_t number_;
  std::filesystem::path copy_;
  plexus_host handle_;
  CircuitBreaker breaker_;
  std::atomic<bool> accepting_{true};
  std::atomic<std::int64_t> leases_{0};
};

}  // namespace plexus::plugins
