// Single sign-on: RS256 tokens of one configured OIDC issuer, verified against its
// JWKS, become callers of kind oidc without any local user row. The tenant, name
// and roles come from configurable claims; roles go through role_map, and an
// unmapped role is kept only when that tenant has a role of that name.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "kernel/auth/caller.hpp"
#include "kernel/auth/jwt.hpp"
#include "kernel/identity/directory.hpp"
#include "kernel/identity/identity.hpp"
#include "kernel/identity/jwks_source.hpp"

namespace plexus::identity {

// The "iss" of a JWT before any verification, only to choose how to verify it.
std::optional<std::string> unverified_issuer(std::string_view token);

class OidcVerifier {
 public:
  // Throws std::runtime_error when the options name an issuer but no JWKS.
  OidcVerifier(const OidcOptions& options, Directory& directory);

  bool enabled() const { return !options_.issuer.empty(); }
  const std::string& issuer() const { return options_.issuer; }

  // Throws auth::JwtError for a token that does not verify; nullopt when it does but
  // names a tenant that does not exist or is disabled.
  std::optional<auth::Caller> authenticate(std::string_view token);

 private:
  auth::Claims verify(std::string_view token);
  std::vector<std::string> mapped_roles(const nlohmann::json& claims, const std::string& tenant);

  OidcOptions options_;
  Directory& directory_;
  std::unique_ptr<JwksSource> jwks_;
};

}  // namespace plexus::identity
