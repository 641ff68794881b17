// The response cache of runtime APIs (issue 7 item 10, API-9): answers kept per node for
// the API's `cache.ttl_s`. The key holds the tenant, stage, API id and revision, the
// parameters and the caller's permission scope, so a promotion (a new revision) never
// serves the old answer and a caller never sees an answer computed for wider rights.
#pragma once

#include <chrono>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace plexus::api_manager {

class ResponseCache {
 public:
  using Clock = std::chrono::steady_clock;

  // Bounded by entries and by the bytes of the answers kept; the oldest stored go first.
  explicit ResponseCache(std::size_t max_entries = 10000, std::size_t max_bytes = 64u << 20);

  static std::string key(const std::string& tenant, const std::string& stage, const std::string& api_id,
                         std::int64_t revision, const std::string& params_json, const std::string& scope);

  struct Hit {
    std::string body;   // the answer's JSON text
    std::int64_t rows;  // as the run that computed it counted them
  };
  // The answer, when present and fresh at `now`.
  std::optional<Hit> get(const std::string& key, Clock::time_point now = Clock::now());
  void put(const std::string& key, const std::string& tenant, const std::string& api_id, std::string body,
           std::int64_t rows, std::chrono::seconds ttl, Clock::time_point now = Clock::now());
  // Drops every answer of one API (empty `api_id`: of the whole tenant).
  void drop(const std::string& tenant, const std::string& api_id = {});

  std::size_t size() const;
  std::size_t bytes() const;

 private:
  struct Entry {
    std::string tenant, api_id, body;
    std::int64_t rows;
    Clock::time_point expires;
    std::list<std::string>::iterator order;
  };
  void erase(std::unordered_map<std::string, Entry>::iterator it);

  const std::size_t max_entries_, max_bytes_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
  std::list<std::string> order_;  // keys, oldest stored first
  std::size_t bytes_ = 0;
};

}  // namespace plexus::api_manager
