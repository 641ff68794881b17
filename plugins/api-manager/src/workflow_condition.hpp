// Conditions of workflow steps ("when", and "if" steps): a small declarative form, never
// code. {"left": <template>, "op": "eq", "right": <template>}, the unary ops
// {"left", "op": "empty"}, combinations {"all": [...]}, {"any": [...]}, {"not": ...},
// and the literals true and false. docs/api-manager.md, "Workflow APIs", lists the ops.
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "workflow_template.hpp"

namespace plexus::api_manager {

// Adds a problem ([{"pointer","message"}]) for each part of `condition` that is not
// one of the forms above; references go to `on_reference` as in check_template.
void check_condition(const nlohmann::json& condition, const std::string& pointer, nlohmann::json& problems,
                     const std::function<void(const Reference&, const std::string&)>& on_reference);

// Evaluates a condition check_condition accepts. Comparisons (gt, ge, lt, le) hold for
// two numbers or two strings only; anything else compares false.
bool evaluate_condition(const nlohmann::json& condition, const Scope& scope);

}  // namespace plexus::api_manager
