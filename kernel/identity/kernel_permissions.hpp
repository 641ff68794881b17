// The permission strings the kernel itself checks, with what they allow. Routes
// declare the rest; GET /api/v1/admin/permissions lists both.
#pragma once

#include <string>
#include <vector>

namespace plexus::identity {

struct PermissionInfo {
  std::string permission, description;
};

const std::vector<PermissionInfo>& kernel_permissions();

}  // namespace plexus::identity
