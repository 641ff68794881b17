// Tenants, users and roles as stored. Every query is scoped by tenant: a caller
// passes its own tenant and never sees another's rows. Password hashes stay here
// and in the login path; the JSON views below leave them out.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernel/store/database.hpp"

namespace plexus::identity {

inline constexpr const char* kDefaultTenant = "default";

struct Tenant {
  std::string id, name;
  bool disabled = false;
  std::string created_at, updated_at;
};

struct User {
  std::string id, tenant, username, display_name;
  std::string password_hash;  // Argon2id PHC string; never leaves identity
  std::vector<std::string> roles;
  bool disabled = false;
  std::string created_at, updated_at;
  std::optional<std::string> last_login_at;
};

struct Role {
  std::string name, description;
  std::vector<std::string> grants;
  bool builtin = false;
  std::string created_at, updated_at;  // empty for built-in roles
};

// The REST and audit views, without password hashes.
nlohmann::json to_json(const Tenant& tenant);
nlohmann::json to_json(const User& user);
nlohmann::json to_json(const Role& role);

struct UserPage {
  std::vector<User> items;
  std::optional<std::string> last_username;  // set when more rows follow
};

class Directory {
 public:
  explicit Directory(store::Database& database) : database_(database) {}

  std::vector<Tenant> tenants();
  std::optional<Tenant> tenant(const std::string& id);
  // True when the tenant exists and is not disabled.
  bool tenant_enabled(const std::string& id);
  // False when the id is taken.
  bool create_tenant(const Tenant& tenant);
  void update_tenant(const Tenant& tenant);

  std::optional<User> user(const std::string& tenant, const std::string& id);
  std::optional<User> user_by_name(const std::string& tenant, const std::string& username);
  // Ordered by username, `limit` rows after `after_username`.
  UserPage users(const std::string& tenant, int limit, const std::string& after_username);
  // Usernames of the tenant's users holding `role`.
  std::vector<std::string> users_with_role(const std::string& tenant, const std::string& role);
  // False when the username is taken in the tenant.
  bool create_user(const User& user);
  // Writes display_name, roles, disabled and updated_at.
  void update_user(const User& user);
  void set_password_hash(const std::string& tenant, const std::string& user_id, const std::string& hash);
  void record_login(const std::string& tenant, const std::string& user_id, const std::string& time);

  // Built-in roles first, then the tenant's own by name.
  std::vector<Role> roles(const std::string& tenant);
  std::optional<Role> role(const std::string& tenant, const std::string& name);
  bool role_exists(const std::string& tenant, const std::string& name);
  bool create_role(const std::string& tenant, const Role& role);
  void update_role(const std::string& tenant, const Role& role);
  void delete_role(const std::string& tenant, const std::string& name);
  // The union of the roles' grants, sorted; unknown roles grant nothing.
  std::vector<std::string> grants_of(const std::string& tenant, const std::vector<std::string>& roles);

 private:
  store::Database& database_;
};

}  // namespace plexus::identity
