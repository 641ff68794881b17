// Datasources at work: a tenant's named datasource resolved to its stored revision,
// its secrets opened, a pooled connection of its driver, limits applied, and every
// failure named by the datasource (never with a secret in it).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "kernel/datasources/connection_pool.hpp"
#include "kernel/datasources/driver_registry.hpp"
#include "kernel/metrics/registry.hpp"
#include "kernel/resources/resource_store.hpp"
#include "kernel/secrets/secret_box.hpp"

namespace plexus::datasources {

struct Limits {
  std::uint64_t max_rows = 10000;    // a datasource's "max_rows" may lower it
  std::uint64_t timeout_ms = 30000;  // a datasource's "timeout_ms" may change it
  std::size_t idle_connections = 8;  // per datasource
};

class Datasources {
 public:
  // Registers the "datasource" kind with the store's kinds.
  Datasources(resources::ResourceStore& store, secrets::SecretBox box, Limits limits, metrics::Registry& metrics);
  ~Datasources();
  Datasources(const Datasources&) = delete;
  Datasources& operator=(const Datasources&) = delete;

  DriverRegistry& drivers() { return drivers_; }

  // Each answers as the driver does. Failures: PLEXUS_ERR_NOT_FOUND (no such
  // datasource), PLEXUS_ERR_UNAVAILABLE (driver not loaded, database unreachable) or
  // the driver's own status; messages start with "datasource '<name>': ".
  // A statement's max_rows/timeout_ms of 0 take the datasource's limits; larger
  // values are capped by them.
  Reply query(const std::string& tenant, const std::string& name, Statement statement);
  Reply execute(const std::string& tenant, const std::string& name, Statement statement);
  Reply schema(const std::string& tenant, const std::string& name);
  Reply ping(const std::string& tenant, const std::string& name);

  // A datasource's stored revision is reused for kResolveTtl between calls (runtime
  // APIs call the same one thousands of times a second); a change on this node reaches
  // forget() at once through the store's change listener, one on another node within the TTL.
  void forget(const std::string& tenant, const std::string& name);
  static constexpr auto kResolveTtl = std::chrono::seconds(1);

 private:
  enum class Operation { query, execute, schema, ping };
  Reply run(const std::string& tenant, const std::string& name, Operation operation, Statement statement);
  void apply_limits(const nlohmann::json& content, Statement& statement) const;
  std::shared_ptr<const resources::Revision> resolve(const std::string& tenant, const std::string& name);

  struct Resolved {
    std::shared_ptr<const resources::Revision> revision;
    std::chrono::steady_clock::time_point loaded;
  };
  std::mutex resolved_mutex_;
  std::unordered_map<std::string, Resolved> resolved_;  // "<tenant>/<name>"
  std::uint64_t listener_ = 0;

  resources::ResourceStore& store_;
  secrets::SecretBox box_;
  Limits limits_;
  DriverRegistry drivers_;
  ConnectionPool pool_;
  metrics::Family<metrics::Counter>& calls_;
  metrics::Family<metrics::Histogram>& durations_;
};

}  // namespace plexus::datasources
