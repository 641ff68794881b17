#include "kernel/identity/share_links.hpp"

#include <soci/soci.h>

#include "kernel/auth/jwt.hpp"
#include "kernel/identity/sessions.hpp"
#include "kernel/identity/sql_values.hpp"
#include "kernel/identity/token_crypto.hpp"

namespace plexus::identity {
namespace {

constexpr const char* kColumns =
    "id, tenant_id, created_by, created_by_name, action, resource, created_at, expires_at, revoked_at";

ShareLink link_of(const soci::row& row) {
  return ShareLink{text_at(row, 0), text_at(row, 1), text_at(row, 2),
                   text_at(row, 3), text_at(row, 4), text_at(row, 5),
                   text_at(row, 6), text_at(row, 7), optional_text_at(row, 8)};
}

}  // namespace

nlohmann::json to_json(const ShareLink& link) {
  return {{"id", link.id},
          {"action", link.action},
          {"resource", link.resource},
          {"created_by", link.created_by},
          {"created_by_name", link.created_by_name},
          {"created_at", link.created_at},
          {"expires_at", link.expires_at},
          {"revoked_at", link.revoked_at ? nlohmann::json(*link.revoked_at) : nlohmann::json(nullptr)}};
}

std::pair<ShareLink, std::string> ShareLinks::create(const std::string& tenant, const std::string& created_by,
                                                     const std::string& created_by_name,
                                                     const std::string& action, const std::string& resource,
                                                     store::TimePoint expires_at) {
  // Whole seconds, so the row and the token's exp agree.
  const auto expiry = std::chrono::time_point_cast<std::chrono::seconds>(expires_at);
  ShareLink link{new_id(),    tenant,   created_by,       created_by_name,
                 action,      resource, store::utc_now(), store::format_time(expiry),
                 std::nullopt};
  {
    soci::session sql(database_.pool());
    sql << "INSERT INTO share_links (id, tenant_id, created_by, created_by_name, action, resource, "
           "created_at, "
           "expires_at) VALUES (:id, :t, :by, :byn, :a, :r, :c, :e)",
        soci::use(link.id), soci::use(link.tenant), soci::use(link.created_by),
        soci::use(link.created_by_name), soci::use(link.action), soci::use(link.resource),
        soci::use(link.created_at), soci::use(link.expires_at);
  }
  const auto now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  const nlohmann::json claims = {
      {"typ", "share"},
      {"iss", options_.issuer},
      {"aud", options_.audience},
      {"sid", link.id},
      {"tid", tenant},
      {"act", action},
      {"res", resource},
      {"iat", now.time_since_epoch().count()},
      {"exp", expiry.time_since_epoch().count()},
  };
  return {link, auth::sign_hs256(claims, options_.jwt_secret, kAccessTokenKid)};
}

std::vector<ShareLink> ShareLinks::list(const std::string& tenant,
                                        const std::optional<std::string>& created_by) {
  const std::string creator = created_by.value_or(std::string());
  soci::session sql(database_.pool());
  std::vector<ShareLink> out;
  soci::rowset<soci::row> rows =
      (sql.prepare
           << std::string("SELECT ") + kColumns +
                  " FROM share_links WHERE tenant_id = :t AND (CAST(:c1 AS TEXT) = '' OR created_by = :c2) "
                  "ORDER BY created_at DESC, id",
       soci::use(tenant), soci::use(creator), soci::use(creator));
  for (const auto& row : rows) out.push_back(link_of(row));
  return out;
}

std::optional<ShareLink> ShareLinks::get(const std::string& tenant, const std::string& id) {
  soci::session sql(database_.pool());
  soci::rowset<soci::row> rows = (sql.prepare << std::string("SELECT ") + kColumns +
                                                     " FROM share_links WHERE tenant_id = :t AND id = :id",
                                  soci::use(tenant), soci::use(id));
  for (const auto& row : rows) return link_of(row);
  return std::nullopt;
}

bool ShareLinks::revoke(const std::string& tenant, const std::string& id) {
  const std::string now = store::utc_now();
  soci::session sql(database_.pool());
  soci::statement update = (sql.prepare << "UPDATE share_links SET revoked_at = :now "
                                           "WHERE tenant_id = :t AND id = :id AND revoked_at IS NULL",
                            soci::use(now), soci::use(tenant), soci::use(id));
  update.execute(true);
  return update.get_affected_rows() == 1;
}

std::optional<ShareLink> ShareLinks::resolve(std::string_view token) {
  auth::KeySet keys;
  keys.add_hmac(std::string(kAccessTokenKid), options_.jwt_secret);
  auth::VerifyOptions verify_options;
  verify_options.algorithms = {"HS256"};
  verify_options.issuer = options_.issuer;
  verify_options.audience = options_.audience;
  verify_options.leeway = std::chrono::seconds(0);  // the expiry the creator chose, to the second
  auth::Claims claims;
  try {
    claims = auth::verify(token, keys, verify_options);
  } catch (const auth::JwtError&) {
    return std::nullopt;
  }
  const auto& raw = claims.raw;
  if (raw.value("typ", "") != "share" || !raw.contains("sid") || !raw["sid"].is_string() ||
      !raw.contains("tid") || !raw["tid"].is_string()) {
    return std::nullopt;
  }
  auto link = get(raw["tid"].get<std::string>(), raw["sid"].get<std::string>());
  if (!link || link->revoked_at || link->expires_at <= store::utc_now()) return std::nullopt;
  // The row, not the token, says what is granted; they agree unless the secret leaked.
  if (raw.value("act", "") != link->action || raw.value("res", "") != link->resource) return std::nullopt;
  return link;
}

void ShareLinks::record_use(const ShareLink& link, const std::string& ip, const std::string& request_id) {
  const std::string id = new_id();
  const std::string now = store::utc_now();
  soci::session sql(database_.pool());
  sql << "INSERT INTO share_link_uses (id, tenant_id, link_id, used_at, ip, request_id) "
         "VALUES (:id, :t, :l, :u, :ip, :r)",
      soci::use(id), soci::use(link.tenant), soci::use(link.id), soci::use(now), soci::use(ip),
      soci::use(request_id);
}

std::vector<ShareLinkUse> ShareLinks::uses(const std::string& tenant, const std::string& link_id) {
  soci::session sql(database_.pool());
  std::vector<ShareLinkUse> out;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT used_at, ip, request_id FROM share_link_uses "
                      "WHERE tenant_id = :t AND link_id = :l ORDER BY used_at DESC, id",
       soci::use(tenant), soci::use(link_id));
  for (const auto& row : rows) out.push_back(ShareLinkUse{text_at(row, 0), text_at(row, 1), text_at(row, 2)});
  return out;
}

}  // namespace plexus::identity
