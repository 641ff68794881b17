// SQL checked against its datasource before an API revision can serve (issue 7 item 5,
// API-3): the statement is compiled by the database itself with EXPLAIN and every
// placeholder bound to null, so a missing table or column, or a syntax error, stops the
// promotion instead of failing callers. Nothing is run.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <plexus/plugin.hpp>

namespace plexus::api_manager {

// A problem when the datasource refuses to compile `sql`, or does not exist; nullopt when
// it compiles, or when it cannot be asked now (unreachable, timed out): the check never
// blocks on the database being away.
std::optional<std::string> sql_compile_problem(sdk::Host& host, const std::string& tenant,
                                               const std::string& datasource, const std::string& sql,
                                               const std::vector<std::string>& placeholders);

}  // namespace plexus::api_manager
