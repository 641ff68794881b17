#include "kernel/identity/kernel_permissions.hpp"

namespace plexus::identity {

const std::vector<PermissionInfo>& kernel_permissions() {
  static const std::vector<PermissionInfo> permissions = {
      {"admin.users.view", "See the tenant's users"},
      {"admin.users.manage", "Create users, change their roles, disable them, set their passwords"},
      {"admin.roles.view", "See roles and the permission catalogue"},
      {"admin.roles.manage", "Create, change and delete custom roles"},
      {"admin.tenants.manage", "See, create, rename and disable tenants (callers of tenant default only)"},
      {"admin.api-keys.view", "See the tenant's API keys (never their secrets)"},
      {"admin.api-keys.manage", "Create and revoke API keys"},
      {"admin.share-links.view", "See every share link of the tenant and its uses"},
      {"admin.share-links.manage", "Revoke any share link of the tenant"},
      {"admin.login-history.view", "See the tenant's login attempts"},
      {"admin.audit.view", "Read and verify the audit log"},
      {"admin.plugins.view", "See loaded plugins"},
      {"admin.plugins.manage", "Reload, enable and disable plugins"},
      {"admin.cluster.view", "See this node, the leader and the nodes seen (every node of the cluster)"},
      {"admin.events.view", "Watch the events of the bus as they happen (every tenant's: the bus is node-wide)"},
      {"admin.events.publish", "Publish events on the bus, which also reach the other nodes"},
      {"tools.read", "See the tools plugins registered (GET /api/v1/tools)"},
      {"tools.execute", "Call every tool that declares no permission of its own; tools.execute:<name> for one"},
      {"jobs.read", "See the tenant's jobs, their progress and results"},
      {"jobs.cancel", "Cancel the tenant's jobs"},
      {"schedules.read", "See the tenant's schedules and their next runs"},
      {"schedules.write", "Create, replace, delete, pause and resume the tenant's schedules"},
  };
  return permissions;
}

}  // namespace plexus::identity
