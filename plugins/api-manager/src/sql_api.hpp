// Type "sql": one statement on the tenant's datasource, the parameters bound by name.
#pragma once

#include "execute.hpp"

namespace plexus::api_manager {

Outcome run_sql_api(const CompiledApi& api, const nlohmann::json& params, ExecContext& context);

// The outcome of a failed datasource call (sdk::Error from datasource_query), with the
// datasource's own words as details: 502 or 504, transient for timeouts and outages.
Outcome datasource_failure(const sdk::Error& error, const std::string& request_id);

}  // namespace plexus::api_manager
