// API keys for REST consumers: "plx_<id>_<secret>", shown once at creation and
// stored only as SHA-256. A key acts with its own roles in its creator's tenant.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernel/store/clock.hpp"
#include "kernel/store/database.hpp"

namespace plexus::identity {

inline constexpr std::string_view kApiKeyPrefix = "plx_";

struct ApiKey {
  std::string id, tenant, name;
  std::vector<std::string> roles;
  std::string created_by, created_at;
  std::optional<std::string> expires_at, revoked_at, last_used_at, last_used_ip;
};
// Without the hash, which never leaves this file.
nlohmann::json to_json(const ApiKey& key);

struct CreatedApiKey {
  ApiKey key;
  std::string secret_key;  // the full "plx_..." value, returned to the creator once
};

class ApiKeys {
 public:
  explicit ApiKeys(store::Database& database) : database_(database) {}

  CreatedApiKey create(const std::string& tenant, const std::string& name,
                       const std::vector<std::string>& roles, const std::string& created_by,
                       std::optional<store::TimePoint> expires_at);
  std::vector<ApiKey> list(const std::string& tenant);
  std::optional<ApiKey> get(const std::string& tenant, const std::string& id);
  // False when the key does not exist in the tenant or was revoked already.
  bool revoke(const std::string& tenant, const std::string& id);

  // The key a presented "plx_..." value stands for, when it is known, unrevoked and
  // unexpired; notes its use (at most once a minute per key, to spare the database).
  std::optional<ApiKey> authenticate(std::string_view presented, const std::string& ip);

 private:
  void note_use(const ApiKey& key, const std::string& ip);

  store::Database& database_;
  std::mutex last_use_mutex_;
  std::map<std::string, std::chrono::steady_clock::time_point> last_use_written_;
};

}  // namespace plexus::identity
