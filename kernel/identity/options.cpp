// identity_options_of: the auth.* configuration keys, and the JWT secret generated
// once into the data directory when the operator gives none.
#include "kernel/config/config.hpp"
#include "kernel/identity/identity.hpp"
#include "kernel/log/log.hpp"
#include "kernel/secrets/secret_file.hpp"

namespace plexus::identity {

IdentityOptions identity_options_of(const config::Config& config, const std::filesystem::path& data_dir) {
  IdentityOptions options;
  options.jwt_secret = config.get_string("auth.jwt_secret");
  if (options.jwt_secret.empty()) {
    options.jwt_secret = secrets::read_or_create_secret(data_dir / "secrets" / "jwt-secret", "JWT signing key");
    log::add_secret(options.jwt_secret);
  }
  options.issuer = config.get_string("auth.issuer");
  options.audience = config.get_string("auth.audience");
  options.access_ttl = config.get_duration("auth.access_ttl");
  options.refresh_ttl = config.get_duration("auth.refresh_ttl");
  options.session_max_age = config.get_duration("auth.session_max_age");
  options.lockout_max_failures = static_cast<int>(config.get_int("auth.lockout.max_failures"));
  options.lockout_window = config.get_duration("auth.lockout.window");
  options.lockout_duration = config.get_duration("auth.lockout.duration");
  options.password_min_length = static_cast<std::size_t>(config.get_int("auth.password.min_length"));
  options.share_max_ttl = config.get_duration("auth.share.max_ttl");
  auto& oidc = options.oidc;
  oidc.issuer = config.get_string("auth.oidc.issuer");
  oidc.audience = config.get_string("auth.oidc.audience");
  oidc.jwks = config.get_string("auth.oidc.jwks");
  oidc.jwks_refresh = config.get_duration("auth.oidc.jwks_refresh");
  oidc.username_claim = config.get_string("auth.oidc.username_claim");
  oidc.roles_claim = config.get_string("auth.oidc.roles_claim");
  oidc.tenant_claim = config.get_string("auth.oidc.tenant_claim");
  oidc.default_tenant = config.get_string("auth.oidc.default_tenant");
  oidc.role_map = config.get_map("auth.oidc.role_map");
  return options;
}

}  // namespace plexus::identity
