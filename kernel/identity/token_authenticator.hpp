// Who a request comes from, for the HTTP layer's access check. Credentials, in order:
//   Authorization: Bearer plx_...   an API key
//   Authorization: Bearer <JWT>     our HS256 access token, or an RS256 token of the OIDC issuer
//   X-API-Key: plx_...              an API key
//   X-Share-Token / ?share_token=   a share link
// Present but invalid credentials are a 401 "invalid_token" whose message never
// repeats the credential; no credentials at all make an anonymous caller.
#pragma once

#include <memory>
#include <string_view>

#include "kernel/auth/jwt.hpp"
#include "kernel/http/access.hpp"
#include "kernel/identity/services.hpp"

namespace plexus::identity {

class TokenAuthenticator : public http::Authenticator {
 public:
  explicit TokenAuthenticator(Services& services);
  std::shared_ptr<const auth::Caller> authenticate(const http::Request& request) override;

 private:
  void from_bearer(std::string_view token, auth::Caller& caller);
  void from_access_token(std::string_view token, auth::Caller& caller);
  void from_oidc_token(std::string_view token, auth::Caller& caller);
  void from_api_key(std::string_view key, auth::Caller& caller);
  void from_share_token(std::string_view token, auth::Caller& caller, const http::Request& request);

  Services& services_;
  auth::KeySet keys_;
};

}  // namespace plexus::identity
