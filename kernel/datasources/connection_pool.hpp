// Idle connections per datasource, kept while the datasource's stored revision and
// its driver stay the same: a new revision (a changed password, URL or read_only)
// or a reloaded driver retires the old connections instead of reusing them.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "kernel/datasources/driver.hpp"

namespace plexus::datasources {

// What a pooled connection was opened for.
struct PoolKey {
  std::string datasource;  // "<tenant>/<name>"
  std::string content_hash;
  std::shared_ptr<const Driver> driver;
};

class ConnectionPool {
 public:
  // `is_current` tells whether a driver is still the registered one; a connection of
  // a replaced driver is closed on return, never pooled.
  ConnectionPool(std::size_t idle_per_datasource, std::function<bool(const std::shared_ptr<const Driver>&)> is_current)
      : idle_limit_(idle_per_datasource), is_current_(std::move(is_current)) {}
  ~ConnectionPool();

  // An idle connection opened for exactly `key`, or null.
  std::unique_ptr<Connection> take(const PoolKey& key);
  // Keeps `connection` for reuse unless the datasource moved on or enough are idle.
  void give_back(const PoolKey& key, std::unique_ptr<Connection> connection);
  // Closes every idle connection of the driver named `driver` (reload, unload).
  void drop_driver(const std::string& driver);

 private:
  struct Entry {
    std::string content_hash;
    std::shared_ptr<const Driver> driver;
    std::vector<std::unique_ptr<Connection>> idle;
  };
  std::size_t idle_limit_;
  std::function<bool(const std::shared_ptr<const Driver>&)> is_current_;
  std::mutex mutex_;
  std::map<std::string, Entry> entries_;
};

}  // namespace plexus::datasources
