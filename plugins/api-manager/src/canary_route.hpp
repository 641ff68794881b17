// GET <prefix>/apis/{id}/canary: a canary's policy, state and figures on this node
// (canary.hpp); 404 when the API has no canary running. Permission api.read.
#pragma once

#include <string>

#include <plexus/plugin.hpp>

#include "runtime.hpp"

namespace plexus::api_manager {

void register_canary_route(sdk::Host& host, Runtime& runtime, const std::string& prefix);

}  // namespace plexus::api_manager
