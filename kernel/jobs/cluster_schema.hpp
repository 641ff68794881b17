// Tables of component "kernel.cluster": the leader leases and the node heartbeats.
// Internal to plexus_jobs; LeaderLease and NodeRegistry each apply them.
#pragma once

#include <string_view>
#include <vector>

#include "kernel/store/migrations.hpp"

namespace plexus::jobs::cluster_schema {

inline constexpr std::string_view kComponent = "kernel.cluster";
const std::vector<store::Migration>& migrations();

}  // namespace plexus::jobs::cluster_schema
