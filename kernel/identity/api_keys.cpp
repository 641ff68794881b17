#include "kernel/identity/api_keys.hpp"

#include <soci/soci.h>

#include "kernel/identity/sql_values.hpp"
#include "kernel/identity/token_crypto.hpp"

namespace plexus::identity {
namespace {

constexpr const char* kColumns =
    "id, tenant_id, name, roles, created_by, created_at, expires_at, revoked_at, last_used_at, last_used_ip";
constexpr std::size_t kIdLength = 32;  // new_id(): 32 hex digits
constexpr std::chrono::minutes kLastUseResolution{1};

ApiKey key_of(const soci::row& row) {
  return ApiKey{text_at(row, 0),          text_at(row, 1),
                text_at(row, 2),          string_list_of(text_at(row, 3)),
                text_at(row, 4),          text_at(row, 5),
                optional_text_at(row, 6), optional_text_at(row, 7),
                optional_text_at(row, 8), optional_text_at(row, 9)};
}

nlohmann::json optional_json(const std::optional<std::string>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json to_json(const ApiKey& key) {
  return {{"id", key.id},
          {"name", key.name},
          {"roles", key.roles},
          {"created_by", key.created_by},
          {"created_at", key.created_at},
          {"expires_at", optional_json(key.expires_at)},
          {"revoked_at", optional_json(key.revoked_at)},
          {"last_used_at", optional_json(key.last_used_at)},
          {"last_used_ip", optional_json(key.last_used_ip)}};
}

CreatedApiKey ApiKeys::create(const std::string& tenant, const std::string& name,
                              const std::vector<std::string>& roles, const std::string& created_by,
                              std::optional<store::TimePoint> expires_at) {
  CreatedApiKey created;
  auto& key = created.key;
  key.id = new_id();
  key.tenant = tenant;
  key.name = name;
  key.roles = roles;
  key.created_by = created_by;
  key.created_at = store::utc_now();
  if (expires_at) key.expires_at = store::format_time(*expires_at);
  created.secret_key = std::string(kApiKeyPrefix) + key.id + "_" + random_secret(32);

  const std::string hash = sha256_hex(created.secret_key);
  const std::string roles_text = json_text_of(roles);
  const std::string expires = key.expires_at.value_or(std::string());
  soci::indicator expires_ind = key.expires_at ? soci::i_ok : soci::i_null;
  soci::session sql(database_.pool());
  sql << "INSERT INTO api_keys (id, tenant_id, name, key_hash, roles, created_by, created_at, expires_at) "
         "VALUES (:id, :t, :n, :h, :r, :by, :c, :e)",
      soci::use(key.id), soci::use(tenant), soci::use(name), soci::use(hash), soci::use(roles_text),
      soci::use(created_by), soci::use(key.created_at), soci::use(expires, expires_ind);
  return created;
}

std::vector<ApiKey> ApiKeys::list(const std::string& tenant) {
  soci::session sql(database_.pool());
  std::vector<ApiKey> out;
  soci::rowset<soci::row> rows =
      (sql.prepare << std::string("SELECT ") + kColumns +
                          " FROM api_keys WHERE tenant_id = :t ORDER BY created_at, id",
       soci::use(tenant));
  for (const auto& row : rows) out.push_back(key_of(row));
  return out;
}

std::optional<ApiKey> ApiKeys::get(const std::string& tenant, const std::string& id) {
  soci::session sql(database_.pool());
  soci::rowset<soci::row> rows =
      (sql.prepare << std::string("SELECT ") + kColumns + " FROM api_keys WHERE tenant_id = :t AND id = :id",
       soci::use(tenant), soci::use(id));
  for (const auto& row : rows) return key_of(row);
  return std::nullopt;
}

bool ApiKeys::revoke(const std::string& tenant, const std::string& id) {
  const std::string now = store::utc_now();
  soci::session sql(database_.pool());
  soci::statement update = (sql.prepare << "UPDATE api_keys SET revoked_at = :now "
                                           "WHERE tenant_id = :t AND id = :id AND revoked_at IS NULL",
                            soci::use(now), soci::use(tenant), soci::use(id));
  update.execute(true);
  return update.get_affected_rows() == 1;
}

std::optional<ApiKey> ApiKeys::authenticate(std::string_view presented, const std::string& ip) {
  // plx_<32 hex id>_<secret>
  if (!presented.starts_with(kApiKeyPrefix) || presented.size() <= kApiKeyPrefix.size() + kIdLength + 1) {
    return std::nullopt;
  }
  const std::string id(presented.substr(kApiKeyPrefix.size(), kIdLength));
  if (presented[kApiKeyPrefix.size() + kIdLength] != '_') return std::nullopt;

  std::optional<ApiKey> key;
  std::string stored_hash;
  {
    soci::session sql(database_.pool());
    soci::rowset<soci::row> rows =
        (sql.prepare << std::string("SELECT ") + kColumns + ", key_hash FROM api_keys WHERE id = :id",
         soci::use(id));
    for (const auto& row : rows) {
      key = key_of(row);
      stored_hash = text_at(row, 10);
    }
  }
  if (!key || !constant_time_equals(sha256_hex(presented), stored_hash)) return std::nullopt;
  if (key->revoked_at) return std::nullopt;
  if (key->expires_at && *key->expires_at <= store::utc_now()) return std::nullopt;
  note_use(*key, ip);
  return key;
}

void ApiKeys::note_use(const ApiKey& key, const std::string& ip) {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(last_use_mutex_);
    auto& written = last_use_written_[key.id];
    if (written != std::chrono::steady_clock::time_point{} && now - written < kLastUseResolution) return;
    written = now;
  }
  // The database condition keeps several nodes to about one write a minute as well.
  const auto wall = std::chrono::system_clock::now();
  const std::string now_text = store::format_time(wall);
  const std::string threshold = store::format_time(wall - kLastUseResolution);
  soci::session sql(database_.pool());
  sql << "UPDATE api_keys SET last_used_at = :now, last_used_ip = :ip "
         "WHERE id = :id AND (last_used_at IS NULL OR last_used_at < :threshold)",
      soci::use(now_text), soci::use(ip), soci::use(key.id), soci::use(threshold);
}

}  // namespace plexus::identity
