// GET /api/v1/openapi.json: an OpenAPI 3.1 description of every route registered
// now, kernel and plugins alike, generated from the live route table so it can
// never drift from what the server serves.
#pragma once

#include <nlohmann/json.hpp>

#include "kernel/http/router.hpp"

namespace plexus {

nlohmann::json build_openapi(const http::Router& router, const std::string& version);
void register_openapi_route(http::Router& router, std::string version);

}  // namespace plexus
