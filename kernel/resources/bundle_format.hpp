// Bundles travel as JSON or YAML (docs/resources.md "Bundles"): the client picks
// with Accept or ?format= on export and with Content-Type on import.
#pragma once

#include <nlohmann/json.hpp>

#include "kernel/http/message.hpp"

namespace plexus::resources {

// The request body as a bundle document: YAML when Content-Type says so
// (application/yaml, application/x-yaml, text/yaml), JSON when it says
// application/json, and otherwise whatever the body looks like ('{' first: JSON).
// 400 "invalid_yaml" with details line, column (and field, when known) or
// 400 "invalid_json" when it does not parse.
nlohmann::json bundle_of(const http::Request& request);

// 200 with `bundle` as YAML when ?format=yaml, or when Accept names a YAML type
// before any JSON one; JSON otherwise. 400 for a ?format= that is neither.
http::Response bundle_response(const http::Request& request, const nlohmann::json& bundle);

}  // namespace plexus::resources
