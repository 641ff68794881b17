// Breaking changes between two revisions of an API, as its callers see them (issue 7
// item 13, API-12): what a caller that worked against `from` may find refused or
// different in `to`. The promotion gate (promotion_gate.hpp) blocks production on them
// unless the new content accepts them for that exact production revision.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <plexus/plugin.hpp>

namespace plexus::api_manager {

struct BreakingChange {
  std::string change;   // "method_changed" | "path_changed" | "parameter_removed" |
                        // "parameter_retyped" | "parameter_required" | "unknown_parameters_refused" |
                        // "response_field_removed" | "response_field_retyped"
  std::string pointer;  // where in the content: "/params/properties/role", "/response/properties/..."
  std::string message;  // for people: "the parameter 'role' was removed"
};

// Both are API contents (kind "api"). Checked: method; path (parameter names aside);
// each parameter removed, retyped to a type that refuses values the
// old one took (integer -> number is fine, number -> integer is not), newly required;
// additionalProperties newly false; and when both declare a `response` schema, each
// property (through `properties` and `items`) removed or retyped to something the old
// type did not allow. Not checked: enum, pattern, ranges, formats; nor access (public,
// permissions): taking access away is a decision about callers, not the contract.
std::vector<BreakingChange> breaking_changes(const nlohmann::json& from, const nlohmann::json& to);

nlohmann::json to_json(const std::vector<BreakingChange>& changes);

// GET <prefix>/apis/{id}/compatibility?from=&to= (permission api.read:{id}): each side is
// "production", "staging", "current" or the revision number one of them points at
// (defaults: production -> current). The SDK reads resources by stage only, so other
// revisions are refused (400) with a pointer to the store's diff.
void register_compatibility_route(sdk::Host& host, const std::string& prefix);

}  // namespace plexus::api_manager
