// The tables of identity (component "kernel.identity"). Every row that belongs to
// a tenant carries tenant_id; times are ISO-8601 UTC text; secrets are stored only
// as hashes (Argon2id for passwords, SHA-256 for refresh tokens and API keys).
#pragma once

#include "kernel/store/database.hpp"

namespace plexus::identity {

void migrate_schema(store::Database& database);

}  // namespace plexus::identity
