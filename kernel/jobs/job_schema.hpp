// Tables of component "kernel.jobs". Internal to plexus_jobs; JobQueue applies them.
#pragma once

#include <string_view>
#include <vector>

#include "kernel/store/migrations.hpp"

namespace plexus::jobs::job_schema {

inline constexpr std::string_view kComponent = "kernel.jobs";
// The id column is the one dialect-specific part: an identity on PostgreSQL, an
// AUTOINCREMENT rowid on SQLite. Both hand out increasing ids and never reuse one.
std::vector<store::Migration> migrations(bool postgresql);

}  // namespace plexus::jobs::job_schema
