// The REST API of the resource store, under /api/v1/resources (DESIGN.md
// "Operating contract", docs/resources.md).
#pragma once

#include "kernel/http/router.hpp"
#include "kernel/resources/resource_store.hpp"

namespace plexus::resources {

// `store` must outlive the routes.
void register_resource_routes(http::Router& router, ResourceStore& store);

}  // namespace plexus::resources
