// Running one API revision with validated parameters, whatever its type (issue 7 item 2).
// The runtime router, workflow steps that call other APIs, test cases and scheduled runs
// all go through execute(); each type has its own file: sql_api, script_api, workflow_api.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <plexus/plugin.hpp>

#include "exec_log.hpp"
#include "route_table.hpp"

namespace plexus::api_manager {

// What a run produced. On success the answer (SQL: {"rows", "truncated"} with each row's
// columns in the statement's order, hence ordered_json; script and workflow: whatever they
// return) is `body`, or `body_text` when it was written as text; on failure the error
// fields say why.
struct Outcome {
  int status = 200;
  nlohmann::ordered_json body;
  std::string body_text;     // the answer as JSON text (SQL rows); `body` is then null
  std::string error_class;   // "" | "validation" | "permission" | "datasource" | "timeout" | "script" | "workflow"
  std::string code;          // machine-readable, such as "datasource_timeout"
  std::string message;       // for the caller: what went wrong and what to do, never SQL or secrets
  nlohmann::json details;    // for editors only (the datasource's own words, a script's line)
  std::int64_t rows = -1;    // rows answered, -1 when the type has no rows
  bool transient = false;    // a retry may succeed (timeouts, an unreachable datasource)
  bool ok() const { return error_class.empty(); }
  std::string text() const { return body_text.empty() ? body.dump() : body_text; }
  nlohmann::ordered_json tree() const { return body_text.empty() ? body : nlohmann::ordered_json::parse(body_text); }

  static Outcome success(nlohmann::ordered_json body, std::int64_t rows = -1);
  static Outcome success_text(std::string body_text, std::int64_t rows = -1);
  static Outcome failure(int status, std::string error_class, std::string code, std::string message,
                         nlohmann::json details = nullptr);
};

struct ExecContext {
  sdk::Host* host = nullptr;
  std::string tenant;
  const plexus_caller* caller = nullptr;  // null for runs without a caller (schedules, batches)
  std::string request_id;
  std::string stage = "production";
  // When the run must end; steps and scripts stop at it with a "timeout" outcome.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  // Runs another API of the tenant by id, on this context's stage, with the caller's
  // permissions checked (workflow "api" steps, plexus.api() in scripts), ending by
  // `deadline` at the latest (a step's timeout_ms). Set by the router.
  std::function<Outcome(const std::string& api_id, const nlohmann::json& params,
                        std::chrono::steady_clock::time_point deadline)>
      call_api;
  // Steps recorded into the execution log (workflows); may be null.
  std::vector<StepRecord>* steps = nullptr;
  int depth = 0;  // nested API calls; execute() refuses beyond kMaxCallDepth

  sdk::Caller sdk_caller() const { return sdk::Caller(caller); }
  // Milliseconds left until the deadline (at least 1), or `fallback` when there is none.
  std::uint64_t remaining_ms(std::uint64_t fallback = 0) const;
};

inline constexpr int kMaxCallDepth = 8;

// Runs `api` with `params` (already merged and validated against its schema).
Outcome execute(const CompiledApi& api, const nlohmann::json& params, ExecContext& context);

}  // namespace plexus::api_manager
