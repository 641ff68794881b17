// The permission strings the kernel itself checks, with what they allow. Routes and
// running plugins declare the rest; GET /api/v1/admin/permissions lists them all.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace plexus::identity {

struct PermissionInfo {
  std::string permission, description;
};

const std::vector<PermissionInfo>& kernel_permissions();

// A permission a running plugin checks itself, beyond its routes' own, as its metadata
// declares it (plugins/metadata.hpp); asked for each time the catalogue is listed.
struct PluginPermission {
  std::string permission, description, plugin;
};
using PluginPermissionSource = std::function<std::vector<PluginPermission>()>;

}  // namespace plexus::identity
