// The REST API of the resource store, under /api/v1/resources (DESIGN.md
// "Operating contract", docs/resources.md).
#pragma once

#include "kernel/http/router.hpp"
#include "kernel/resources/resource_store.hpp"

namespace plexus::resources {

// `store` must outlive the routes.
void register_resource_routes(http::Router& router, ResourceStore& store);

// The per-kind routes of /api/v1/resources/{kind} again under `prefix` (a kind's
// route_prefix, ABI 1.5) with the kind fixed to `kind`: the same handlers, summaries
// and permissions. The caller adds them to the router (and removes them); `store` must
// outlive them.
std::vector<http::Route> kind_routes(ResourceStore& store, const std::string& kind, const std::string& prefix);

}  // namespace plexus::resources
