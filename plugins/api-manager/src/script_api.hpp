// Type "script": Lua 5.4 in a sandbox (issue 7 item 2). No io, os, require, load of
// files or debug; instruction and memory limits; a small `plexus` table for queries and
// calls. docs/api-manager.md, "Script APIs", is the user's view.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "execute.hpp"

namespace plexus::api_manager {

struct ScriptLimits {
  std::uint64_t max_instructions = 10'000'000;  // Lua VM instructions per run
  std::size_t max_memory_bytes = 32u << 20;     // the Lua state's allocations
};
// The bounds of a definition's "limits" (validate_script_content).
inline constexpr std::int64_t kMaxScriptInstructions = 1'000'000'000;
inline constexpr std::int64_t kMaxScriptMemoryMb = 256;
// A definition's validated "limits" over the defaults.
ScriptLimits script_limits(const nlohmann::json& limits);

// Adds problems for a script API's fields ("/script", "/limits"...) to `problems`
// ([{"pointer","message"}]); called by validate_content for type "script".
void validate_script_content(const nlohmann::json& content, nlohmann::json& problems);
// Compiles `source` without running it; "" when it compiles, the syntax error otherwise.
std::string check_script_syntax(const std::string& source);

// Runs `source` with `params` as the global `params`; its return value is the answer.
Outcome run_script(const std::string& source, const nlohmann::json& params, ExecContext& context,
                   const ScriptLimits& limits = {});
// The same, its plexus.log lines tagged with `api_id`.
Outcome run_script(const std::string& source, const nlohmann::json& params, ExecContext& context,
                   const ScriptLimits& limits, const std::string& api_id);

Outcome run_script_api(const CompiledApi& api, const nlohmann::json& params, ExecContext& context);

}  // namespace plexus::api_manager
