// Running a workflow: its steps in order, each with its timeout and retries, results
// into the scope later steps read, every step recorded into the execution log.
#include "workflow_api.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "rows_body.hpp"
#include "script_api.hpp"
#include "sql_api.hpp"
#include "sql_placeholders.hpp"
#include "workflow_condition.hpp"
#include "workflow_template.hpp"

namespace plexus::api_manager {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

// Where a block of steps runs.
struct Where {
  std::string prefix;                       // "loop[2]." inside foreach iterations, for the log
  Clock::time_point deadline;               // the run's, narrowed by enclosing steps' timeout_ms
  const std::atomic<bool>* stop = nullptr;  // set when another branch of the parallel step failed
};

// Milliseconds until `deadline`, at least 1; 0 (the callee's own limit) when there is none.
std::uint64_t ms_until(Clock::time_point deadline) {
  if (deadline == Clock::time_point::max()) return 0;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<std::uint64_t>(std::max<std::int64_t>(left, 1));
}

double ms_since(Clock::time_point started) {
  return std::chrono::duration<double, std::milli>(Clock::now() - started).count();
}

// A failed call of another plugin's service or a tool, as an outcome.
Outcome call_failure(const sdk::Error& error, const std::string& kind, const std::string& name) {
  const auto status = error.status();
  const json details{{"reason", error.what()}};
  Outcome out;
  if (status == PLEXUS_ERR_TIMEOUT) {
    out = Outcome::failure(504, "timeout", kind + "_timeout", "the " + kind + " '" + name + "' did not answer in time",
                           details);
  } else if (status == PLEXUS_ERR_UNAVAILABLE) {
    out = Outcome::failure(503, "workflow", kind + "_unavailable", "the " + kind + " '" + name + "' is not available",
                           details);
  } else if (status == PLEXUS_ERR_NOT_FOUND) {
    out = Outcome::failure(502, "workflow", kind + "_not_found", "there is no " + kind + " '" + name + "'", details);
  } else if (status == PLEXUS_ERR_DENIED) {
    out = Outcome::failure(403, "permission", "forbidden", "the " + kind + " '" + name + "' refused the caller",
                           details);
  } else if (kind == "tool" && status == PLEXUS_ERR_INVALID) {
    // Tools write their refusals for callers (SDK: Error(PLEXUS_ERR_INVALID, message)).
    out = Outcome::failure(502, "workflow", "tool_refused",
                           "the tool '" + name + "' refused its input: " + std::string(error.what()), details);
  } else {
    out = Outcome::failure(502, "workflow", kind + "_error", "the " + kind + " '" + name + "' failed", details);
  }
  out.transient = status == PLEXUS_ERR_TIMEOUT || status == PLEXUS_ERR_UNAVAILABLE;
  return out;
}

ordered_json parse_answer(const std::string& text) {
  auto value = ordered_json::parse(text, nullptr, false);
  return value.is_discarded() ? ordered_json(text) : value;
}

class WorkflowRun {
 public:
  explicit WorkflowRun(ExecContext& context) : context_(context) {}

  // Runs `steps` in `frame`; the failure that ends the run, or nullopt.
  std::optional<Outcome> block(const json& steps, Scope& frame, const Where& where) {
    for (const auto& step : steps) {
      if (auto failed = run_step(step, frame, where)) return failed;
    }
    return std::nullopt;
  }

 private:
  std::optional<Outcome> run_step(const json& step, Scope& frame, const Where& where) {
    const auto id = step.at("id").get<std::string>();
    const auto type = step.at("type").get<std::string>();
    const auto name = where.prefix + id;
    const auto started = Clock::now();
    if (where.stop != nullptr && where.stop->load()) {
      return Outcome::failure(500, "workflow", "stopped", "another branch of the parallel step failed");
    }
    auto deadline = where.deadline;
    if (step.contains("timeout_ms")) {
      deadline = std::min(deadline, started + std::chrono::milliseconds(step["timeout_ms"].get<std::int64_t>()));
    }

    Outcome out;
    std::optional<std::size_t> slot;
    try {
      if (started >= where.deadline) {
        out = Outcome::failure(504, "timeout", "no_time_left",
                               "no time was left to start it (the API's timeout_ms or an enclosing step's)");
      } else if (step.contains("when") && !evaluate_condition(step["when"], frame)) {
        frame.steps[id] = nullptr;
        record({name, "skipped", ms_since(started), -1, ""});
        return std::nullopt;
      } else if (type == "if" || type == "foreach" || type == "parallel") {
        slot = reserve(name);  // containers come before their steps in the log
        Where inner = where;
        inner.deadline = deadline;
        out = type == "if" ? run_if(step, frame, inner) : type == "foreach" ? run_foreach(step, frame, inner)
                                                                            : run_parallel(step, frame, inner);
      } else {
        out = with_retry(step, type, frame, deadline, where);
      }
    } catch (const std::exception& e) {
      out = Outcome::failure(500, "workflow", "step_error", "the step could not run", json{{"reason", e.what()}});
    }

    StepRecord entry{name, out.ok() ? "ok" : "error", ms_since(started), out.rows, out.ok() ? "" : out.message};
    slot ? fill(*slot, entry) : record(entry);
    if (out.ok()) {
      frame.steps[id] = out.body_text.empty() ? std::move(out.body) : out.tree();
      return std::nullopt;
    }
    if (step.value("on_error", "fail") == "continue") {
      frame.steps[id] = ordered_json{
          {"error",
           {{"status", out.status}, {"class", out.error_class}, {"code", out.code}, {"message", out.message}}}};
      return std::nullopt;
    }
    // A container passes on the failure of the step inside it, which names that step.
    if (out.code == "step_failed" || out.code == "stopped") return out;
    json details{{"step", name}, {"code", out.code}};
    if (!out.details.is_null()) details["details"] = out.details;
    auto failed = Outcome::failure(out.status, out.error_class, "step_failed",
                                   "step '" + name + "' failed: " + out.message, std::move(details));
    failed.transient = out.transient;
    return failed;
  }

  // A step that calls something, tried again on transient failures with exponential
  // backoff while its enclosing deadline allows. timeout_ms bounds each attempt.
  Outcome with_retry(const json& step, const std::string& type, const Scope& frame, Clock::time_point deadline,
                     const Where& where) {
    const auto retry = step.value("retry", json::object());
    const auto attempts = retry.value("attempts", std::int64_t{1});
    const auto backoff = retry.value("backoff_ms", std::int64_t{100});
    const auto per_attempt = std::chrono::milliseconds(step.value("timeout_ms", std::int64_t{0}));  // 0: none
    Outcome out;
    for (std::int64_t attempt = 1; attempt <= attempts; ++attempt) {
      if (attempt > 1) {
        const auto wait = std::chrono::milliseconds(backoff << std::min<std::int64_t>(attempt - 2, 20));
        if (Clock::now() + wait >= where.deadline) break;
        std::this_thread::sleep_for(wait);
        deadline = per_attempt.count() > 0 ? std::min(where.deadline, Clock::now() + per_attempt) : where.deadline;
      }
      out = call(step, type, frame, deadline);
      if (out.details.is_null() || out.details.is_object()) out.details["attempts"] = attempt;
      if (out.ok() || !out.transient) break;
    }
    return out;
  }

  Outcome call(const json& step, const std::string& type, const Scope& frame, Clock::time_point deadline) {
    if (type == "api") return call_api(step, frame, deadline);
    if (type == "script") {
      ExecContext inner = context_;  // a copy: the script's deadline is this step's
      inner.deadline = std::min(context_.deadline, deadline);
      inner.steps = nullptr;
      const auto params = step.contains("params") ? json(resolve_template(step["params"], frame))
                                                  : json(*frame.find_var("params"));
      return run_script(step["script"].get<std::string>(), params, inner);
    }
    if (type != "sql" && context_.caller == nullptr) {
      return Outcome::failure(403, "permission", "no_caller",
                              "a " + type + " step needs a caller; runs without one (schedules, batches) cannot make it");
    }
    if (context_.host == nullptr) {
      return Outcome::failure(500, "internal", "no_host", "this run has no host to reach " + type + " steps");
    }
    if (type == "sql") return call_sql(step, frame, deadline);
    const auto name = step[type].get<std::string>();
    const auto input = step.contains("input") ? resolve_template(step["input"], frame) : ordered_json::object();
    if (type == "service" && !context_.host->allowed(context_.sdk_caller(), "api.service.execute", name)) {
      // Services do not see the caller, so the caller must hold a grant to reach one.
      return Outcome::failure(403, "permission", "forbidden",
                              "the caller lacks the permission api.service.execute:" + name,
                              json{{"permission", "api.service.execute:" + name}});
    }
    try {
      const auto timeout = ms_until(deadline);  // 0: no deadline, the host's own limit
      const auto answer = type == "service"
                              ? context_.host->call(name, input.dump(), timeout == 0 ? 5000 : timeout)
                              : context_.host->call_tool(context_.sdk_caller(), name, input.dump(), timeout);
      return Outcome::success(parse_answer(answer));
    } catch (const sdk::Error& e) {
      return call_failure(e, type, name);
    }
  }

  Outcome call_sql(const json& step, const Scope& frame, Clock::time_point deadline) {
    const auto sql = step["sql"].get<std::string>();
    const auto values = step.contains("params") ? resolve_template(step["params"], frame) : ordered_json::object();
    // Exactly the statement's placeholders, bound by the driver, never pasted into the text.
    ordered_json bound = ordered_json::object();
    for (const auto& placeholder : sql_placeholders(sql)) bound[placeholder] = values.value(placeholder, ordered_json());
    try {
      auto body = rows_as_objects(context_.host->datasource_query(
          context_.tenant, step["datasource"].get<std::string>(), sql, bound.dump(),
          step.value("max_rows", std::uint64_t{0}), ms_until(deadline)));
      return Outcome::success_text(std::move(body.text), body.rows);
    } catch (const sdk::Error& e) {
      return datasource_failure(e, context_.request_id);
    }
  }

  Outcome call_api(const json& step, const Scope& frame, Clock::time_point deadline) {
    const auto id = step["api"].get<std::string>();
    if (!context_.call_api) {
      return Outcome::failure(500, "internal", "no_api_calls", "this run cannot call other APIs");
    }
    const json params(step.contains("params") ? resolve_template(step["params"], frame) : ordered_json::object());
    return context_.call_api(id, params, std::min(context_.deadline, deadline));
  }

  Outcome run_if(const json& step, Scope& frame, const Where& where) {
    const bool taken = evaluate_condition(step["condition"], frame);
    const char* branch = taken ? "then" : "else";
    if (step.contains(branch)) {
      if (auto failed = block(step[branch], frame, where)) return *failed;
    }
    return Outcome::success(ordered_json{{"branch", branch}, {"condition", taken}});
  }

  Outcome run_foreach(const json& step, Scope& frame, const Where& where) {
    auto items = resolve_template(step["items"], frame);
    if (items.is_null()) items = ordered_json::array();  // a skipped step's rows: nothing to loop over
    if (!items.is_array()) {
      return Outcome::failure(500, "workflow", "items_not_array",
                              "items must be an array, but it is " + std::string(items.type_name()));
    }
    const auto max_items = step.value("max_items", kDefaultForeachItems);
    if (static_cast<std::int64_t>(items.size()) > max_items) {
      return Outcome::failure(500, "workflow", "too_many_items",
                              std::to_string(items.size()) + " items, more than max_items (" +
                                  std::to_string(max_items) + ")");
    }
    const auto as = step.value("as", std::string("item"));
    const auto id = step["id"].get<std::string>();
    ordered_json results = ordered_json::array();
    for (std::size_t i = 0; i < items.size(); ++i) {
      Scope iteration;
      iteration.parent = &frame;
      iteration.vars[as] = std::move(items[i]);
      Where inner = where;
      inner.prefix = where.prefix + id + "[" + std::to_string(i) + "].";
      if (auto failed = block(step["steps"], iteration, inner)) return *failed;
      results.push_back(std::move(iteration.steps));
    }
    return Outcome::success(std::move(results));
  }

  Outcome run_parallel(const json& step, Scope& frame, const Where& where) {
    const auto& branches = step["branches"];
    std::vector<Scope> frames(branches.size());
    std::vector<std::optional<Outcome>> failures(branches.size());
    std::atomic<bool> stop{false};
    Where inner = where;
    inner.stop = &stop;
    auto run_branch = [&](std::size_t b) {
      try {
        failures[b] = block(branches[b], frames[b], inner);
      } catch (const std::exception& e) {
        failures[b] = Outcome::failure(500, "workflow", "step_error", "a branch could not run",
                                       json{{"reason", e.what()}});
      }
      if (failures[b]) stop = true;
    };
    std::vector<std::thread> threads;
    for (std::size_t b = 0; b < branches.size(); ++b) {
      frames[b].parent = &frame;
      try {
        threads.emplace_back(run_branch, b);
      } catch (const std::system_error&) {
        run_branch(b);  // no thread to be had: this branch runs here
      }
    }
    for (auto& thread : threads) thread.join();

    ordered_json results = ordered_json::array();
    for (auto& branch : frames) {
      for (const auto& [key, value] : branch.steps.items()) frame.steps[key] = value;
      results.push_back(std::move(branch.steps));
    }
    // The failure to report: the first branch's that failed on its own, not one stopped for it.
    const Outcome* first = nullptr;
    for (const auto& failure : failures) {
      if (failure && (first == nullptr || (first->code == "stopped" && failure->code != "stopped")))
        first = &*failure;
    }
    if (first != nullptr) return *first;
    return Outcome::success(std::move(results));
  }

  void record(StepRecord entry) {
    std::lock_guard lock(mutex_);
    if (context_.steps != nullptr) context_.steps->push_back(std::move(entry));
  }
  std::optional<std::size_t> reserve(const std::string& name) {
    std::lock_guard lock(mutex_);
    if (context_.steps == nullptr) return std::nullopt;
    context_.steps->push_back({name, "running", 0, -1, ""});
    return context_.steps->size() - 1;
  }
  void fill(std::size_t slot, StepRecord entry) {
    std::lock_guard lock(mutex_);
    (*context_.steps)[slot] = std::move(entry);
  }

  ExecContext& context_;
  std::mutex mutex_;  // context_.steps, written by parallel branches
};

}  // namespace

Outcome run_workflow(const json& workflow, const json& params, ExecContext& context) {
  Scope root;
  root.vars["params"] = ordered_json(params);
  WorkflowRun run(context);
  Where where;
  where.deadline = context.deadline;
  try {
    if (auto failed = run.block(workflow.at("steps"), root, where)) return *failed;
    auto body = workflow.contains("result") ? resolve_template(workflow["result"], root) : root.steps;
    std::int64_t rows = -1;
    if (body.is_object() && body.contains("rows") && body["rows"].is_array())
      rows = static_cast<std::int64_t>(body["rows"].size());
    return Outcome::success(std::move(body), rows);
  } catch (const std::exception& e) {
    // Only a definition that bypassed validation gets here.
    return Outcome::failure(500, "workflow", "invalid_workflow", "the workflow cannot run as defined",
                            json{{"reason", e.what()}});
  }
}

Outcome run_workflow_api(const CompiledApi& api, const json& params, ExecContext& context) {
  return run_workflow(api.def.workflow, params, context);
}

}  // namespace plexus::api_manager
