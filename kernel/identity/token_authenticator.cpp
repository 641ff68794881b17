#include "kernel/identity/token_authenticator.hpp"

#include <strings.h>

#include "kernel/log/log.hpp"

namespace plexus::identity {
namespace {

[[noreturn]] void reject(const std::string& message) { throw http::HttpError(401, "invalid_token", message); }

[[noreturn]] void reject(const auth::JwtError& error) {
  log::get("auth")->debug("token rejected: {}", error.code());
  if (error.code() == "expired") reject("the token has expired");
  if (error.code() == "not_yet_valid") reject("the token is not valid yet");
  reject("the token is not valid");
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

const std::string* string_claim(const nlohmann::json& claims, const char* name) {
  const auto it = claims.find(name);
  return it != claims.end() && it->is_string() ? it->get_ptr<const std::string*>() : nullptr;
}

}  // namespace

TokenAuthenticator::TokenAuthenticator(Services& services) : services_(services) {
  keys_.add_hmac(std::string(kAccessTokenKid), services_.options.jwt_secret);
}

std::shared_ptr<const auth::Caller> TokenAuthenticator::authenticate(const http::Request& request) {
  auto caller = std::make_shared<auth::Caller>();
  caller->ip = request.remote_address;
  caller->request_id = request.request_id;
  if (const auto authorization = request.header("Authorization")) {
    const auto value = trim(*authorization);
    if (value.size() < 7 || strncasecmp(value.data(), "Bearer ", 7) != 0) {
      reject("only Bearer credentials are accepted");
    }
    from_bearer(trim(value.substr(7)), *caller);
  } else if (const auto key = request.header("X-API-Key")) {
    from_api_key(trim(*key), *caller);
  } else if (const auto share = request.header("X-Share-Token")) {
    from_share_token(trim(*share), *caller, request);
  } else if (const auto it = request.query.find("share_token"); it != request.query.end()) {
    from_share_token(it->second, *caller, request);
  }
  return caller;
}

void TokenAuthenticator::from_bearer(std::string_view token, auth::Caller& caller) {
  if (token.empty()) reject("the bearer token is empty");
  if (token.starts_with(kApiKeyPrefix)) return from_api_key(token, caller);
  if (token.starts_with(kRefreshTokenPrefix)) reject("a refresh token is not an access token");
  if (services_.oidc.enabled() && unverified_issuer(token) == services_.oidc.issuer()) {
    return from_oidc_token(token, caller);
  }
  from_access_token(token, caller);
}

void TokenAuthenticator::from_access_token(std::string_view token, auth::Caller& caller) {
  auth::VerifyOptions verify_options;
  verify_options.algorithms = {"HS256"};
  verify_options.issuer = services_.options.issuer;
  verify_options.audience = services_.options.audience;
  auth::Claims claims;
  try {
    claims = auth::verify(token, keys_, verify_options);
  } catch (const auth::JwtError& e) {
    reject(e);
  }
  // Share tokens are signed with the same key; only access tokens may pass here.
  const auto* type = string_claim(claims.raw, "typ");
  const auto* session_id = string_claim(claims.raw, "sid");
  const auto* tenant = string_claim(claims.raw, "tid");
  if ((type != nullptr && *type != "access") || session_id == nullptr || tenant == nullptr) {
    reject("the token is not valid");
  }
  const auto session = services_.sessions.active(*session_id);
  if (!session || session->user_id != claims.subject || session->tenant != *tenant) {
    reject("the session has ended");
  }
  caller.kind = auth::CallerKind::user;
  caller.tenant = session->tenant;
  caller.user_id = session->user_id;
  caller.name = session->username;
  caller.roles = session->roles;
  caller.grants = session->grants;
  caller.credential_id = session->session_id;
}

void TokenAuthenticator::from_oidc_token(std::string_view token, auth::Caller& caller) {
  std::optional<auth::Caller> verified;
  try {
    verified = services_.oidc.authenticate(token);
  } catch (const auth::JwtError& e) {
    reject(e);
  }
  if (!verified) reject("the token names no enabled tenant");
  verified->ip = caller.ip;
  verified->request_id = caller.request_id;
  caller = std::move(*verified);
}

void TokenAuthenticator::from_api_key(std::string_view presented, auth::Caller& caller) {
  const auto key = services_.api_keys.authenticate(presented, caller.ip);
  if (!key) reject("the API key is not valid");
  // A key dies with its tenant and with its creator's account.
  const auto creator = services_.directory.user(key->tenant, key->created_by);
  if (!creator || creator->disabled || !services_.directory.tenant_enabled(key->tenant)) {
    reject("the API key is not valid");
  }
  caller.kind = auth::CallerKind::api_key;
  caller.tenant = key->tenant;
  caller.user_id = key->created_by;
  caller.name = key->name;
  caller.roles = key->roles;
  caller.grants = services_.directory.grants_of(key->tenant, key->roles);
  caller.credential_id = key->id;
}

void TokenAuthenticator::from_share_token(std::string_view token, auth::Caller& caller,
                                          const http::Request& request) {
  const auto link = services_.share_links.resolve(token);
  if (!link || !services_.directory.tenant_enabled(link->tenant)) reject("the share link is not valid");
  caller.kind = auth::CallerKind::share_link;
  caller.tenant = link->tenant;
  caller.user_id = link->created_by;
  caller.name = link->id;
  caller.grants = {link->grant()};
  caller.credential_id = link->id;
  services_.share_links.record_use(*link, caller.ip, caller.request_id);
  services_.record(caller, "share.use", "share-link/" + link->id, nullptr, nullptr, "success",
                   {{"action", link->action},
                    {"resource", link->resource},
                    {"method", request.method},
                    {"path", request.path}});
}

}  // namespace plexus::identity
