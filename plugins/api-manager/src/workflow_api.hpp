// Type "workflow": steps that call APIs, services or tools, run SQL or a script, branch,
// loop and run in parallel, each with its own timeout and retry policy; results pass to
// later steps (issue 7 item 2). docs/api-manager.md, "Workflow APIs", is the user's view.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "execute.hpp"

namespace plexus::api_manager {

// Adds problems for the "/workflow" field to `problems` ([{"pointer","message"}]);
// called by validate_content for type "workflow".
void validate_workflow_content(const nlohmann::json& content, nlohmann::json& problems);

// The ids of the APIs a workflow's steps call (for the references hook, API-8).
std::vector<std::string> workflow_api_references(const nlohmann::json& workflow);
// The datasources its SQL steps use.
std::vector<std::string> workflow_datasource_references(const nlohmann::json& workflow);

Outcome run_workflow_api(const CompiledApi& api, const nlohmann::json& params, ExecContext& context);

}  // namespace plexus::api_manager
