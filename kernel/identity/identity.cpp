#include "kernel/identity/identity.hpp"

#include <stdexcept>

#include "kernel/identity/routes.hpp"
#include "kernel/identity/schema.hpp"
#include "kernel/identity/services.hpp"
#include "kernel/identity/token_authenticator.hpp"
#include "kernel/identity/token_crypto.hpp"
#include "kernel/log/log.hpp"
#include "kernel/store/clock.hpp"

namespace plexus::identity {
namespace {

constexpr const char* kBootstrapAdmin = "admin";

void validate(const IdentityOptions& options) {
  if (options.jwt_secret.size() < auth::kMinHmacSecretSize) {
    throw std::runtime_error("auth.jwt_secret must be at least " + std::to_string(auth::kMinHmacSecretSize) +
                             " bytes");
  }
  if (options.issuer.empty() || options.audience.empty()) {
    throw std::runtime_error("auth.issuer and auth.audience must not be empty");
  }
  using std::chrono::milliseconds;
  if (options.access_ttl <= milliseconds(0) || options.refresh_ttl <= milliseconds(0) ||
      options.session_max_age <= milliseconds(0) || options.lockout_window <= milliseconds(0) ||
      options.lockout_duration <= milliseconds(0) || options.share_max_ttl <= milliseconds(0)) {
    throw std::runtime_error("auth lifetimes and lockout periods must be positive");
  }
  if (options.lockout_max_failures < 1)
    throw std::runtime_error("auth.lockout.max_failures must be at least 1");
}

std::string generated_password(const auth::PasswordPolicy& policy) {
  for (;;) {
    auto candidate = random_secret(18);  // 24 characters, 144 bits
    if (auth::check_password(candidate, policy, kBootstrapAdmin).empty()) return candidate;
  }
}

void record_system(audit::AuditLog& audit, const std::string& tenant, const std::string& action,
                   const std::string& target, nlohmann::json after) {
  audit::AuditEvent event;
  event.tenant = tenant;
  event.actor = "system";
  event.action = action;
  event.target = target;
  event.after = std::move(after);
  audit.record(std::move(event));
}

}  // namespace

struct Identity::Impl {
  Impl(store::Database& database, audit::AuditLog& audit, IdentityOptions options)
      : services(database, audit, std::move(options)),
        authenticator(std::make_shared<TokenAuthenticator>(services)) {}
  Services services;
  std::shared_ptr<TokenAuthenticator> authenticator;
};

Identity::Identity(store::Database& database, audit::AuditLog& audit, IdentityOptions options) {
  validate(options);
  migrate_schema(database);
  impl_ = std::make_unique<Impl>(database, audit, std::move(options));
}

Identity::~Identity() = default;

std::optional<std::string> Identity::bootstrap(const std::string& admin_password) {
  auto& s = impl_->services;
  const auto now = store::utc_now();
  if (!s.directory.tenant(kDefaultTenant)) {
    const Tenant tenant{kDefaultTenant, "Default", false, now, now};
    if (s.directory.create_tenant(tenant)) {
      record_system(s.audit, kDefaultTenant, "tenant.create", std::string("tenant/") + kDefaultTenant,
                    to_json(tenant));
    }
  }
  if (s.directory.user_by_name(kDefaultTenant, kBootstrapAdmin)) return std::nullopt;

  const bool generate = admin_password.empty();
  const std::string password = generate ? generated_password(s.password_policy) : admin_password;
  User admin;
  admin.id = new_id();
  admin.tenant = kDefaultTenant;
  admin.username = kBootstrapAdmin;
  admin.display_name = "Administrator";
  admin.roles = {"admin"};
  admin.password_hash = auth::hash_password(password);
  admin.created_at = admin.updated_at = now;
  if (!s.directory.create_user(admin)) return std::nullopt;  // another node was faster
  record_system(s.audit, kDefaultTenant, "user.create", "user/" + admin.id, to_json(admin));
  log::get("auth")->info("created user {} in tenant {} ({} password)", kBootstrapAdmin, kDefaultTenant,
                         generate ? "generated" : "given");
  if (generate) return password;
  return std::nullopt;
}

std::shared_ptr<http::Authenticator> Identity::authenticator() { return impl_->authenticator; }

void Identity::register_routes(http::Router& router, PluginPermissionSource plugin_permissions) {
  auto& s = impl_->services;
  s.router = &router;
  s.plugin_permissions = std::move(plugin_permissions);
  std::vector<http::Route> routes;
  for (auto group : {auth_routes(s), user_routes(s), role_routes(s), tenant_routes(s), api_key_routes(s),
                     share_link_routes(s), login_history_routes(s)}) {
    for (auto& route : group) routes.push_back(std::move(route));
  }
  router.add_all(std::move(routes));
}

}  // namespace plexus::identity
