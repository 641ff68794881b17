// A plugin's migrations as it hands them to db_migrate (abi.h), read for one database:
// [{"version":1,"description":"...","statements":[...]}, ...], where a migration may give
// "sqlite" and "postgresql" lists instead of, or beside, "statements".
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "kernel/store/migrations.hpp"

namespace plexus::store {

// The migrations of `migrations_json` with the statements for `backend` ("sqlite" or
// "postgresql"): that dialect's list when a migration has one, else "statements". Every
// migration must run on both databases, so one without "statements" needs both lists.
// Throws std::invalid_argument naming the migration and the field at fault.
std::vector<Migration> migration_list(std::string_view migrations_json, const std::string& backend);

}  // namespace plexus::store
