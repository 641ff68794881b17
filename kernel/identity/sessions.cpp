#include "kernel/identity/sessions.hpp"

#include <algorithm>

#include <soci/soci.h>

#include "kernel/auth/jwt.hpp"
#include "kernel/identity/sql_values.hpp"
#include "kernel/identity/token_crypto.hpp"
#include "kernel/store/clock.hpp"

namespace plexus::identity {
namespace {

std::int64_t epoch_seconds(store::TimePoint time) {
  return std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
}

}  // namespace

Sessions::Sessions(store::Database& database, Directory& directory, const IdentityOptions& options)
    : database_(database), directory_(directory), options_(options) {}

std::string Sessions::access_token(const std::string& session_id, const std::string& tenant,
                                   const std::string& user_id, const std::string& username,
                                   const std::vector<std::string>& roles) {
  const auto now = std::chrono::system_clock::now();
  const nlohmann::json claims = {
      {"iss", options_.issuer},
      {"aud", options_.audience},
      {"sub", user_id},
      {"tid", tenant},
      {"name", username},
      {"roles", roles},
      {"sid", session_id},
      {"jti", new_id()},
      {"iat", epoch_seconds(now)},
      {"exp", epoch_seconds(now + options_.access_ttl)},
  };
  return auth::sign_hs256(claims, options_.jwt_secret, kAccessTokenKid);
}

std::string Sessions::new_refresh_token(const std::string& tenant, const std::string& session_id) {
  const std::string token = std::string(kRefreshTokenPrefix) + random_secret(32);
  const std::string hash = sha256_hex(token);
  const std::string now = store::utc_now();
  soci::session sql(database_.pool());
  sql << "INSERT INTO refresh_tokens (token_hash, tenant_id, session_id, created_at) VALUES (:h, :t, :s, :c)",
      soci::use(hash), soci::use(tenant), soci::use(session_id), soci::use(now);
  return token;
}

TokenPair Sessions::start(const User& user, const std::string& ip, const std::string& user_agent) {
  const auto now = std::chrono::system_clock::now();
  const std::string session_id = new_id();
  const std::string created = store::format_time(now);
  const auto max_expiry = now + options_.session_max_age;
  const std::string max_expires = store::format_time(max_expiry);
  const std::string expires = store::format_time(std::min(now + options_.refresh_ttl, max_expiry));
  {
    soci::session sql(database_.pool());
    sql << "INSERT INTO sessions (id, tenant_id, user_id, created_at, expires_at, max_expires_at, ip, "
           "user_agent) "
           "VALUES (:id, :t, :u, :c, :e, :m, :ip, :ua)",
        soci::use(session_id), soci::use(user.tenant), soci::use(user.id), soci::use(created),
        soci::use(expires), soci::use(max_expires), soci::use(ip), soci::use(user_agent);
  }
  TokenPair pair;
  pair.session_id = session_id;
  pair.refresh_token = new_refresh_token(user.tenant, session_id);
  pair.access_token = access_token(session_id, user.tenant, user.id, user.username, user.roles);
  pair.expires_in = std::chrono::duration_cast<std::chrono::seconds>(options_.access_ttl).count();
  return pair;
}

std::optional<std::string> Sessions::session_of(const std::string& refresh_token) {
  if (!refresh_token.starts_with(kRefreshTokenPrefix)) return std::nullopt;
  const std::string hash = sha256_hex(refresh_token);
  soci::session sql(database_.pool());
  std::string session_id;
  soci::indicator ind = soci::i_null;
  sql << "SELECT session_id FROM refresh_tokens WHERE token_hash = :h", soci::into(session_id, ind),
      soci::use(hash);
  if (!sql.got_data() || ind != soci::i_ok) return std::nullopt;
  return session_id;
}

std::optional<std::pair<std::string, std::string>> Sessions::owner_of(const std::string& session_id) {
  soci::session sql(database_.pool());
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT tenant_id, user_id FROM sessions WHERE id = :id", soci::use(session_id));
  for (const auto& row : rows) return std::make_pair(text_at(row, 0), text_at(row, 1));
  return std::nullopt;
}

RefreshResult Sessions::refresh(const std::string& refresh_token) {
  RefreshResult result;
  if (!refresh_token.starts_with(kRefreshTokenPrefix)) return result;
  const std::string hash = sha256_hex(refresh_token);
  const auto now = std::chrono::system_clock::now();
  const std::string now_text = store::format_time(now);

  std::string session_id, tenant, user_id, expires_at, max_expires_at;
  bool spent = false, revoked = false, found = false;
  {
    soci::session sql(database_.pool());
    soci::rowset<soci::row> rows =
        (sql.prepare << "SELECT r.session_id, r.used_at, s.tenant_id, s.user_id, s.revoked_at, s.expires_at, "
                        "s.max_expires_at FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id "
                        "WHERE r.token_hash = :h",
         soci::use(hash));
    for (const auto& row : rows) {
      found = true;
      session_id = text_at(row, 0);
      spent = optional_text_at(row, 1).has_value();
      tenant = text_at(row, 2);
      user_id = text_at(row, 3);
      revoked = optional_text_at(row, 4).has_value();
      expires_at = text_at(row, 5);
      max_expires_at = text_at(row, 6);
    }
  }
  if (!found) return result;
  const auto user = directory_.user(tenant, user_id);
  result.session_id = session_id;
  result.tenant = tenant;
  result.user_id = user_id;
  result.username = user ? user->username : std::string();

  const auto family_reused = [&] {
    revoke(session_id, "refresh_reuse");
    result.status = RefreshResult::Status::reused;
    return result;
  };
  if (spent) return family_reused();
  if (revoked || expires_at <= now_text || !user || user->disabled || !directory_.tenant_enabled(tenant)) {
    result.status = RefreshResult::Status::invalid;
    return result;
  }
  {
    // The conditional update is the guard against two concurrent uses of one token:
    // only one of them changes the row; the other is a reuse.
    soci::session sql(database_.pool());
    soci::statement mark = (sql.prepare << "UPDATE refresh_tokens SET used_at = :now "
                                           "WHERE token_hash = :h AND used_at IS NULL",
                            soci::use(now_text), soci::use(hash));
    mark.execute(true);
    if (mark.get_affected_rows() != 1) return family_reused();
    const auto max_expiry = store::parse_time(max_expires_at).value_or(now);
    const std::string expires = store::format_time(std::min(now + options_.refresh_ttl, max_expiry));
    sql << "UPDATE sessions SET expires_at = :e WHERE id = :id", soci::use(expires), soci::use(session_id);
  }
  result.tokens.session_id = session_id;
  result.tokens.refresh_token = new_refresh_token(tenant, session_id);
  result.tokens.access_token = access_token(session_id, tenant, user_id, user->username, user->roles);
  result.tokens.expires_in = std::chrono::duration_cast<std::chrono::seconds>(options_.access_ttl).count();
  result.status = RefreshResult::Status::rotated;
  return result;
}

void Sessions::revoke(const std::string& session_id, const std::string& reason) {
  const std::string now = store::utc_now();
  {
    soci::session sql(database_.pool());
    sql << "UPDATE sessions SET revoked_at = :now, revoked_reason = :r WHERE id = :id AND revoked_at IS NULL",
        soci::use(now), soci::use(reason), soci::use(session_id);
  }
  cache_.forget(session_id);
}

void Sessions::revoke_user(const std::string& tenant, const std::string& user_id, const std::string& reason,
                           const std::string& except_session) {
  std::vector<std::string> ids;
  {
    soci::session sql(database_.pool());
    soci::rowset<soci::row> rows =
        (sql.prepare << "SELECT id FROM sessions WHERE tenant_id = :t AND user_id = :u "
                        "AND revoked_at IS NULL AND id <> :keep",
         soci::use(tenant), soci::use(user_id), soci::use(except_session));
    for (const auto& row : rows) ids.push_back(text_at(row, 0));
  }
  for (const auto& id : ids) revoke(id, reason);
}

std::optional<SessionState> Sessions::active(const std::string& session_id) {
  if (auto cached = cache_.get(session_id)) return *cached;
  const std::string now = store::utc_now();
  std::optional<SessionState> state;
  std::string roles_text;
  {
    soci::session sql(database_.pool());
    soci::rowset<soci::row> rows =
        (sql.prepare << "SELECT s.tenant_id, s.user_id, u.username, u.roles FROM sessions s "
                        "JOIN users u ON u.id = s.user_id AND u.tenant_id = s.tenant_id "
                        "JOIN tenants t ON t.id = s.tenant_id "
                        "WHERE s.id = :id AND s.revoked_at IS NULL AND s.expires_at > :now "
                        "AND u.disabled = 0 AND t.disabled = 0",
         soci::use(session_id), soci::use(now));
    for (const auto& row : rows) {
      state = SessionState{session_id, text_at(row, 0), text_at(row, 1), text_at(row, 2), {}, {}};
      roles_text = text_at(row, 3);
    }
  }
  if (state) {
    state->roles = string_list_of(roles_text);
    state->grants = directory_.grants_of(state->tenant, state->roles);
  }
  cache_.put(session_id, state);
  return state;
}

}  // namespace plexus::identity
