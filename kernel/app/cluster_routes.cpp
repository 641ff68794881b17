#include "kernel/app/cluster_routes.hpp"

namespace plexus {

void register_cluster_routes(http::Router& router, jobs::ClusterMembership& cluster) {
  router.add({"GET", "/api/v1/admin/cluster",
              [&cluster](http::Request&) { return http::Response::json(200, cluster.status()); },
              http::Surface::both, "kernel", false, "This node, the leader and the nodes seen recently",
              "admin.cluster.view"});
}

}  // namespace plexus
