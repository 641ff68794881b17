#include "execute.hpp"

#include <algorithm>

#include "script_api.hpp"
#include "sql_api.hpp"
#include "workflow_api.hpp"

namespace plexus::api_manager {

using nlohmann::json;
using nlohmann::ordered_json;

Outcome Outcome::success(ordered_json body, std::int64_t rows) {
  Outcome out;
  out.body = std::move(body);
  out.rows = rows;
  return out;
}

Outcome Outcome::success_text(std::string body_text, std::int64_t rows) {
  Outcome out;
  out.body_text = std::move(body_text);
  out.rows = rows;
  return out;
}

Outcome Outcome::failure(int status, std::string error_class, std::string code, std::string message,
                         json details) {
  Outcome out;
  out.status = status;
  out.error_class = std::move(error_class);
  out.code = std::move(code);
  out.message = std::move(message);
  out.details = std::move(details);
  return out;
}

std::uint64_t ExecContext::remaining_ms(std::uint64_t fallback) const {
  if (deadline == std::chrono::steady_clock::time_point::max()) return fallback;
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
  return static_cast<std::uint64_t>(std::max<std::int64_t>(left, 1));
}

Outcome execute(const CompiledApi& api, const json& params, ExecContext& context) {
  if (context.depth > kMaxCallDepth) {
    return Outcome::failure(508, "workflow", "call_depth",
                            "API calls are nested more than " + std::to_string(kMaxCallDepth) +
                                " deep; does an API call itself?");
  }
  // The API's own timeout narrows the caller's deadline, never widens it.
  const auto own = std::chrono::steady_clock::now() + std::chrono::milliseconds(api.def.timeout_ms);
  const auto outer = context.deadline;
  context.deadline = std::min(outer, own);
  Outcome out;
  if (api.def.type == "sql") {
    out = run_sql_api(api, params, context);
  } else if (api.def.type == "script") {
    out = run_script_api(api, params, context);
  } else if (api.def.type == "workflow") {
    out = run_workflow_api(api, params, context);
  } else {
    out = Outcome::failure(500, "internal", "unknown_type", "API type '" + api.def.type + "' cannot run");
  }
  context.deadline = outer;
  return out;
}

}  // namespace plexus::api_manager
