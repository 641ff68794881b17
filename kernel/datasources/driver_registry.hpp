// The drivers plugins provide, swapped per plugin in one step on load, reload and
// unload. Whoever pools connections listens, so a reloaded driver's old
// connections are closed while its library is still loaded.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "kernel/datasources/driver.hpp"
#include "kernel/plugins/named_registry.hpp"

namespace plexus::datasources {

class DriverRegistry {
 public:
  // Called with the name of every driver replaced or removed.
  using Listener = std::function<void(const std::string& driver)>;

  // Throws std::invalid_argument (changing nothing) when a name belongs to another owner.
  void replace_owner(const std::string& owner, std::vector<Driver> drivers);
  void remove_owner(const std::string& owner) { replace_owner(owner, {}); }
  void on_change(Listener listener);

  std::shared_ptr<const Driver> find(std::string_view name) const { return drivers_.find(name); }
  std::vector<std::shared_ptr<const Driver>> list() const { return drivers_.list(); }

 private:
  plugins::NamedRegistry<Driver> drivers_{"driver"};
  std::mutex listeners_mutex_;
  std::vector<Listener> listeners_;
};

}  // namespace plexus::datasources
