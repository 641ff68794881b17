// Login sessions: each holds a family of opaque refresh tokens (stored as SHA-256)
// that rotate on every use, and issues short-lived HS256 access tokens naming it in
// "sid". Reusing a spent refresh token means it was stolen: the family is revoked.
// Access tokens die with their session because the authenticator asks active().
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "kernel/identity/directory.hpp"
#include "kernel/identity/identity.hpp"
#include "kernel/identity/session_cache.hpp"

namespace plexus::identity {

inline constexpr std::string_view kAccessTokenKid = "plexus-1";
inline constexpr std::string_view kRefreshTokenPrefix = "plxr_";

struct TokenPair {
  std::string access_token, refresh_token;
  std::int64_t expires_in = 0;  // seconds the access token lives
  std::string session_id;
};

struct RefreshResult {
  enum class Status { rotated, invalid, reused } status = Status::invalid;
  TokenPair tokens;                                   // when rotated
  std::string session_id, tenant, user_id, username;  // when rotated or reused
};

class Sessions {
 public:
  Sessions(store::Database& database, Directory& directory, const IdentityOptions& options);

  TokenPair start(const User& user, const std::string& ip, const std::string& user_agent);
  RefreshResult refresh(const std::string& refresh_token);
  // The session a refresh token belongs to, whatever its state.
  std::optional<std::string> session_of(const std::string& refresh_token);
  // The session's tenant and user; nullopt when it does not exist.
  std::optional<std::pair<std::string, std::string>> owner_of(const std::string& session_id);

  void revoke(const std::string& session_id, const std::string& reason);
  // Every live session of the user but `except_session`.
  void revoke_user(const std::string& tenant, const std::string& user_id, const std::string& reason,
                   const std::string& except_session = {});

  // The session when it is live and its user and tenant are enabled. Cached for up to
  // SessionCache::kTtl: revocation on another node takes effect within that time.
  std::optional<SessionState> active(const std::string& session_id);
  // After a change to users, roles or tenants that cached states may reflect.
  void forget_cached_states() { cache_.clear(); }

 private:
  std::string access_token(const std::string& session_id, const std::string& tenant,
                           const std::string& user_id, const std::string& username,
                           const std::vector<std::string>& roles);
  std::string new_refresh_token(const std::string& tenant, const std::string& session_id);

  store::Database& database_;
  Directory& directory_;
  const IdentityOptions& options_;
  SessionCache cache_;
};

}  // namespace plexus::identity
