// GET <prefix>/slow?since=24h: the APIs of the caller's tenant with a slow-query threshold
// (`slow_ms`) and how many of their runs since then reached it (issue 7 item 7, API-5).
#pragma once

#include <string>

#include <plexus/plugin.hpp>

#include "exec_log.hpp"
#include "runtime.hpp"

namespace plexus::api_manager {

void register_slow_summary_route(sdk::Host& host, Runtime& runtime, ExecLog& log, const std::string& prefix);

}  // namespace plexus::api_manager
