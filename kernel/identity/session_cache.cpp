#include "kernel/identity/session_cache.hpp"

namespace plexus::identity {

std::optional<std::optional<SessionState>> SessionCache::get(const std::string& session_id) {
  std::lock_guard lock(mutex_);
  const auto it = entries_.find(session_id);
  if (it == entries_.end()) return std::nullopt;
  if (std::chrono::steady_clock::now() - it->second.stored >= kTtl) {
    entries_.erase(it);
    return std::nullopt;
  }
  return it->second.state;
}

void SessionCache::put(const std::string& session_id, std::optional<SessionState> state) {
  std::lock_guard lock(mutex_);
  if (entries_.size() >= kMaxEntries) {
    // Sweep stale entries; if every entry is fresh, start over rather than grow without bound.
    const auto now = std::chrono::steady_clock::now();
    std::erase_if(entries_, [&](const auto& entry) { return now - entry.second.stored >= kTtl; });
    if (entries_.size() >= kMaxEntries) entries_.clear();
  }
  entries_[session_id] = Entry{std::move(state), std::chrono::steady_clock::now()};
}

void SessionCache::forget(const std::string& session_id) {
  std::lock_guard lock(mutex_);
  entries_.erase(session_id);
}

void SessionCache::clear() {
  std::lock_guard lock(mutex_);
  entries_.clear();
}

}  // namespace plexus::identity
