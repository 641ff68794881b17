// Everything identity's routes and authenticator share, built once by the facade.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "kernel/audit/audit_log.hpp"
#include "kernel/auth/password.hpp"
#include "kernel/identity/api_keys.hpp"
#include "kernel/identity/directory.hpp"
#include "kernel/identity/identity.hpp"
#include "kernel/identity/kernel_permissions.hpp"
#include "kernel/identity/login_guard.hpp"
#include "kernel/identity/oidc.hpp"
#include "kernel/identity/sessions.hpp"
#include "kernel/identity/share_links.hpp"

namespace plexus::identity {

struct Services {
  Services(store::Database& database, audit::AuditLog& audit, IdentityOptions options);

  store::Database& database;
  audit::AuditLog& audit;
  const IdentityOptions options;
  const auth::PasswordPolicy password_policy;
  Directory directory;
  Sessions sessions;
  LoginGuard login_guard;
  ApiKeys api_keys;
  ShareLinks share_links;
  OidcVerifier oidc;
  const http::Router* router = nullptr;  // set by register_routes; read for the permission list
  PluginPermissionSource plugin_permissions;  // set by register_routes; may be empty

  // One audit row for something `caller` did; before/after are the JSON views, which
  // never hold password or key hashes.
  void record(const auth::Caller& caller, const std::string& action, const std::string& target,
              nlohmann::json before = nullptr, nlohmann::json after = nullptr,
              const std::string& outcome = "success", nlohmann::json details = nullptr);
};

}  // namespace plexus::identity
