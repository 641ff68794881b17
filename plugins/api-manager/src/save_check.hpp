// The save hook of kind "api" (ABI 1.5 check_save; issue 7 items 5 and 6), run by the
// store on every save of new content after validate_content, and on delete and restore:
//  - system APIs ("system": true in the new or the current content) are changed, deleted
//    and restored only by holders of api.system.write (or api.system.write:<id>): 403
//    otherwise. The server's own saves (bootstrap bundles) are allowed.
//  - SQL is compiled on its datasource (sql_check.hpp), the API's own and every workflow
//    step's: SQL that does not compile is a problem at its pointer ("/sql",
//    "/workflow/steps/2/sql"), a datasource that does not exist one at "/datasource"
//    (422). A datasource that cannot be reached now passes: the promotion gate checks
//    again. An import passes a missing datasource too: the bundle may bring it. Delete
//    and restore compile nothing: a restore brings back what was there, as it was.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>
#include <plexus/plugin.hpp>

namespace plexus::api_manager {

inline constexpr std::string_view kSystemWrite = "api.system.write";

// True when content marks a system API.
bool is_system_api(const nlohmann::json& content);

// The hook: {"tenant","kind","id","operation","content","previous"} -> [{"pointer","message"}]
// as JSON; throws sdk::Error(PLEXUS_ERR_DENIED) naming the permission it lacks.
std::string check_api_save(sdk::Host& host, const sdk::Caller& caller, std::string_view input_json);

}  // namespace plexus::api_manager
