// Tables of component "kernel.schedules". Internal to plexus_schedule; Scheduler applies them.
#pragma once

#include <string_view>
#include <vector>

#include "kernel/store/migrations.hpp"

namespace plexus::schedule::schedule_schema {

inline constexpr std::string_view kComponent = "kernel.schedules";
std::vector<store::Migration> migrations();

}  // namespace plexus::schedule::schedule_schema
