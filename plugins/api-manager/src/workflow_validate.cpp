// The checks on save of a workflow definition and the APIs and datasources it uses.
#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <string_view>

#include "script_api.hpp"
#include "pointer_token.hpp"
#include "sql_placeholders.hpp"
#include "workflow_api.hpp"
#include "workflow_condition.hpp"
#include "workflow_template.hpp"

namespace plexus::api_manager {
namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 7> kCommonFields = {"id",      "type",  "description", "when",
                                                          "timeout_ms", "retry", "on_error"};

// The fields of each step type besides the common ones; null for an unknown type.
const std::vector<std::string_view>* type_fields(std::string_view type) {
  static const std::map<std::string_view, std::vector<std::string_view>> fields = {
      {"sql", {"datasource", "sql", "params", "max_rows"}},
      {"api", {"api", "params"}},
      {"service", {"service", "input"}},
      {"tool", {"tool", "input"}},
      {"script", {"script", "params"}},
      {"if", {"condition", "then", "else"}},
      {"foreach", {"items", "as", "steps", "max_items"}},
      {"parallel", {"branches"}}};
  const auto it = fields.find(type);
  return it == fields.end() ? nullptr : &it->second;
}

bool is_container(const std::string& type) { return type == "if" || type == "foreach" || type == "parallel"; }

bool valid_name(std::string_view name, bool dash) {
  if (name.empty() || name.size() > 64 || name[0] < 'a' || name[0] > 'z') return false;
  return std::all_of(name.begin(), name.end(), [dash](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || (dash && c == '-');
  });
}

void each_step(const json& steps, const std::function<void(const json&)>& fn);

class Checker {
 public:
  // `declared`: the API's params.properties, when its schema names them (null otherwise).
  Checker(json& problems, const json* declared) : problems_(problems), declared_(declared) {}

  // Checks the steps of one block; `visible` are the step ids its references may name,
  // `vars` the foreach variables around it. Returns the ids the block adds to the block
  // around it: its steps', and those inside its if and parallel steps (foreach bodies
  // run once per item and stay inside).
  std::vector<std::string> block(const json& steps, const std::string& pointer, std::set<std::string> visible,
                                 const std::set<std::string>& vars, int depth, bool in_parallel) {
    std::vector<std::string> added;
    if (!steps.is_array() || steps.empty()) {
      problem(pointer, "must be a non-empty array of steps");
      return added;
    }
    for (std::size_t i = 0; i < steps.size(); ++i) {
      for (auto& id : step(steps[i], pointer + "/" + std::to_string(i), visible, vars, depth, in_parallel)) {
        visible.insert(id);
        added.push_back(std::move(id));
      }
    }
    return added;
  }

  // Learns every id first, so a reference to a later step says so rather than "no such step".
  void know_ids(const json& steps) {
    each_step(steps, [this](const json& step) {
      if (step.contains("id") && step["id"].is_string()) anywhere_.insert(step["id"].get<std::string>());
    });
  }

  void value(const json& tmpl, const std::string& pointer, const std::set<std::string>& visible,
             const std::set<std::string>& vars) {
    check_template(tmpl, pointer, problems_, references(visible, vars));
  }

 private:
  void problem(const std::string& pointer, const std::string& message) {
    problems_.push_back({{"pointer", pointer}, {"message", message}});
  }

  std::function<void(const Reference&, const std::string&)> references(const std::set<std::string>& visible,
                                                                       const std::set<std::string>& vars) {
    return [this, &visible, &vars](const Reference& ref, const std::string& pointer) {
      if (ref.root == "params") {
        if (declared_ != nullptr && !ref.path.empty() && std::holds_alternative<std::string>(ref.path[0]) &&
            !declared_->contains(std::get<std::string>(ref.path[0]))) {
          problem(pointer, "'${" + ref.text + "}': the parameter '" + std::get<std::string>(ref.path[0]) +
                               "' is not declared in params.properties");
        }
        return;
      }
      if (vars.contains(ref.root)) return;
      if (ref.root != "steps") {
        std::string names = "params, steps";
        for (const auto& var : vars) names += ", " + var;
        problem(pointer, "'${" + ref.text + "}': unknown name '" + ref.root + "'; a reference starts with " + names);
        return;
      }
      if (ref.path.empty() || !std::holds_alternative<std::string>(ref.path[0])) {
        problem(pointer, "'${" + ref.text + "}': name a step, as in ${steps.<id>.rows}");
        return;
      }
      const auto& id = std::get<std::string>(ref.path[0]);
      if (visible.contains(id)) return;
      problem(pointer, "'${" + ref.text + "}': " +
                           (anywhere_.contains(id) ? "the step '" + id +
                                                    "' does not run before this one (or runs in another branch "
                                                    "or inside a foreach; use ${steps.<foreach id>[0]." +
                                                    id + "})"
                                              : "there is no step '" + id + "' before this one"));
    };
  }

  std::optional<std::string> string_field(const json& step, const char* name, const std::string& pointer,
                                          bool required) {
    const auto it = step.find(name);
    if (it == step.end()) {
      if (required) problem(pointer + "/" + name, "is required");
      return std::nullopt;
    }
    if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
      problem(pointer + "/" + name, "must be a non-empty string");
      return std::nullopt;
    }
    return it->get<std::string>();
  }

  void integer_field(const json& object, const char* name, const std::string& pointer, std::int64_t low,
                     std::int64_t high) {
    const auto it = object.find(name);
    if (it == object.end()) return;
    if (!it->is_number_integer() || it->get<std::int64_t>() < low || it->get<std::int64_t>() > high) {
      problem(pointer + "/" + name,
              "must be an integer from " + std::to_string(low) + " to " + std::to_string(high));
    }
  }

  std::vector<std::string> step(const json& step, const std::string& pointer, const std::set<std::string>& visible,
                                const std::set<std::string>& vars, int depth, bool in_parallel) {
    std::vector<std::string> added;
    if (!step.is_object()) {
      problem(pointer, "must be a step object {\"id\", \"type\", ...}");
      return added;
    }
    if (++count_ == kMaxWorkflowSteps + 1) {
      problem(pointer, "a workflow has at most " + std::to_string(kMaxWorkflowSteps) + " steps");
    }
    const auto id = string_field(step, "id", pointer, true);
    if (id) {
      if (!valid_name(*id, true)) {
        problem(pointer + "/id", "'" + *id + "' must be 1 to 64 of a-z 0-9 _ -, starting with a letter");
      } else if (*id == "params" || *id == "steps") {
        problem(pointer + "/id", "'" + *id + "' is reserved");
      } else if (!ids_.insert(*id).second) {
        problem(pointer + "/id", "'" + *id + "' is the id of another step; ids are unique in a workflow");
      } else {
        added.push_back(*id);
      }
    }
    const auto type = string_field(step, "type", pointer, true);
    const auto* fields = type ? type_fields(*type) : nullptr;
    if (type && fields == nullptr) {
      problem(pointer + "/type",
              "unknown step type '" + *type + "': sql, api, service, tool, script, if, foreach or parallel");
    }
    if (fields != nullptr) {
      for (const auto& [key, v] : step.items()) {
        if (std::find(kCommonFields.begin(), kCommonFields.end(), key) == kCommonFields.end() &&
            std::find(fields->begin(), fields->end(), key) == fields->end()) {
          problem(pointer + "/" + pointer_token(key), "is not a field of a '" + *type + "' step");
        }
      }
    }
    string_field(step, "description", pointer, false);
    if (step.contains("when")) check_condition(step["when"], pointer + "/when", problems_, references(visible, vars));
    integer_field(step, "timeout_ms", pointer, 1, kMaxStepTimeoutMs);
    if (const auto it = step.find("retry"); it != step.end()) {
      if (type && is_container(*type)) {
        problem(pointer + "/retry", "belongs to steps that call something (sql, api, service, tool, script)");
      } else if (!it->is_object()) {
        problem(pointer + "/retry", "must be {\"attempts\", \"backoff_ms\"}");
      } else {
        for (const auto& [key, v] : it->items()) {
          if (key != "attempts" && key != "backoff_ms")
            problem(pointer + "/retry/" + pointer_token(key), "is not a field of retry (attempts, backoff_ms)");
        }
        integer_field(*it, "attempts", pointer + "/retry", 1, kMaxStepAttempts);
        integer_field(*it, "backoff_ms", pointer + "/retry", 0, kMaxStepBackoffMs);
      }
    }
    if (const auto it = step.find("on_error"); it != step.end() && *it != "fail" && *it != "continue") {
      problem(pointer + "/on_error", "must be \"fail\" (the default) or \"continue\"");
    }
    if (fields == nullptr) return added;

    auto object_of_values = [&](const char* name) {
      const auto it = step.find(name);
      if (it == step.end()) return;
      if (!it->is_object()) {
        problem(pointer + "/" + name, "must be an object of values");
        return;
      }
      value(*it, pointer + "/" + name, visible, vars);
    };
    if (*type == "sql") {
      string_field(step, "datasource", pointer, true);
      object_of_values("params");
      integer_field(step, "max_rows", pointer, 1, 1'000'000);
      if (const auto sql = string_field(step, "sql", pointer, true)) {
        const auto params = step.value("params", json::object());
        for (const auto& name : sql_placeholders(*sql)) {
          if (!params.is_object() || !params.contains(name)) {
            problem(pointer + "/sql", "the placeholder :" + name + " has no value in this step's params");
          }
        }
      }
    } else if (*type == "api") {
      string_field(step, "api", pointer, true);
      object_of_values("params");
    } else if (*type == "service" || *type == "tool") {
      string_field(step, type->c_str(), pointer, true);
      if (step.contains("input")) value(step["input"], pointer + "/input", visible, vars);
    } else if (*type == "script") {
      object_of_values("params");
      if (const auto source = string_field(step, "script", pointer, true)) {
        if (const auto why = check_script_syntax(*source); !why.empty()) problem(pointer + "/script", why);
      }
    } else if (depth + 1 > kMaxWorkflowDepth) {
      problem(pointer, "if, foreach and parallel steps nest at most " + std::to_string(kMaxWorkflowDepth) +
                           " deep");
    } else if (*type == "if") {
      if (!step.contains("condition")) {
        problem(pointer + "/condition", "is required");
      } else {
        check_condition(step["condition"], pointer + "/condition", problems_, references(visible, vars));
      }
      if (!step.contains("then")) problem(pointer + "/then", "is required");
      for (const char* branch : {"then", "else"}) {
        if (!step.contains(branch)) continue;
        for (auto& inner : block(step[branch], pointer + "/" + branch, visible, vars, depth + 1, in_parallel)) {
          added.push_back(std::move(inner));
        }
      }
    } else if (*type == "foreach") {
      if (!step.contains("items")) {
        problem(pointer + "/items", "is required: a value that is an array, such as \"${steps.lookup.rows}\"");
      } else {
        value(step["items"], pointer + "/items", visible, vars);
      }
      integer_field(step, "max_items", pointer, 1, kMaxForeachItems);
      std::string as = "item";
      if (step.contains("as")) {
        if (!step["as"].is_string() || !valid_name(step["as"].get<std::string>(), false)) {
          problem(pointer + "/as", "must be a name of a-z 0-9 _, starting with a letter");
        } else {
          as = step["as"].get<std::string>();
        }
      }
      if (as == "params" || as == "steps" || vars.contains(as)) {
        problem(pointer + "/as", "'" + as + "' is taken; name the variable differently");
      }
      auto inner_vars = vars;
      inner_vars.insert(as);
      if (!step.contains("steps")) {
        problem(pointer + "/steps", "is required");
      } else {
        block(step["steps"], pointer + "/steps", visible, inner_vars, depth + 1, in_parallel);
      }
    } else if (*type == "parallel") {
      if (in_parallel) problem(pointer, "a parallel step cannot run inside another parallel step");
      const auto it = step.find("branches");
      if (it == step.end() || !it->is_array() || it->empty() || it->size() > kMaxParallelBranches) {
        problem(pointer + "/branches", "must be an array of 1 to " + std::to_string(kMaxParallelBranches) +
                                           " branches, each an array of steps");
      } else {
        for (std::size_t b = 0; b < it->size(); ++b) {
          for (auto& inner :
               block((*it)[b], pointer + "/branches/" + std::to_string(b), visible, vars, depth + 1, true)) {
            added.push_back(std::move(inner));
          }
        }
      }
    }
    return added;
  }

  json& problems_;
  const json* declared_;
  std::set<std::string> ids_;       // the steps checked so far
  std::set<std::string> anywhere_;  // every step id of the workflow, for clearer messages
  int count_ = 0;
};

// Calls `fn` for each step of `steps`, nested ones included; tolerates invalid content.
void each_step(const json& steps, const std::function<void(const json&)>& fn) {
  if (!steps.is_array()) return;
  for (const auto& step : steps) {
    if (!step.is_object()) continue;
    fn(step);
    for (const char* block : {"then", "else", "steps"}) {
      if (step.contains(block)) each_step(step[block], fn);
    }
    if (step.contains("branches") && step["branches"].is_array()) {
      for (const auto& branch : step["branches"]) each_step(branch, fn);
    }
  }
}

std::vector<std::string> names_of(const json& workflow, const char* type, const char* field) {
  std::set<std::string> names;
  if (workflow.is_object() && workflow.contains("steps")) {
    each_step(workflow["steps"], [&](const json& step) {
      if (step.value("type", json()) == type && step.contains(field) && step[field].is_string()) {
        names.insert(step[field].get<std::string>());
      }
    });
  }
  return {names.begin(), names.end()};
}

}  // namespace

void validate_workflow_content(const json& content, json& problems) {
  const auto it = content.find("workflow");
  if (it == content.end() || !it->is_object()) {
    problems.push_back({{"pointer", "/workflow"}, {"message", "is required: {\"steps\": [...], \"result\": ...}"}});
    return;
  }
  const auto& workflow = *it;
  for (const auto& [key, v] : workflow.items()) {
    if (key != "steps" && key != "result") {
      problems.push_back({{"pointer", "/workflow/" + pointer_token(key)},
                          {"message", "is not a field of a workflow (steps, result)"}});
    }
  }
  const json* declared = nullptr;
  if (const auto params = content.find("params");
      params != content.end() && params->is_object() && params->contains("properties") &&
      (*params)["properties"].is_object()) {
    declared = &(*params)["properties"];
  }
  Checker checker(problems, declared);
  checker.know_ids(workflow.value("steps", json()));
  const auto ids = checker.block(workflow.value("steps", json()), "/workflow/steps", {}, {}, 0, false);
  if (workflow.contains("result")) {
    checker.value(workflow["result"], "/workflow/result", std::set<std::string>(ids.begin(), ids.end()), {});
  }
}

std::vector<std::string> workflow_api_references(const json& workflow) { return names_of(workflow, "api", "api"); }

std::vector<std::string> workflow_datasource_references(const json& workflow) {
  return names_of(workflow, "sql", "datasource");
}

}  // namespace plexus::api_manager
