#include "kernel/datasources/connection_pool.hpp"

namespace plexus::datasources {

ConnectionPool::~ConnectionPool() = default;

std::unique_ptr<Connection> ConnectionPool::take(const PoolKey& key) {
  std::vector<std::unique_ptr<Connection>> stale;  // closed outside the lock
  std::lock_guard lock(mutex_);
  const auto it = entries_.find(key.datasource);
  if (it == entries_.end()) return nullptr;
  auto& entry = it->second;
  if (entry.content_hash != key.content_hash || entry.driver != key.driver) {
    stale.swap(entry.idle);
    entries_.erase(it);
    return nullptr;
  }
  if (entry.idle.empty()) return nullptr;
  auto connection = std::move(entry.idle.back());
  entry.idle.pop_back();
  return connection;
}

void ConnectionPool::give_back(const PoolKey& key, std::unique_ptr<Connection> connection) {
  std::lock_guard lock(mutex_);
  auto& entry = entries_[key.datasource];
  if (entry.driver && (entry.content_hash != key.content_hash || entry.driver != key.driver)) return;
  // Checked under the lock that drop_driver takes: a driver replaced while the
  // connection was out never gets it back into the pool.
  if (!is_current_(key.driver)) return;
  entry.content_hash = key.content_hash;
  entry.driver = key.driver;
  if (entry.idle.size() < idle_limit_) entry.idle.push_back(std::move(connection));
}

void ConnectionPool::drop_driver(const std::string& driver) {
  std::vector<std::unique_ptr<Connection>> closing;
  {
    std::lock_guard lock(mutex_);
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (it->second.driver && it->second.driver->name == driver) {
        for (auto& connection : it->second.idle) closing.push_back(std::move(connection));
        it = entries_.erase(it);
      } else {
        ++it;
      }
    }
  }
}

}  // namespace plexus::datasources
