// Workflow APIs without a server: templates and conditions, the checks on save (each
// problem named by its pointer), the APIs and datasources a workflow uses, and runs whose
// "api" steps go to a stand-in (ExecContext::call_api) - if, foreach, parallel, when,
// on_error, retries, deadlines and the step log. The script step is not tested here (it
// runs Lua; see script_api_test.cpp); SQL steps run in tests/integration.
#include <atomic>
#include <condition_variable>
#include <mutex>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "definition.hpp"
#include "workflow_api.hpp"
#include "workflow_condition.hpp"
#include "workflow_template.hpp"

using nlohmann::json;
using nlohmann::ordered_json;
using namespace plexus::api_manager;

namespace {

Scope sample_scope() {
  Scope scope;
  scope.vars["params"] = ordered_json{{"id", 7}, {"name", "web-01"}, {"tags", {"a", "b"}}};
  scope.steps["lookup"] = ordered_json::parse(
      R"({"rows": [{"id": 1, "name": "web-01", "odd key": "x"}, {"id": 2, "name": "web-02"}], "truncated": false})");
  return scope;
}

ordered_json resolve(const json& tmpl, const Scope& scope) { return resolve_template(tmpl, scope); }

// An open params schema: references to any parameter are fine.
json content_with(const json& workflow) {
  return {{"path", "ops/report"}, {"method", "GET"}, {"type", "workflow"}, {"workflow", workflow},
          {"params", {{"type", "object"}}}};
}

// "pointer: message" of each problem.
std::string problems_of(const json& workflow) { return validate_content(content_with(workflow)).dump(); }

bool has_problem(const json& workflow, const std::string& pointer, const std::string& part) {
  for (const auto& p : validate_content(content_with(workflow))) {
    if (p["pointer"] == pointer && p["message"].get<std::string>().find(part) != std::string::npos) return true;
  }
  return false;
}

json api_step(const std::string& id, const std::string& api, const json& params = json::object()) {
  return {{"id", id}, {"type", "api"}, {"api", api}, {"params", params}};
}

// A context whose "api" steps go to `fn`, with the steps recorded into `log`.
struct Harness {
  std::vector<StepRecord> log;
  ExecContext context;
  std::mutex mutex;
  std::vector<std::string> calls;  // "api-id params"
  std::vector<std::chrono::steady_clock::time_point> deadlines;  // what each call was given

  explicit Harness(std::function<Outcome(const std::string&, const json&)> fn) {
    context.tenant = "default";
    context.steps = &log;
    context.deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
    context.call_api = [this, fn = std::move(fn)](const std::string& id, const json& params,
                                                  std::chrono::steady_clock::time_point deadline) {
      {
        std::lock_guard lock(mutex);
        calls.push_back(id + " " + params.dump());
        deadlines.push_back(deadline);
      }
      return fn(id, params);
    };
  }
  Outcome run(const json& workflow, const json& params = json::object()) {
    INFO(problems_of(workflow));
    REQUIRE(validate_content(content_with(workflow)).empty());
    return run_workflow(workflow, params, context);
  }
  std::string status_of(const std::string& name) const {
    for (const auto& step : log) {
      if (step.name == name) return step.status;
    }
    return "(not logged)";
  }
};

// Echoes its parameters; "double" answers {"value": 2 * n}; "fail" fails for good.
Outcome stand_in(const std::string& id, const json& params) {
  if (id == "double") return Outcome::success(ordered_json{{"value", params.value("n", 0) * 2}});
  if (id == "fail") return Outcome::failure(502, "datasource", "datasource_error", "the datasource could not run");
  if (id == "rows") {
    return Outcome::success(ordered_json::parse(R"({"rows": [{"id": 1}, {"id": 2}, {"id": 3}], "truncated": false})"),
                            3);
  }
  return Outcome::success(ordered_json(params));
}

}  // namespace

TEST_CASE("workflow references read params, steps and variables by path", "[api-manager][workflow]") {
  std::string why;
  auto ref = parse_reference("steps.lookup.rows[0].name", &why);
  REQUIRE(ref);
  CHECK(ref->root == "steps");
  REQUIRE(ref->path.size() == 4);
  CHECK(std::get<std::string>(ref->path[0]) == "lookup");
  CHECK(std::get<std::int64_t>(ref->path[2]) == 0);
  ref = parse_reference(R"(steps.lookup.rows[0]["odd key"])", &why);
  REQUIRE(ref);
  CHECK(std::get<std::string>(ref->path[3]) == "odd key");
  for (const auto* bad : {"", "1abc", "steps.", "steps..a", "steps[", "steps[x]", "steps[0", "params.a b",
                          "steps['x'", "-x"}) {
    INFO(bad);
    CHECK_FALSE(parse_reference(bad, &why));
    CHECK_FALSE(why.empty());
  }

  const auto scope = sample_scope();
  // A whole-string reference keeps its JSON type; missing parts are null.
  CHECK(resolve("${params.id}", scope) == 7);
  CHECK(resolve("${params.tags}", scope) == ordered_json{"a", "b"});
  CHECK(resolve("${steps.lookup.rows[1].name}", scope) == "web-02");
  CHECK(resolve("${steps.lookup.rows[-1].id}", scope) == 2);
  CHECK(resolve(R"(${steps.lookup.rows[0]["odd key"]})", scope) == "x");
  CHECK(resolve("${steps.lookup.rows[5].name}", scope).is_null());
  CHECK(resolve("${steps.nothing.rows}", scope).is_null());
  CHECK(resolve("${params.id.deeper}", scope).is_null());
  // Embedded references become text; a literal ${ is written $${.
  CHECK(resolve("server ${params.id}: ${params.name}", scope) == "server 7: web-01");
  CHECK(resolve("tags ${params.tags}, none '${params.missing}'", scope) == R"(tags ["a","b"], none '')");
  CHECK(resolve("cost $${params.id}", scope) == "cost ${params.id}");
  // Objects and arrays resolve inside; other values stay.
  CHECK(resolve(json{{"a", {"${params.id}", 3, true}}, {"b", nullptr}}, scope) ==
        ordered_json{{"a", {7, 3, true}}, {"b", nullptr}});
  CHECK_THROWS_AS(resolve("${params.id", scope), std::invalid_argument);

  // A foreach frame sees its variable and its parents' steps.
  Scope inner;
  inner.parent = &scope;
  inner.vars["item"] = ordered_json{{"id", 42}};
  CHECK(resolve("${item.id}-${steps.lookup.rows[0].id}", inner) == "42-1");
}

TEST_CASE("workflow conditions compare, test emptiness and combine", "[api-manager][workflow]") {
  const auto scope = sample_scope();
  auto holds = [&](const json& c) { return evaluate_condition(c, scope); };
  CHECK(holds({{"left", "${steps.lookup.rows}"}, {"op", "not_empty"}}));
  CHECK_FALSE(holds({{"left", "${steps.lookup.rows}"}, {"op", "empty"}}));
  CHECK(holds({{"left", "${params.missing}"}, {"op", "empty"}}));
  CHECK(holds({{"left", ""}, {"op", "empty"}}));
  CHECK(holds({{"left", "${params.missing}"}, {"op", "not_exists"}}));
  CHECK(holds({{"left", "${params.id}"}, {"op", "exists"}}));
  CHECK(holds({{"left", "${params.id}"}, {"op", "eq"}, {"right", 7}}));
  CHECK(holds({{"left", "${params.id}"}, {"op", "eq"}, {"right", 7.0}}));
  CHECK_FALSE(holds({{"left", "${params.id}"}, {"op", "eq"}, {"right", "7"}}));
  CHECK(holds({{"left", "${params.id}"}, {"op", "ne"}, {"right", "7"}}));
  CHECK(holds({{"left", "${params.id}"}, {"op", "gt"}, {"right", 6.5}}));
  CHECK(holds({{"left", "${params.id}"}, {"op", "ge"}, {"right", 7}}));
  CHECK_FALSE(holds({{"left", "${params.id}"}, {"op", "lt"}, {"right", 7}}));
  CHECK(holds({{"left", "${params.id}"}, {"op", "le"}, {"right", 7}}));
  CHECK(holds({{"left", "${params.name}"}, {"op", "lt"}, {"right", "web-02"}}));
  // Numbers and text do not compare.
  CHECK_FALSE(holds({{"left", "${params.id}"}, {"op", "gt"}, {"right", "1"}}));
  CHECK_FALSE(holds({{"left", "${params.id}"}, {"op", "le"}, {"right", "9"}}));
  CHECK(holds({{"left", "a"}, {"op", "in"}, {"right", "${params.tags}"}}));
  CHECK(holds({{"left", "c"}, {"op", "not_in"}, {"right", "${params.tags}"}}));
  CHECK(holds({{"left", "${params.name}"}, {"op", "contains"}, {"right", "web"}}));
  CHECK(holds({{"left", "${steps.lookup.rows[0]}"}, {"op", "contains"}, {"right", "name"}}));
  CHECK_FALSE(holds({{"left", "${params.id}"}, {"op", "contains"}, {"right", 7}}));
  CHECK(holds(true));
  CHECK_FALSE(holds(false));
  CHECK(holds({{"all", {true, {{"left", 1}, {"op", "lt"}, {"right", 2}}}}}));
  CHECK_FALSE(holds({{"all", {true, false}}}));
  CHECK(holds({{"any", {false, true}}}));
  CHECK_FALSE(holds({{"any", {false, false}}}));
  CHECK(holds({{"not", false}}));

  auto problems_of_condition = [](const json& c) {
    json problems = json::array();
    check_condition(c, "/when", problems, [](const Reference&, const std::string&) {});
    return problems.dump();
  };
  CHECK(problems_of_condition({{"left", 1}, {"op", "eq"}, {"right", 1}}) == "[]");
  CHECK(problems_of_condition({{"left", 1}, {"op", "like"}, {"right", 1}}).find("unknown op 'like'") !=
        std::string::npos);
  CHECK(problems_of_condition({{"left", 1}, {"op", "eq"}}).find("/when/right") != std::string::npos);
  CHECK(problems_of_condition({{"left", 1}, {"op", "empty"}, {"right", 1}}).find("takes no right side") !=
        std::string::npos);
  CHECK(problems_of_condition({{"all", json::array()}}).find("/when/all") != std::string::npos);
  CHECK(problems_of_condition({{"not", "yes"}}).find("/when/not") != std::string::npos);
  CHECK(problems_of_condition({{"left", 1}, {"op", "eq"}, {"right", 1}, {"colour", 1}}).find("/when/colour") !=
        std::string::npos);
  CHECK(problems_of_condition("${params.flag}").find("must be a condition") != std::string::npos);
}

TEST_CASE("workflow definitions are checked on save, each problem named by its pointer",
          "[api-manager][workflow]") {
  const json good = {
      {"steps",
       {{{"id", "lookup"},
         {"type", "sql"},
         {"datasource", "ops"},
         {"sql", "SELECT id FROM servers WHERE role = :role"},
         {"params", {{"role", "${params.role}"}}},
         {"timeout_ms", 2000},
         {"retry", {{"attempts", 3}, {"backoff_ms", 50}}}},
        {{"id", "check"},
         {"type", "if"},
         {"condition", {{"left", "${steps.lookup.rows}"}, {"op", "not_empty"}}},
         {"then", {api_step("first", "server", {{"id", "${steps.lookup.rows[0].id}"}})}},
         {"else", {{{"id", "none"}, {"type", "tool"}, {"tool", "notify"}, {"input", {{"text", "none"}}}}}}},
        {{"id", "each"},
         {"type", "foreach"},
         {"items", "${steps.lookup.rows}"},
         {"as", "server"},
         {"max_items", 50},
         {"steps", {api_step("detail", "server", {{"id", "${server.id}"}}),
                    api_step("again", "echo", {{"x", "${steps.detail.rows}"}})}}},
        {{"id", "both"},
         {"type", "parallel"},
         {"branches",
          {{{{"id", "count"}, {"type", "service"}, {"service", "stats.count"}, {"input", "${steps.first}"}}},
           {api_step("other", "server", {{"id", 3}})}}}},
        api_step("after", "echo", {{"a", "${steps.count}"}, {"b", "${steps.other}"}, {"c", "${steps.none}"}})}},
      {"result", {{"first", "${steps.first.rows[0]}"}, {"each", "${steps.each}"}}}};
  INFO(problems_of(good));
  CHECK(validate_content(content_with(good)).empty());
  CHECK_NOTHROW(parse_definition("report", 1, content_with(good)));

  CHECK(has_problem(json::object(), "/workflow/steps", "non-empty array"));
  CHECK(has_problem({{"steps", json::array()}}, "/workflow/steps", "non-empty array"));
  auto content = content_with(good);
  content.erase("workflow");
  CHECK(validate_content(content).dump().find("/workflow") != std::string::npos);
  CHECK(has_problem({{"steps", {api_step("a", "x")}}, {"output", 1}}, "/workflow/output", "not a field"));

  // Ids: required, well formed, unique across the whole workflow.
  CHECK(has_problem({{"steps", {{{"type", "api"}, {"api", "x"}}}}}, "/workflow/steps/0/id", "required"));
  CHECK(has_problem({{"steps", {api_step("Bad Id", "x")}}}, "/workflow/steps/0/id", "a-z 0-9"));
  CHECK(has_problem({{"steps", {api_step("params", "x")}}}, "/workflow/steps/0/id", "reserved"));
  CHECK(has_problem({{"steps", {api_step("a", "x"), api_step("a", "y")}}}, "/workflow/steps/1/id", "unique"));
  CHECK(has_problem({{"steps", {api_step("a", "x"), {{"id", "loop"}, {"type", "foreach"}, {"items", "${params.x}"},
                                                      {"steps", {api_step("a", "y")}}}}}},
                    "/workflow/steps/1/steps/0/id", "unique"));

  // Types and their fields.
  CHECK(has_problem({{"steps", {{{"id", "a"}, {"type", "http"}}}}}, "/workflow/steps/0/type", "unknown step type"));
  CHECK(has_problem({{"steps", {{{"id", "a"}, {"type", "sql"}, {"sql", "SELECT 1"}}}}}, "/workflow/steps/0/datasource",
                    "required"));
  CHECK(has_problem({{"steps", {{{"id", "a"}, {"type", "sql"}, {"datasource", "ops"}}}}}, "/workflow/steps/0/sql",
                    "required"));
  CHECK(has_problem({{"steps", {{{"id", "a"}, {"type", "sql"}, {"datasource", "ops"}, {"sql", "SELECT :x, :y"},
                                 {"params", {{"x", 1}}}}}}},
                    "/workflow/steps/0/sql", ":y has no value"));
  CHECK(has_problem({{"steps", {{{"id", "a"}, {"type", "api"}}}}}, "/workflow/steps/0/api", "required"));
  CHECK(has_problem({{"steps", {{{"id", "a"}, {"type", "api"}, {"api", "x"}, {"params", "${params}"}}}}},
                    "/workflow/steps/0/params", "object"));
  CHECK(has_problem({{"steps", {{{"id", "a"}, {"type", "tool"}, {"tool", ""}}}}}, "/workflow/steps/0/tool",
                    "non-empty string"));
  CHECK(has_problem({{"steps", {{{"id", "a"}, {"type", "service"}}}}}, "/workflow/steps/0/service", "required"));
  CHECK(has_problem({{"steps", {{{"id", "a"}, {"type", "api"}, {"api", "x"}, {"sql", "SELECT 1"}}}}},
                    "/workflow/steps/0/sql", "not a field of a 'api' step"));
  CHECK(has_problem({{"steps", {{{"id", "a"}, {"type", "if"}, {"then", {api_step("b", "x")}}}}}},
                    "/workflow/steps/0/condition", "required"));
  CHECK(has_problem({{"steps", {{{"id", "a"}, {"type", "if"}, {"condition", true}, {"then", json::array()}}}}},
                    "/workflow/steps/0/then", "non-empty array"));
  CHECK(has_problem({{"steps", {{{"id", "a"}, {"type", "foreach"}, {"steps", {api_step("b", "x")}}}}}},
                    "/workflow/steps/0/items", "required"));
  CHECK(has_problem({{"steps", {{{"id", "a"}, {"type", "foreach"}, {"items", "${params.x}"}, {"as", "params"},
                                 {"steps", {api_step("b", "x")}}}}}},
                    "/workflow/steps/0/as", "taken"));
  CHECK(has_problem({{"steps", {{{"id", "a"}, {"type", "foreach"}, {"items", "${params.x}"}, {"max_items", 5000},
                                 {"steps", {api_step("b", "x")}}}}}},
                    "/workflow/steps/0/max_items", "from 1 to 1000"));
  CHECK(has_problem({{"steps", {{{"id", "a"}, {"type", "parallel"}, {"branches", json::array()}}}}},
                    "/workflow/steps/0/branches", "1 to 8"));
  CHECK(has_problem({{"steps", {{{"id", "a"}, {"type", "parallel"},
                                 {"branches", {{{{"id", "b"}, {"type", "parallel"},
                                                 {"branches", {{api_step("c", "x")}}}}}}}}}}},
                    "/workflow/steps/0/branches/0/0", "inside another parallel"));

  // Timeouts, retries, on_error.
  auto with = [](json step, const std::string& key, const json& value) {
    step[key] = value;
    return json{{"steps", {step}}};
  };
  CHECK(has_problem(with(api_step("a", "x"), "timeout_ms", 0), "/workflow/steps/0/timeout_ms", "integer from 1"));
  CHECK(has_problem(with(api_step("a", "x"), "timeout_ms", "5s"), "/workflow/steps/0/timeout_ms", "integer"));
  CHECK(has_problem(with(api_step("a", "x"), "retry", {{"attempts", 11}}), "/workflow/steps/0/retry/attempts",
                    "from 1 to 10"));
  CHECK(has_problem(with(api_step("a", "x"), "retry", {{"tries", 2}}), "/workflow/steps/0/retry/tries",
                    "not a field of retry"));
  CHECK(has_problem(with(api_step("a", "x"), "on_error", "ignore"), "/workflow/steps/0/on_error", "continue"));
  CHECK(has_problem(with({{"id", "a"}, {"type", "if"}, {"condition", true}, {"then", {api_step("b", "x")}}}, "retry",
                         {{"attempts", 2}}),
                    "/workflow/steps/0/retry", "belongs to steps that call"));

  // References: only to steps that run before, never into a foreach body or a sibling branch.
  CHECK(has_problem({{"steps", {api_step("a", "x", {{"v", "${steps.b.value}"}}), api_step("b", "x")}}},
                    "/workflow/steps/0/params/v", "does not run before"));
  CHECK(has_problem({{"steps", {api_step("a", "x", {{"v", "${steps.a.value}"}})}}}, "/workflow/steps/0/params/v",
                    "does not run before"));
  CHECK(has_problem({{"steps", {api_step("a", "x", {{"v", "${steps.zzz}"}})}}}, "/workflow/steps/0/params/v",
                    "there is no step 'zzz'"));
  CHECK(has_problem({{"steps", {api_step("a", "x", {{"v", "${item.id}"}})}}}, "/workflow/steps/0/params/v",
                    "unknown name 'item'"));
  CHECK(has_problem({{"steps", {api_step("a", "x", {{"v", "${steps}"}})}}}, "/workflow/steps/0/params/v",
                    "name a step"));
  CHECK(has_problem({{"steps", {api_step("a", "x", {{"v", "${params.id"}})}}}, "/workflow/steps/0/params/v",
                    "not closed"));
  CHECK(has_problem({{"steps", {{{"id", "loop"}, {"type", "foreach"}, {"items", "${params.x}"},
                                 {"steps", {api_step("inner", "x")}}},
                                api_step("a", "x", {{"v", "${steps.inner}"}})}}},
                    "/workflow/steps/1/params/v", "inside a foreach"));
  CHECK(has_problem({{"steps", {{{"id", "par"}, {"type", "parallel"},
                                 {"branches", {{api_step("left", "x")},
                                               {api_step("right", "x", {{"v", "${steps.left}"}})}}}}}}},
                    "/workflow/steps/0/branches/1/0/params/v", "does not run before"));
  CHECK(has_problem({{"steps", {{{"id", "a"}, {"type", "if"}, {"condition", true},
                                 {"then", {api_step("t", "x")}},
                                 {"else", {api_step("e", "x", {{"v", "${steps.t}"}})}}}}}},
                    "/workflow/steps/0/else/0/params/v", "does not run before"));
  CHECK(has_problem({{"steps", {api_step("a", "x")}}, {"result", "${steps.b}"}}, "/workflow/result",
                    "there is no step 'b'"));
  // With params.properties, references to parameters must name declared ones.
  auto declared = content_with({{"steps", {api_step("a", "x", {{"r", "${params.role}"}, {"z", "${params.zone}"}})}}});
  declared["params"]["properties"] = {{"role", {{"type", "string"}}}};
  const auto declared_problems = validate_content(declared).dump();
  CHECK(declared_problems.find("'zone' is not declared in params.properties") != std::string::npos);
  CHECK(declared_problems.find("'role'") == std::string::npos);
  CHECK(has_problem(with(api_step("a", "x"), "when", {{"left", "${steps.a}"}, {"op", "empty"}}),
                    "/workflow/steps/0/when/left", "does not run before"));

  // Bounds: nesting depth and the number of steps.
  json nested = api_step("leaf", "x");
  for (int level = 0; level < kMaxWorkflowDepth + 1; ++level) {
    nested = {{"id", "level" + std::to_string(level)}, {"type", "if"}, {"condition", true}, {"then", {nested}}};
  }
  CHECK(problems_of({{"steps", {nested}}}).find("nest at most") != std::string::npos);
  json many = json::array();
  for (int i = 0; i <= kMaxWorkflowSteps; ++i) many.push_back(api_step("s" + std::to_string(i), "x"));
  CHECK(problems_of({{"steps", many}}).find("at most 200 steps") != std::string::npos);

  // The APIs and datasources it uses, nested steps included, each once.
  CHECK(workflow_api_references(good) == std::vector<std::string>{"echo", "server"});
  CHECK(workflow_datasource_references(good) == std::vector<std::string>{"ops"});
  CHECK(workflow_api_references(json("not a workflow")).empty());
}

TEST_CASE("a workflow passes results to later steps and answers its result", "[api-manager][workflow]") {
  Harness h(stand_in);
  const json workflow = {
      {"steps",
       {api_step("a", "double", {{"n", "${params.n}"}}), api_step("b", "double", {{"n", "${steps.a.value}"}}),
        api_step("c", "echo", {{"text", "a=${steps.a.value}, b=${steps.b.value}"}, {"list", "${params.list}"}})}},
      {"result", {{"four_n", "${steps.b.value}"}, {"echo", "${steps.c}"}, {"n", "${params.n}"}}}};
  const auto out = h.run(workflow, {{"n", 5}, {"list", {1, 2}}});
  INFO(out.message << " " << out.details.dump());
  REQUIRE(out.ok());
  CHECK(json(out.body) == json::parse(R"({"four_n": 20, "echo": {"text": "a=10, b=20", "list": [1, 2]}, "n": 5})"));
  CHECK(h.calls == std::vector<std::string>{"double {\"n\":5}", "double {\"n\":10}",
                                            "echo {\"list\":[1,2],\"text\":\"a=10, b=20\"}"});
  REQUIRE(h.log.size() == 3);
  CHECK(h.log[0].name == "a");
  CHECK(h.log[2].status == "ok");

  // Without "result", the answer is every top-level step's result by id.
  const auto all = h.run({{"steps", {api_step("x", "double", {{"n", 1}}), api_step("y", "rows")}}});
  REQUIRE(all.ok());
  CHECK(all.body["x"]["value"] == 2);
  CHECK(all.body["y"]["rows"].size() == 3);
}

TEST_CASE("workflow if, when, foreach and parallel steps", "[api-manager][workflow]") {
  // Two api calls that each wait for the other: they meet only when they run at the same time.
  std::mutex meet_mutex;
  std::condition_variable meet;
  int arrived = 0;
  auto fn = [&](const std::string& id, const json& params) -> Outcome {
    if (id == "meet") {
      std::unique_lock lock(meet_mutex);
      ++arrived;
      meet.notify_all();
      const bool met = meet.wait_for(lock, std::chrono::seconds(20), [&] { return arrived >= 2; });
      return Outcome::success(ordered_json{{"met", met}, {"side", params.value("side", "")}});
    }
    return stand_in(id, params);
  };
  Harness h(fn);
  const json workflow = {
      {"steps",
       {api_step("list", "rows"),
        {{"id", "check"},
         {"type", "if"},
         {"condition", {{"left", "${steps.list.rows}"}, {"op", "not_empty"}}},
         {"then", {api_step("yes", "echo", {{"first", "${steps.list.rows[0].id}"}})}},
         {"else", {api_step("no", "echo")}}},
        {{"id", "skipped"},
         {"type", "api"},
         {"api", "echo"},
         {"when", {{"left", "${params.flag}"}, {"op", "eq"}, {"right", true}}}},
        {{"id", "loop"},
         {"type", "foreach"},
         {"items", "${steps.list.rows}"},
         {"as", "row"},
         {"steps", {api_step("twice", "double", {{"n", "${row.id}"}}),
                    api_step("label", "echo", {{"text", "${row.id}:${steps.twice.value}"}})}}},
        {{"id", "both"},
         {"type", "parallel"},
         {"branches", {{api_step("left", "meet", {{"side", "left"}})}, {api_step("right", "meet", {{"side", "right"}})}}}},
        {{"id", "empty-loop"}, {"type", "foreach"}, {"items", "${steps.skipped.rows}"}, {"steps", {api_step("never", "echo")}}}}},
      {"result",
       {{"yes", "${steps.yes.first}"},
        {"no", "${steps.no}"},
        {"skipped", "${steps.skipped}"},
        {"labels", {"${steps.loop[0].label.text}", "${steps.loop[2].label.text}"}},
        {"left", "${steps.left}"},
        {"right", "${steps.right}"},
        {"branches", "${steps.both}"},
        {"check", "${steps.check}"},
        {"empty", "${steps.empty-loop}"}}}};
  const auto out = h.run(workflow, {{"flag", false}});
  INFO(out.message << " " << out.details.dump());
  REQUIRE(out.ok());
  CHECK(out.body["yes"] == 1);
  CHECK(out.body["no"].is_null());
  CHECK(out.body["skipped"].is_null());
  CHECK(out.body["labels"] == ordered_json{"1:2", "3:6"});
  CHECK(out.body["left"] == ordered_json{{"met", true}, {"side", "left"}});
  CHECK(out.body["right"] == ordered_json{{"met", true}, {"side", "right"}});
  CHECK(out.body["branches"].size() == 2);
  CHECK(out.body["branches"][1].contains("right"));
  CHECK(out.body["check"]["branch"] == "then");
  CHECK(out.body["empty"] == ordered_json::array());

  // The log: containers before their steps, loop iterations named by index.
  CHECK(h.status_of("check") == "ok");
  CHECK(h.status_of("yes") == "ok");
  CHECK(h.status_of("no") == "(not logged)");
  CHECK(h.status_of("skipped") == "skipped");
  CHECK(h.status_of("loop[0].twice") == "ok");
  CHECK(h.status_of("loop[2].label") == "ok");
  CHECK(h.status_of("left") == "ok");
  CHECK(h.status_of("right") == "ok");
  CHECK(h.status_of("both") == "ok");
  std::vector<std::string> order;
  for (const auto& step : h.log) order.push_back(step.name);
  const auto at = [&](const std::string& name) { return std::find(order.begin(), order.end(), name) - order.begin(); };
  CHECK(at("check") < at("yes"));
  CHECK(at("loop") < at("loop[0].twice"));
  CHECK(at("loop[0].label") < at("loop[1].twice"));
  for (const auto& step : h.log) CHECK(step.status != "running");

  // The other branch of the if, and the skipped step taken.
  Harness other(stand_in);
  auto no_rows = workflow;
  no_rows["steps"][0] = api_step("list", "echo", {{"rows", json::array()}});
  no_rows["steps"][4] = api_step("both", "echo");
  no_rows["result"].erase("left");
  no_rows["result"].erase("right");
  const auto taken = other.run(no_rows, {{"flag", true}});
  REQUIRE(taken.ok());
  CHECK(taken.body["no"] == ordered_json::object());
  CHECK(taken.body["yes"].is_null());
  CHECK_FALSE(taken.body["skipped"].is_null());
  CHECK(taken.body["labels"] == ordered_json{nullptr, nullptr});
  CHECK(other.status_of("yes") == "(not logged)");
}

TEST_CASE("a failed step ends the run naming it, unless it may continue", "[api-manager][workflow]") {
  Harness h(stand_in);
  auto out = h.run({{"steps", {api_step("ok", "echo"), api_step("broken", "fail"), api_step("later", "echo")}}});
  REQUIRE_FALSE(out.ok());
  CHECK(out.status == 502);
  CHECK(out.error_class == "datasource");
  CHECK(out.code == "step_failed");
  CHECK(out.message.find("step 'broken' failed: the datasource could not run") == 0);
  CHECK(out.details["step"] == "broken");
  CHECK(out.details["code"] == "datasource_error");
  CHECK(h.calls.size() == 2);  // "later" never ran
  CHECK(h.status_of("broken") == "error");
  CHECK(h.status_of("later") == "(not logged)");

  // Inside a loop, the step is named with its iteration.
  Harness loop(stand_in);
  auto loop_fail = json{{"steps",
                         {{{"id", "each"}, {"type", "foreach"}, {"items", {1, 2, 3}},
                           {"steps", {{{"id", "inner"}, {"type", "api"}, {"api", "fail"},
                                       {"when", {{"left", "${item}"}, {"op", "eq"}, {"right", 2}}}}}}}}}};
  out = loop.run(loop_fail);
  REQUIRE_FALSE(out.ok());
  CHECK(out.message.find("step 'each[1].inner' failed") == 0);
  CHECK(loop.status_of("each[0].inner") == "skipped");
  CHECK(loop.status_of("each") == "error");

  // on_error: continue keeps going with the error as the step's result.
  Harness go_on(stand_in);
  auto broken = api_step("broken", "fail");
  broken["on_error"] = "continue";
  out = go_on.run({{"steps", {broken, api_step("later", "echo", {{"why", "${steps.broken.error.code}"}})}},
                   {"result", "${steps.later.why}"}});
  REQUIRE(out.ok());
  CHECK(out.body == "datasource_error");
  CHECK(go_on.status_of("broken") == "error");

  // A foreach over something else than an array, or over too many items.
  Harness items(stand_in);
  out = items.run({{"steps", {{{"id", "each"}, {"type", "foreach"}, {"items", "${params.n}"},
                               {"steps", {api_step("inner", "echo")}}}}}},
                  {{"n", 3}});
  REQUIRE_FALSE(out.ok());
  CHECK(out.message.find("step 'each' failed: items must be an array") == 0);
  out = items.run({{"steps", {{{"id", "each"}, {"type", "foreach"}, {"items", "${params.list}"}, {"max_items", 2},
                               {"steps", {api_step("inner", "echo")}}}}}},
                  {{"list", {1, 2, 3}}});
  REQUIRE_FALSE(out.ok());
  CHECK(out.message.find("more than max_items (2)") != std::string::npos);

  // A failing parallel branch fails the step, naming the branch's step.
  Harness par(stand_in);
  out = par.run({{"steps", {{{"id", "both"}, {"type", "parallel"},
                             {"branches", {{api_step("fine", "echo")}, {api_step("bad", "fail")}}}}}}});
  REQUIRE_FALSE(out.ok());
  CHECK(out.message.find("step 'bad' failed") == 0);
  CHECK(par.status_of("both") == "error");
}

TEST_CASE("workflow retries transient failures only, within the deadline", "[api-manager][workflow]") {
  int failures_left = 2;
  Harness h([&](const std::string& id, const json& params) {
    if (id == "flaky" && failures_left-- > 0) {
      auto out = Outcome::failure(504, "timeout", "datasource_timeout", "the datasource did not answer in time");
      out.transient = true;
      return out;
    }
    return stand_in(id, params);
  });
  auto flaky = api_step("flaky", "flaky");
  flaky["retry"] = {{"attempts", 3}, {"backoff_ms", 1}};
  auto out = h.run({{"steps", {flaky}}});
  INFO(out.message);
  REQUIRE(out.ok());
  CHECK(h.calls.size() == 3);

  // Too few attempts: the last failure, with the attempts made.
  failures_left = 5;
  h.calls.clear();
  flaky["retry"] = {{"attempts", 2}, {"backoff_ms", 1}};
  out = h.run({{"steps", {flaky}}});
  REQUIRE_FALSE(out.ok());
  CHECK(out.status == 504);
  CHECK(out.error_class == "timeout");
  CHECK(out.details["details"]["attempts"] == 2);
  CHECK(h.calls.size() == 2);

  // A failure that is not transient is not tried again.
  h.calls.clear();
  auto fail = api_step("broken", "fail");
  fail["retry"] = {{"attempts", 5}, {"backoff_ms", 1}};
  out = h.run({{"steps", {fail}}});
  REQUIRE_FALSE(out.ok());
  CHECK(h.calls.size() == 1);

  // No wait goes past the deadline: a backoff longer than the time left stops the retries.
  failures_left = 5;
  h.calls.clear();
  h.context.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  flaky["retry"] = {{"attempts", 5}, {"backoff_ms", 60000}};
  out = h.run({{"steps", {flaky}}});
  REQUIRE_FALSE(out.ok());
  CHECK(h.calls.size() == 1);
}

TEST_CASE("workflow steps run within their timeout and the run's deadline", "[api-manager][workflow]") {
  Harness h(stand_in);
  // The step's timeout_ms narrows the deadline the called API is given.
  const auto before = std::chrono::steady_clock::now();
  auto step = api_step("quick", "echo");
  step["timeout_ms"] = 1000;
  auto out = h.run({{"steps", {step}}});
  REQUIRE(out.ok());
  REQUIRE(h.deadlines.size() == 1);
  CHECK(h.deadlines[0] <= std::chrono::steady_clock::now() + std::chrono::milliseconds(1000));
  CHECK(h.deadlines[0] >= before + std::chrono::milliseconds(1000));
  // The run's own deadline is left as it was.
  CHECK(h.context.deadline > std::chrono::steady_clock::now() + std::chrono::minutes(1));

  // In parallel branches too, each api step gets its own timeout_ms.
  h.deadlines.clear();
  auto slow = api_step("slow", "echo");
  slow["timeout_ms"] = 60000;
  json parallel{{"id", "both"}, {"type", "parallel"}, {"branches", json::array({json::array({step}), json::array({slow})})}};
  out = h.run({{"steps", {parallel}}});
  REQUIRE(out.ok());
  REQUIRE(h.deadlines.size() == 2);
  const auto [quick_deadline, slow_deadline] = std::minmax(h.deadlines[0], h.deadlines[1]);
  CHECK(quick_deadline <= std::chrono::steady_clock::now() + std::chrono::milliseconds(1000));
  CHECK(slow_deadline >= before + std::chrono::milliseconds(60000));
  CHECK(slow_deadline < h.context.deadline);

  // Past the deadline, the next step does not start and the run says which one.
  h.context.deadline = std::chrono::steady_clock::now() - std::chrono::milliseconds(1);
  out = h.run({{"steps", {api_step("late", "echo")}}});
  REQUIRE_FALSE(out.ok());
  CHECK(out.status == 504);
  CHECK(out.error_class == "timeout");
  CHECK(out.message.find("step 'late' failed: no time was left") == 0);
}

TEST_CASE("tool and service steps need a caller, SQL steps a host", "[api-manager][workflow]") {
  Harness h(stand_in);
  auto out = h.run({{"steps", {{{"id", "notify"}, {"type", "tool"}, {"tool", "notify"}, {"input", {{"x", 1}}}}}}});
  REQUIRE_FALSE(out.ok());
  CHECK(out.status == 403);
  CHECK(out.error_class == "permission");
  CHECK(out.message.find("step 'notify' failed: a tool step needs a caller") == 0);
  out = h.run({{"steps", {{{"id", "svc"}, {"type", "service"}, {"service", "stats.count"}}}}});
  REQUIRE_FALSE(out.ok());
  CHECK(out.status == 403);
  CHECK(out.message.find("step 'svc' failed") == 0);
  h.context.host = nullptr;
  out = h.run({{"steps", {{{"id", "q"}, {"type", "sql"}, {"datasource", "ops"}, {"sql", "SELECT 1"}}}}});
  REQUIRE_FALSE(out.ok());
  CHECK(out.message.find("step 'q' failed") == 0);
}
