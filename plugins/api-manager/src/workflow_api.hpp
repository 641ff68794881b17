// Type "workflow": steps that call APIs, services or tools, run SQL or a script, branch,
// loop and run in parallel, each with its own timeout and retry policy; results pass to
// later steps (issue 7 item 2). docs/api-manager.md, "Workflow APIs", is the user's view.
// Validation and references are in workflow_validate.cpp, values in workflow_template,
// conditions in workflow_condition, the run in workflow_api.cpp.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "execute.hpp"

namespace plexus::api_manager {

// Bounds a definition is checked against on save.
inline constexpr int kMaxWorkflowSteps = 200;        // steps in all, nested ones included
inline constexpr int kMaxWorkflowDepth = 4;          // if, foreach and parallel inside each other
inline constexpr std::size_t kMaxParallelBranches = 8;  // threads of one parallel step
inline constexpr std::int64_t kMaxForeachItems = 1000;
inline constexpr std::int64_t kDefaultForeachItems = 100;
inline constexpr std::int64_t kMaxStepAttempts = 10;
inline constexpr std::int64_t kMaxStepTimeoutMs = 3'600'000;
inline constexpr std::int64_t kMaxStepBackoffMs = 60'000;

// Adds problems for the "/workflow" field to `problems` ([{"pointer","message"}]);
// called by validate_content for type "workflow".
void validate_workflow_content(const nlohmann::json& content, nlohmann::json& problems);

// The ids of the APIs a workflow's steps call (for the references hook, API-8).
std::vector<std::string> workflow_api_references(const nlohmann::json& workflow);
// The datasources its SQL steps use.
std::vector<std::string> workflow_datasource_references(const nlohmann::json& workflow);

Outcome run_workflow_api(const CompiledApi& api, const nlohmann::json& params, ExecContext& context);

// Runs a workflow ({"steps", "result"?}) with `params`: what run_workflow_api does with
// an API's definition. The workflow must be one validate_workflow_content accepts.
Outcome run_workflow(const nlohmann::json& workflow, const nlohmann::json& params, ExecContext& context);

}  // namespace plexus::api_manager
