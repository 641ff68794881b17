#include "kernel/identity/directory.hpp"

#include <algorithm>
#include <set>

#include <soci/soci.h>

#include "kernel/auth/caller.hpp"
#include "kernel/identity/sql_values.hpp"

namespace plexus::identity {
namespace {

constexpr const char* kUserColumns =
    "id, tenant_id, username, display_name, password_hash, roles, disabled, created_at, updated_at, "
    "last_login_at";

User user_of(const soci::row& row) {
  User user;
  user.id = text_at(row, 0);
  user.tenant = text_at(row, 1);
  user.username = text_at(row, 2);
  user.display_name = text_at(row, 3);
  user.password_hash = text_at(row, 4);
  user.roles = string_list_of(text_at(row, 5));
  user.disabled = integer_at(row, 6) != 0;
  user.created_at = text_at(row, 7);
  user.updated_at = text_at(row, 8);
  user.last_login_at = optional_text_at(row, 9);
  return user;
}

Tenant tenant_of(const soci::row& row) {
  return Tenant{text_at(row, 0), text_at(row, 1), integer_at(row, 2) != 0, text_at(row, 3), text_at(row, 4)};
}

Role role_of(const soci::row& row) {
  return Role{text_at(row, 0), text_at(row, 1), string_list_of(text_at(row, 2)),
              false,           text_at(row, 3), text_at(row, 4)};
}

Role builtin_role(const std::string& name) {
  static const std::map<std::string, std::string> descriptions = {
      {"admin", "Everything, kernel administration included"},
      {"editor", "Read, write and execute everything plugins offer; no kernel administration"},
      {"viewer", "Read everything plugins offer; no kernel administration"},
  };
  return Role{name, descriptions.at(name), *auth::builtin_role_grants(name), true, "", ""};
}

std::optional<User> one_user(soci::session& sql, const std::string& where, const std::string& a,
                             const std::string& b) {
  soci::rowset<soci::row> rows =
      (sql.prepare << std::string("SELECT ") + kUserColumns + " FROM users WHERE " + where, soci::use(a),
       soci::use(b));
  for (const auto& row : rows) return user_of(row);
  return std::nullopt;
}

}  // namespace

nlohmann::json to_json(const Tenant& tenant) {
  return {{"id", tenant.id},
          {"name", tenant.name},
          {"disabled", tenant.disabled},
          {"created_at", tenant.created_at},
          {"updated_at", tenant.updated_at}};
}

nlohmann::json to_json(const User& user) {
  return {
      {"id", user.id},
      {"tenant", user.tenant},
      {"username", user.username},
      {"display_name", user.display_name},
      {"roles", user.roles},
      {"disabled", user.disabled},
      {"created_at", user.created_at},
      {"updated_at", user.updated_at},
      {"last_login_at", user.last_login_at ? nlohmann::json(*user.last_login_at) : nlohmann::json(nullptr)}};
}

nlohmann::json to_json(const Role& role) {
  nlohmann::json out{{"name", role.name},
                     {"description", role.description},
                     {"grants", role.grants},
                     {"builtin", role.builtin}};
  if (!role.builtin) {
    out["created_at"] = role.created_at;
    out["updated_at"] = role.updated_at;
  }
  return out;
}

std::vector<Tenant> Directory::tenants() {
  soci::session sql(database_.pool());
  std::vector<Tenant> out;
  soci::rowset<soci::row> rows =
      sql.prepare << "SELECT id, name, disabled, created_at, updated_at FROM tenants ORDER BY id";
  for (const auto& row : rows) out.push_back(tenant_of(row));
  return out;
}

std::optional<Tenant> Directory::tenant(const std::string& id) {
  soci::session sql(database_.pool());
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT id, name, disabled, created_at, updated_at FROM tenants WHERE id = :id",
       soci::use(id));
  for (const auto& row : rows) return tenant_of(row);
  return std::nullopt;
}

bool Directory::tenant_enabled(const std::string& id) {
  const auto found = tenant(id);
  return found && !found->disabled;
}

bool Directory::create_tenant(const Tenant& tenant) {
  soci::session sql(database_.pool());
  int taken = 0;
  sql << "SELECT COUNT(*) FROM tenants WHERE id = :id", soci::into(taken), soci::use(tenant.id);
  if (taken > 0) return false;
  const int disabled = tenant.disabled ? 1 : 0;
  try {
    sql << "INSERT INTO tenants (id, name, disabled, created_at, updated_at) VALUES (:id, :name, :d, :c, :u)",
        soci::use(tenant.id), soci::use(tenant.name), soci::use(disabled), soci::use(tenant.created_at),
        soci::use(tenant.updated_at);
  } catch (const soci::soci_error&) {
    // Lost a race with another creator of the same id.
    sql << "SELECT COUNT(*) FROM tenants WHERE id = :id", soci::into(taken), soci::use(tenant.id);
    if (taken > 0) return false;
    throw;
  }
  return true;
}

void Directory::update_tenant(const Tenant& tenant) {
  soci::session sql(database_.pool());
  const int disabled = tenant.disabled ? 1 : 0;
  sql << "UPDATE tenants SET name = :name, disabled = :d, updated_at = :u WHERE id = :id",
      soci::use(tenant.name), soci::use(disabled), soci::use(tenant.updated_at), soci::use(tenant.id);
}

std::optional<User> Directory::user(const std::string& tenant, const std::string& id) {
  soci::session sql(database_.pool());
  return one_user(sql, "tenant_id = :t AND id = :id", tenant, id);
}

std::optional<User> Directory::user_by_name(const std::string& tenant, const std::string& username) {
  soci::session sql(database_.pool());
  return one_user(sql, "tenant_id = :t AND username = :u", tenant, username);
}

UserPage Directory::users(const std::string& tenant, int limit, const std::string& after_username) {
  soci::session sql(database_.pool());
  const int fetch = limit + 1;
  UserPage page;
  soci::rowset<soci::row> rows =
      (sql.prepare << std::string("SELECT ") + kUserColumns +
                          " FROM users WHERE tenant_id = :t AND username > :after ORDER BY username LIMIT :n",
       soci::use(tenant), soci::use(after_username), soci::use(fetch));
  for (const auto& row : rows) page.items.push_back(user_of(row));
  if (static_cast<int>(page.items.size()) > limit) {
    page.items.pop_back();
    page.last_username = page.items.back().username;
  }
  return page;
}

std::vector<std::string> Directory::users_with_role(const std::string& tenant, const std::string& role) {
  soci::session sql(database_.pool());
  std::vector<std::string> out;
  // Roles live in a JSON column: filter coarsely in SQL, exactly here.
  const std::string pattern = "%\"" + role + "\"%";
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT username, roles FROM users WHERE tenant_id = :t AND roles "
                      "LIKE :p ORDER BY username",
       soci::use(tenant), soci::use(pattern));
  for (const auto& row : rows) {
    const auto roles = string_list_of(text_at(row, 1));
    if (std::find(roles.begin(), roles.end(), role) != roles.end()) out.push_back(text_at(row, 0));
  }
  return out;
}

bool Directory::create_user(const User& user) {
  soci::session sql(database_.pool());
  int taken = 0;
  sql << "SELECT COUNT(*) FROM users WHERE tenant_id = :t AND username = :u", soci::into(taken),
      soci::use(user.tenant), soci::use(user.username);
  if (taken > 0) return false;
  const std::string roles = json_text_of(user.roles);
  const int disabled = user.disabled ? 1 : 0;
  try {
    sql << "INSERT INTO users (id, tenant_id, username, display_name, password_hash, roles, disabled, "
           "created_at, "
           "updated_at) VALUES (:id, :t, :u, :dn, :h, :r, :d, :c, :up)",
        soci::use(user.id), soci::use(user.tenant), soci::use(user.username), soci::use(user.display_name),
        soci::use(user.password_hash), soci::use(roles), soci::use(disabled), soci::use(user.created_at),
        soci::use(user.updated_at);
  } catch (const soci::soci_error&) {
    sql << "SELECT COUNT(*) FROM users WHERE tenant_id = :t AND username = :u", soci::into(taken),
        soci::use(user.tenant), soci::use(user.username);
    if (taken > 0) return false;
    throw;
  }
  return true;
}

void Directory::update_user(const User& user) {
  soci::session sql(database_.pool());
  const std::string roles = json_text_of(user.roles);
  const int disabled = user.disabled ? 1 : 0;
  sql << "UPDATE users SET display_name = :dn, roles = :r, disabled = :d, updated_at = :up "
         "WHERE tenant_id = :t AND id = :id",
      soci::use(user.display_name), soci::use(roles), soci::use(disabled), soci::use(user.updated_at),
      soci::use(user.tenant), soci::use(user.id);
}

void Directory::set_password_hash(const std::string& tenant, const std::string& user_id,
                                  const std::string& hash) {
  soci::session sql(database_.pool());
  sql << "UPDATE users SET password_hash = :h WHERE tenant_id = :t AND id = :id", soci::use(hash),
      soci::use(tenant), soci::use(user_id);
}

void Directory::record_login(const std::string& tenant, const std::string& user_id, const std::string& time) {
  soci::session sql(database_.pool());
  sql << "UPDATE users SET last_login_at = :now WHERE tenant_id = :t AND id = :id", soci::use(time),
      soci::use(tenant), soci::use(user_id);
}

std::vector<Role> Directory::roles(const std::string& tenant) {
  std::vector<Role> out;
  for (const auto& name : auth::kBuiltinRoles) out.push_back(builtin_role(name));
  soci::session sql(database_.pool());
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT name, description, grants, created_at, updated_at FROM roles "
                      "WHERE tenant_id = :t ORDER BY name",
       soci::use(tenant));
  for (const auto& row : rows) out.push_back(role_of(row));
  return out;
}

std::optional<Role> Directory::role(const std::string& tenant, const std::string& name) {
  if (auth::builtin_role_grants(name) != nullptr) return builtin_role(name);
  soci::session sql(database_.pool());
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT name, description, grants, created_at, updated_at FROM roles "
                      "WHERE tenant_id = :t AND name = :n",
       soci::use(tenant), soci::use(name));
  for (const auto& row : rows) return role_of(row);
  return std::nullopt;
}

bool Directory::role_exists(const std::string& tenant, const std::string& name) {
  return role(tenant, name).has_value();
}

bool Directory::create_role(const std::string& tenant, const Role& role) {
  if (role_exists(tenant, role.name)) return false;
  soci::session sql(database_.pool());
  const std::string grants = json_text_of(role.grants);
  try {
    sql << "INSERT INTO roles (tenant_id, name, description, grants, created_at, updated_at) "
           "VALUES (:t, :n, :d, :g, :c, :u)",
        soci::use(tenant), soci::use(role.name), soci::use(role.description), soci::use(grants),
        soci::use(role.created_at), soci::use(role.updated_at);
  } catch (const soci::soci_error&) {
    if (role_exists(tenant, role.name)) return false;
    throw;
  }
  return true;
}

void Directory::update_role(const std::string& tenant, const Role& role) {
  soci::session sql(database_.pool());
  const std::string grants = json_text_of(role.grants);
  sql << "UPDATE roles SET description = :d, grants = :g, updated_at = :u WHERE tenant_id = :t AND name = :n",
      soci::use(role.description), soci::use(grants), soci::use(role.updated_at), soci::use(tenant),
      soci::use(role.name);
}

void Directory::delete_role(const std::string& tenant, const std::string& name) {
  soci::session sql(database_.pool());
  sql << "DELETE FROM roles WHERE tenant_id = :t AND name = :n", soci::use(tenant), soci::use(name);
}

std::vector<std::string> Directory::grants_of(const std::string& tenant,
                                              const std::vector<std::string>& roles) {
  std::set<std::string> grants;
  std::vector<std::string> custom;
  for (const auto& name : roles) {
    if (const auto* builtin = auth::builtin_role_grants(name)) {
      grants.insert(builtin->begin(), builtin->end());
    } else {
      custom.push_back(name);
    }
  }
  if (!custom.empty()) {
    soci::session sql(database_.pool());
    soci::rowset<soci::row> rows =
        (sql.prepare << "SELECT name, grants FROM roles WHERE tenant_id = :t", soci::use(tenant));
    for (const auto& row : rows) {
      if (std::find(custom.begin(), custom.end(), text_at(row, 0)) == custom.end()) continue;
      for (auto& grant : string_list_of(text_at(row, 1))) grants.insert(std::move(grant));
    }
  }
  return {grants.begin(), grants.end()};
}

}  // namespace plexus::identity
