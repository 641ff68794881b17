#include "kernel/identity/role_assignment.hpp"

#include <algorithm>

#include "kernel/identity/request_fields.hpp"
#include "kernel/identity/responses.hpp"

namespace plexus::identity {

bool holds_grant(const auth::Caller& caller, const std::string& grant) {
  return std::any_of(caller.grants.begin(), caller.grants.end(),
                     [&](const std::string& own) { return auth::grant_covers(own, grant); });
}

void require_assignable(Services& services, const auth::Caller& caller, const std::vector<std::string>& roles,
                        const std::string& field) {
  for (const auto& name : roles) {
    if (!services.directory.role_exists(caller.tenant, name)) {
      bad_field(field, "there is no role '" + name + "'", {{"role", name}});
    }
  }
  require_holds_roles(services, caller, roles, "assign");
}

void require_holds_roles(Services& services, const auth::Caller& caller,
                         const std::vector<std::string>& roles, const std::string& what) {
  for (const auto& grant : services.directory.grants_of(caller.tenant, roles)) {
    if (!holds_grant(caller, grant)) {
      throw http::HttpError(
          403, "forbidden",
          "cannot " + what + " roles granting '" + grant + "', which the caller does not hold itself",
          {{"grant", grant}});
    }
  }
}

}  // namespace plexus::identity
