// Named entries contributed by plugins (services, tools), swapped per owner in one
// step on reload, so callers never see a half-registered plugin.
#pragma once

#include <map>
#include <memory>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace plexus::plugins {

template <class Entry>  // Entry has `std::string name` and `std::string owner`
class NamedRegistry {
 public:
  explicit NamedRegistry(std::string what) : what_(std::move(what)) {}

  // Replaces everything `owner` registered by `entries`; throws (changing nothing)
  // when a name belongs to another owner.
  void replace_owner(std::string_view owner, std::vector<Entry> entries) {
    std::unique_lock lock(mutex_);
    for (const auto& entry : entries) {
      auto it = entries_.find(entry.name);
      if (it != entries_.end() && it->second->owner != owner) {
        throw std::invalid_argument(what_ + " '" + entry.name + "' is already registered by " + it->second->owner);
      }
    }
    std::erase_if(entries_, [&](const auto& item) { return item.second->owner == owner; });
    for (auto& entry : entries) {
      auto name = entry.name;
      entries_[name] = std::make_shared<const Entry>(std::move(entry));
    }
  }
  void remove_owner(std::string_view owner) { replace_owner(owner, {}); }
  // True when `name` is free or already `owner`'s.
  bool available(std::string_view name, std::string_view owner) const {
    std::shared_lock lock(mutex_);
    auto it = entries_.find(std::string(name));
    return it == entries_.end() || it->second->owner == owner;
  }

  std::shared_ptr<const Entry> find(std::string_view name) const {
    std::shared_lock lock(mutex_);
    auto it = entries_.find(std::string(name));
    return it == entries_.end() ? nullptr : it->second;
  }
  std::vector<std::shared_ptr<const Entry>> list() const {
    std::shared_lock lock(mutex_);
    std::vector<std::shared_ptr<const Entry>> result;
    for (const auto& [name, entry] : entries_) result.push_back(entry);
    return result;
  }

 private:
  std::string what_;
  mutable std::shared_mutex mutex_;
  std::map<std::string, std::shared_ptr<const Entry>> entries_;
};

}  // namespace plexus::plugins
