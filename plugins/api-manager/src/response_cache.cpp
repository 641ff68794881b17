#include "response_cache.hpp"

namespace plexus::api_manager {

ResponseCache::ResponseCache(std::size_t max_entries, std::size_t max_bytes)
    : max_entries_(max_entries), max_bytes_(max_bytes) {}

std::string ResponseCache::key(const std::string& tenant, const std::string& stage, const std::string& api_id,
                               std::int64_t revision, const std::string& params_json, const std::string& scope) {
  // '\n' cannot occur in tenant, stage, id or scope, and the parameters come last.
  return tenant + '\n' + stage + '\n' + api_id + '\n' + std::to_string(revision) + '\n' + scope + '\n' +
         params_json;
}

std::optional<ResponseCache::Hit> ResponseCache::get(const std::string& key, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  const auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  if (it->second.expires <= now) {
    erase(it);
    return std::nullopt;
  }
  return Hit{it->second.body, it->second.rows};
}

void ResponseCache::put(const std::string& key, const std::string& tenant, const std::string& api_id,
                        std::string body, std::int64_t rows, std::chrono::seconds ttl,
                        Clock::time_point now) {
  if (body.size() > max_bytes_ / 4) return;  // one answer may not push out most of the others
  std::lock_guard lock(mutex_);
  if (const auto it = entries_.find(key); it != entries_.end()) erase(it);
  while (!order_.empty() && (entries_.size() >= max_entries_ || bytes_ + body.size() > max_bytes_)) {
    erase(entries_.find(order_.front()));
  }
  order_.push_back(key);
  bytes_ += body.size();
  entries_.emplace(key, Entry{tenant, api_id, std::move(body), rows, now + ttl, std::prev(order_.end())});
}

void ResponseCache::drop(const std::string& tenant, const std::string& api_id) {
  std::lock_guard lock(mutex_);
  for (auto it = entries_.begin(); it != entries_.end();) {
    const auto next = std::next(it);
    if (it->second.tenant == tenant && (api_id.empty() || it->second.api_id == api_id)) erase(it);
    it = next;
  }
}

void ResponseCache::erase(std::unordered_map<std::string, Entry>::iterator it) {
  bytes_ -= it->second.body.size();
  order_.erase(it->second.order);
  entries_.erase(it);
}

std::size_t ResponseCache::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

std::size_t ResponseCache::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

}  // namespace plexus::api_manager
