// Nobody hands out more than they hold: giving a user or an API key a role, or
// defining a role, requires the caller to hold every grant that role carries.
#pragma once

#include <string>
#include <vector>

#include "kernel/auth/caller.hpp"
#include "kernel/identity/services.hpp"

namespace plexus::identity {

// True when one of the caller's grants covers `grant` read as a permission (so "*"
// covers "cep.*", but "cep.*" does not cover "*").
bool holds_grant(const auth::Caller& caller, const std::string& grant);

// 400 naming `field` and the role when a role does not exist in the caller's tenant;
// 403 when the caller lacks a grant of one of them.
void require_assignable(Services& services, const auth::Caller& caller, const std::vector<std::string>& roles,
                        const std::string& field);

// 403 unless the caller holds every grant of `roles`: to manage a user or key whose
// roles exceed the caller's own would be a way up.
void require_holds_roles(Services& services, const auth::Caller& caller,
                         const std::vector<std::string>& roles, const std::string& what);

}  // namespace plexus::identity
