// The tables of component "kernel.resources", for SQLite and PostgreSQL alike.
#pragma once

#include <string_view>
#include <vector>

#include "kernel/store/migrations.hpp"

namespace plexus::resources {

inline constexpr std::string_view kComponent = "kernel.resources";
const std::vector<store::Migration>& store_migrations();

}  // namespace plexus::resources
