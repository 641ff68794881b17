#include "workflow_api.hpp"

namespace plexus::api_manager {

// Placeholder until workflows land: workflow APIs are refused on save.
void validate_workflow_content(const nlohmann::json&, nlohmann::json& problems) {
  problems.push_back({{"pointer", "/type"}, {"message", "type 'workflow' is not supported yet"}});
}
std::vector<std::string> workflow_api_references(const nlohmann::json&) { return {}; }
std::vector<std::string> workflow_datasource_references(const nlohmann::json&) { return {}; }
Outcome run_workflow_api(const CompiledApi&, const nlohmann::json&, ExecContext&) {
  return Outcome::failure(501, "workflow", "not_supported", "workflow APIs are not supported yet");
}

}  // namespace plexus::api_manager
