// GET /api/v1/admin/cluster: this node, the leader and the nodes seen (issue 6).
#pragma once

#include "kernel/http/router.hpp"
#include "kernel/jobs/cluster_membership.hpp"

namespace plexus {

void register_cluster_routes(http::Router& router, jobs::ClusterMembership& cluster);

}  // namespace plexus
