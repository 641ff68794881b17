// Who is calling: the identity every request carries once the access guard has
// looked at its credentials, and what it may do. Free of storage and HTTP, so the
// dispatcher, the plugin host and every service share one type.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace plexus::auth {

// `system` is the kernel acting on its own behalf (bootstrap bundles), never a
// request's caller; `name` says which part of it ("bootstrap").
enum class CallerKind { anonymous, user, api_key, share_link, oidc, system };

std::string_view kind_name(CallerKind kind);

struct Caller {
  CallerKind kind = CallerKind::anonymous;
  std::string tenant = "default";  // tenant id; every tenant-owned row is filtered by it
  std::string user_id;             // users.id; for an API key or share link: the user who created it
  std::string name;                // username, API key name or share link id, for people and the audit log
  std::vector<std::string> roles;
  // Effective grants, expanded from the roles (see grant_covers). A share link holds
  // exactly one: "<action>:<resource>".
  std::vector<std::string> grants;
  std::string credential_id;  // session family, API key id or share link id
  std::string ip;
  std::string request_id;

  bool anonymous() const { return kind == CallerKind::anonymous; }
  // True when a grant covers `permission` ("cep.rule.write", "api-manager.api.execute:42").
  bool can(std::string_view permission) const;
  // "user:admin", "apikey:ci-bot", "share:<id>", "oidc:alice", "system:bootstrap",
  // "anonymous": the audit actor.
  std::string actor() const;
};

// Grant syntax: `*` matches any run of characters (dots included), everything else
// literally. A grant without a ":" part also covers the permission on any one
// resource: "api.execute" covers "api.execute:42". Examples:
//   "*"        everything            "cep.*"  every cep permission
//   "*.read"   reading anything      "api.execute:42"  one API only
bool grant_covers(std::string_view grant, std::string_view permission);

// The built-in roles, the same in every tenant and not editable:
//   admin  ["*"]
//   editor ["*.read", "*.write", "*.execute", "menu.*"]
//   viewer ["*.read", "menu.*"]
// Kernel administration uses "admin.<area>.view" and "admin.<area>.manage", which the
// wildcards of editor and viewer deliberately do not reach.
const std::vector<std::string>* builtin_role_grants(std::string_view role);
inline const std::vector<std::string> kBuiltinRoles = {"admin", "editor", "viewer"};

}  // namespace plexus::auth
