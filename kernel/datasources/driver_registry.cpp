#include "kernel/datasources/driver_registry.hpp"

namespace plexus::datasources {

void DriverRegistry::replace_owner(const std::string& owner, std::vector<Driver> drivers) {
  std::vector<std::string> changed;
  for (const auto& driver : drivers_.list()) {
    if (driver->owner == owner) changed.push_back(driver->name);
  }
  for (auto& driver : drivers) driver.owner = owner;
  drivers_.replace_owner(owner, std::move(drivers));
  std::vector<Listener> listeners;
  {
    std::lock_guard lock(listeners_mutex_);
    listeners = listeners_;
  }
  for (const auto& name : changed) {
    for (const auto& listener : listeners) listener(name);
  }
}

void DriverRegistry::on_change(Listener listener) {
  std::lock_guard lock(listeners_mutex_);
  listeners_.push_back(std::move(listener));
}

}  // namespace plexus::datasources
