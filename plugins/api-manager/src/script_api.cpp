#include "script_api.hpp"

namespace plexus::api_manager {

// Placeholder until the Lua sandbox lands: script APIs are refused on save.
void validate_script_content(const nlohmann::json&, nlohmann::json& problems) {
  problems.push_back({{"pointer", "/type"}, {"message", "type 'script' is not supported yet"}});
}
std::string check_script_syntax(const std::string&) { return "scripts are not supported yet"; }
Outcome run_script(const std::string&, const nlohmann::json&, ExecContext&, const ScriptLimits&) {
  return Outcome::failure(501, "script", "not_supported", "script APIs are not supported yet");
}
Outcome run_script_api(const CompiledApi& api, const nlohmann::json& params, ExecContext& context) {
  return run_script(api.def.script, params, context);
}

}  // namespace plexus::api_manager
