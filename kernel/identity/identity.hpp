// Identity and access (COM-1, COM-10): tenants, users, roles, sessions, API keys,
// share links, login history and lockout, and the Authenticator the HTTP layer
// asks who a request comes from. The one object the App builds and wires.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kernel/audit/audit_log.hpp"
#include "kernel/auth/caller.hpp"
#include "kernel/http/access.hpp"
#include "kernel/http/router.hpp"
#include "kernel/identity/kernel_permissions.hpp"
#include "kernel/store/database.hpp"

namespace plexus::config {
class Config;
}

namespace plexus::identity {

struct OidcOptions {
  std::string issuer;  // empty: SSO off
  std::string audience;
  std::string jwks;  // file path or https:// URL
  std::chrono::milliseconds jwks_refresh{3'600'000};
  std::string username_claim = "preferred_username";
  std::string roles_claim = "roles";
  std::string tenant_claim = "tenant";
  std::string default_tenant = "default";
  std::map<std::string, std::string> role_map;
};

struct IdentityOptions {
  std::string jwt_secret;  // >= 32 bytes
  std::string issuer = "plexus";
  std::string audience = "plexus";
  std::chrono::milliseconds access_ttl{15 * 60'000};
  std::chrono::milliseconds refresh_ttl{7 * 24 * 3'600'000LL};
  std::chrono::milliseconds session_max_age{30 * 24 * 3'600'000LL};
  int lockout_max_failures = 5;
  std::chrono::milliseconds lockout_window{15 * 60'000};
  std::chrono::milliseconds lockout_duration{15 * 60'000};
  std::size_t password_min_length = 12;
  std::chrono::milliseconds share_max_ttl{30 * 24 * 3'600'000LL};
  OidcOptions oidc;
};

// The options `config` describes. An empty auth.jwt_secret is generated once and
// kept in <data_dir>/secrets/jwt-secret (mode 0600).
IdentityOptions identity_options_of(const config::Config& config, const std::filesystem::path& data_dir);

class Identity {
 public:
  // Applies the "kernel.identity" migrations. Throws std::runtime_error on bad options.
  Identity(store::Database& database, audit::AuditLog& audit, IdentityOptions options);
  ~Identity();
  Identity(const Identity&) = delete;
  Identity& operator=(const Identity&) = delete;

  // First start on an empty database: creates tenant "default" and user "admin"
  // with `admin_password`, or with a generated password which is returned (to be
  // printed once). nullopt when the admin existed already or the password was given.
  std::optional<std::string> bootstrap(const std::string& admin_password);

  std::shared_ptr<http::Authenticator> authenticator();

  // /api/v1/auth/* and /api/v1/admin/{users,roles,permissions,tenants,api-keys,
  // share-links,login-history}. The permission catalogue lists the kernel's permissions,
  // the routes' and what `plugin_permissions` answers when it is called.
  void register_routes(http::Router& router, PluginPermissionSource plugin_permissions = {});

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace plexus::identity
