// Test suites of APIs without a server: the JSONPath subset, assertions, validation of
// the kind "api-test", running cases against a stand-in runner, the compatibility diff
// between two API contents, and the promotion gate's problems.
#include "api_tests.hpp"

#include <chrono>
#include <stdexcept>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "compatibility.hpp"
#include "json_path.hpp"
#include "promotion_gate.hpp"

using nlohmann::json;
using namespace plexus::api_manager;

namespace {

const json kDoc = json::parse(R"({
  "rows": [{"id": 1, "name": "web-01", "tags": ["a", "b"]}, {"id": 2, "name": "web-02", "tags": []}],
  "truncated": false,
  "odd key": {"x.y": 5, "it's": 6}
})");

std::vector<json> select(const std::string& path, const json& doc = kDoc) {
  std::vector<json> out;
  for (const auto* value : JsonPath::parse(path).select(doc)) out.push_back(*value);
  return out;
}

std::string parse_error(const std::string& path) {
  try {
    JsonPath::parse(path);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return {};
}

std::string check(const json& assertion, const json& body = kDoc) { return check_assertion(assertion, body); }

bool has_problem(const json& problems, const std::string& pointer, const std::string& part = {}) {
  for (const auto& p : problems) {
    if (p["pointer"] == pointer && p["message"].get<std::string>().find(part) != std::string::npos)
      return true;
  }
  return false;
}

bool has_change(const std::vector<BreakingChange>& changes, const std::string& change,
                const std::string& pointer) {
  for (const auto& c : changes) {
    if (c.change == change && c.pointer == pointer) return true;
  }
  return false;
}

const json kApi = json::parse(R"({
  "path": "ops/servers/{site}", "method": "GET", "type": "sql", "datasource": "ops",
  "sql": "SELECT id, name FROM servers WHERE site = :site AND (:role IS NULL OR role = :role) AND id > :min",
  "params": {"type": "object",
             "properties": {"site": {"type": "string"}, "role": {"type": "string"}, "min": {"type": "integer"}},
             "required": ["site"]},
  "response": {"type": "object", "properties": {
    "rows": {"type": "array", "items": {"type": "object", "properties": {
      "id": {"type": "integer"}, "name": {"type": "string"}}}},
    "truncated": {"type": "boolean"}}}
})");

}  // namespace

TEST_CASE("JSONPath subset selects names, indexes and wildcards", "[api-manager][tests][jsonpath]") {
  CHECK(select("$") == std::vector<json>{kDoc});
  CHECK(select("$.truncated") == std::vector<json>{false});
  CHECK(select("$.rows[1].name") == std::vector<json>{"web-02"});
  CHECK(select("$['rows'][0]['name']") == std::vector<json>{"web-01"});
  CHECK(select("$[\"rows\"][0].id") == std::vector<json>{1});
  CHECK(select("$['odd key']['x.y']") == std::vector<json>{5});
  CHECK(select("$['odd key']['it\\'s']") == std::vector<json>{6});
  CHECK(select("$.rows[*].name") == std::vector<json>{"web-01", "web-02"});
  CHECK(select("$.rows.*.id") == std::vector<json>{1, 2});
  CHECK(select("$.rows[*].tags[*]") == std::vector<json>{"a", "b"});
  // Nothing rather than an error: a missing name, an index past the end, a step into a scalar.
  CHECK(select("$.rows[2]").empty());
  CHECK(select("$.missing.deeper").empty());
  CHECK(select("$.truncated.x").empty());
  CHECK(select("$.rows.name").empty());
  CHECK(select("$[0]").empty());
}

TEST_CASE("JSONPath outside the subset is refused naming the character", "[api-manager][tests][jsonpath]") {
  CHECK(parse_error("rows[0]").find("at character 1: a path starts with $") != std::string::npos);
  CHECK(parse_error("$..name").find("at character 2: recursive descent") != std::string::npos);
  CHECK(parse_error("$.rows[?(@.id > 1)]").find("filters") != std::string::npos);
  CHECK(parse_error("$.rows[0:2]").find("slices") != std::string::npos);
  CHECK(parse_error("$.rows[-1]").find("negative indexes") != std::string::npos);
  CHECK(parse_error("$.rows[0,1]").find("unions") != std::string::npos);
  CHECK(parse_error("$.rows.length()").find("functions") != std::string::npos);
  CHECK(parse_error("$.rows[0").find("expected ']'") != std::string::npos);
  CHECK(parse_error("$['rows").find("not closed") != std::string::npos);
  CHECK(parse_error("$.").find("a name must follow '.'") != std::string::npos);
  CHECK(parse_error("$rows").find("at character 2") != std::string::npos);
  // Every refusal says what is supported.
  CHECK(parse_error("$..x").find("supported: $, .name") != std::string::npos);
  CHECK(parse_error("$.rows[0].name").empty());
}

TEST_CASE("assertions: equals, exists, length, matches, type", "[api-manager][tests][assertions]") {
  CHECK(check({{"path", "$.rows[0].name"}, {"equals", "web-01"}}).empty());
  CHECK(check({{"path", "$.rows[0].id"}, {"equals", 1.0}}).empty());  // numbers compare as numbers
  CHECK(check({{"path", "$.rows[0]"},
               {"equals", {{"id", 1}, {"name", "web-01"}, {"tags", json::array({"a", "b"})}}}})
            .empty());
  const auto wrong = check({{"path", "$.rows[0].name"}, {"equals", "db-01"}});
  CHECK(wrong == "$.rows[0].name: expected \"db-01\", got \"web-01\"");
  CHECK(check({{"path", "$.rows[5].name"}, {"equals", "x"}}) == "$.rows[5].name: nothing at this path");
  CHECK(check({{"path", "$.missing"}, {"equals", nullptr}}) == "$.missing: nothing at this path");

  CHECK(check({{"path", "$.rows[1]"}, {"exists", true}}).empty());
  CHECK(check({{"path", "$.rows[2]"}, {"exists", false}}).empty());
  CHECK(check({{"path", "$.rows[2]"}, {"exists", true}}) == "$.rows[2]: nothing at this path");
  CHECK(check({{"path", "$.truncated"}, {"exists", false}}) == "$.truncated: expected nothing, found false");

  CHECK(check({{"path", "$.rows"}, {"length", 2}}).empty());
  CHECK(check({{"path", "$.rows[0].name"}, {"length", 6}}).empty());
  CHECK(check({{"path", "$.rows[0]"}, {"length", 3}}).empty());
  CHECK(check({{"path", "$.x"}, {"length", 2}}, json{{"x", "é€"}}).empty());  // characters, not bytes
  CHECK(check({{"path", "$.rows"}, {"length", 3}}) == "$.rows: expected length 3, got 2");
  CHECK(check({{"path", "$.truncated"}, {"length", 0}}).find("has no length: it is boolean") !=
        std::string::npos);

  CHECK(check({{"path", "$.rows[*].name"}, {"matches", "^web-0[0-9]$"}}).empty());
  CHECK(check({{"path", "$.rows[0].name"}, {"matches", "eb"}}).empty());  // a search, anchor it to match all
  CHECK(check({{"path", "$.rows[*].name"}, {"matches", "01$"}}) ==
        "$.rows[*].name: \"web-02\" does not match /01$/ (value 2 of 2)");
  CHECK(check({{"path", "$.rows[0].id"}, {"matches", "1"}}) ==
        "$.rows[0].id: expected a string to match, got 1");

  CHECK(check({{"path", "$.rows[*].id"}, {"type", "integer"}}).empty());
  CHECK(check({{"path", "$.rows[0].id"}, {"type", "number"}}).empty());
  CHECK(check({{"path", "$.x"}, {"type", "integer"}}, json{{"x", 3.0}}).empty());
  CHECK(check({{"path", "$.x"}, {"type", "integer"}}, json{{"x", 3.5}}) ==
        "$.x: expected type integer, got number");
  CHECK(check({{"path", "$.rows"}, {"type", "array"}}).empty());
  CHECK(check({{"path", "$.rows[0].name"}, {"type", "object"}}) ==
        "$.rows[0].name: expected type object, got string");
  CHECK(check({{"path", "$.x"}, {"type", "null"}}, json{{"x", nullptr}}).empty());
  // Every value a wildcard selects must pass.
  CHECK(check({{"path", "$.rows[*].tags"}, {"length", 2}}) ==
        "$.rows[*].tags: expected length 2, got 0 (value 2 of 2)");
}

TEST_CASE("api-test content is validated naming each problem by its pointer",
          "[api-manager][tests][validation]") {
  const auto good = json::parse(R"({"api": "servers", "description": "smoke",
    "cases": [{"name": "web", "params": {"role": "web"},
               "expect": {"status": 200, "max_duration_ms": 5000,
                          "assertions": [{"path": "$.rows[0].name", "equals": "web-01"},
                                         {"path": "$.rows", "length": 2},
                                         {"path": "$.rows[9]", "exists": false},
                                         {"path": "$.rows[*].name", "matches": "^web"},
                                         {"path": "$.truncated", "type": "boolean"},
                                         {"path": "$.x", "equals": null}]}},
              {"name": "no params"}]})");
  CHECK(validate_test_content(good).empty());
  CHECK(test_references(good) == json::parse(R"([{"kind": "api", "id": "servers"}])"));

  CHECK(has_problem(validate_test_content(json::array()), "", "must be an object"));
  auto problems = validate_test_content(json::parse(R"({"cases": [], "extra": 1})"));
  CHECK(has_problem(problems, "/api", "is required"));
  CHECK(has_problem(problems, "/cases", "at least one case"));
  CHECK(has_problem(problems, "/extra", "is not a field"));
  CHECK(test_references(json::parse(R"({"cases": []})")).empty());

  problems = validate_test_content(json::parse(R"({"api": "servers", "cases": [
    {"name": "a", "params": [1], "expect": {"status": 99, "max_duration_ms": 0, "colour": 1}},
    {"name": "a", "timeout": 5},
    {"expect": {"assertions": [
      {"path": "$..name", "equals": 1},
      {"equals": 1},
      {"path": "$.x"},
      {"path": "$.x", "equals": 1, "exists": true},
      {"path": "$.x", "exists": "yes"},
      {"path": "$.x", "length": -1},
      {"path": "$.x", "type": "text"},
      {"path": "$.x", "matches": "("},
      {"path": "$.x", "contains": 1},
      "$.x"]}},
    7]})"));
  CHECK(has_problem(problems, "/cases/0/params", "must be an object"));
  CHECK(has_problem(problems, "/cases/0/expect/status", "100 to 599"));
  CHECK(has_problem(problems, "/cases/0/expect/max_duration_ms", "above 0"));
  CHECK(has_problem(problems, "/cases/0/expect/colour", "is not an expectation"));
  CHECK(has_problem(problems, "/cases/1/name", "names another case"));
  CHECK(has_problem(problems, "/cases/1/timeout", "is not a field of a test case"));
  CHECK(has_problem(problems, "/cases/2/name", "is required"));
  CHECK(has_problem(problems, "/cases/2/expect/assertions/0/path", "recursive descent"));
  CHECK(has_problem(problems, "/cases/2/expect/assertions/1/path", "is required"));
  CHECK(has_problem(problems, "/cases/2/expect/assertions/2", "needs one check"));
  CHECK(has_problem(problems, "/cases/2/expect/assertions/3", "has 2 checks"));
  CHECK(has_problem(problems, "/cases/2/expect/assertions/4/exists", "true or false"));
  CHECK(has_problem(problems, "/cases/2/expect/assertions/5/length", "0 or more"));
  CHECK(has_problem(problems, "/cases/2/expect/assertions/6/type", "one of string"));
  CHECK(has_problem(problems, "/cases/2/expect/assertions/7/matches", "not a valid regular expression"));
  CHECK(has_problem(problems, "/cases/2/expect/assertions/8/contains", "is not an assertion field"));
  CHECK(has_problem(problems, "/cases/2/expect/assertions/9", "must be an object"));
  CHECK(has_problem(problems, "/cases/3", "must be an object"));
}

TEST_CASE("running cases: status, assertions and duration, each failure named", "[api-manager][tests][run]") {
  const auto suite = json::parse(R"({"api": "servers", "cases": [
    {"name": "passes", "params": {"role": "web"},
     "expect": {"assertions": [{"path": "$.rows[0].name", "equals": "web-01"}, {"path": "$.rows", "length": 2}]}},
    {"name": "wrong row", "params": {"role": "db"},
     "expect": {"status": 200, "assertions": [{"path": "$.rows[0].name", "equals": "web-01"}]}},
    {"name": "refused", "params": {},
     "expect": {"status": 400, "assertions": [{"path": "$.error.code", "equals": "invalid_params"}]}},
    {"name": "slow", "params": {"role": "slow"}, "expect": {"max_duration_ms": 1}},
    {"name": "fails", "params": {"role": "broken"}}]})");
  REQUIRE(validate_test_content(suite).empty());
  std::vector<json> seen;
  const CaseRunner runner = [&](const json& params) {
    seen.push_back(params);
    const auto role = params.value("role", std::string());
    if (role.empty()) return Outcome::failure(400, "validation", "invalid_params", "role is required");
    if (role == "broken")
      return Outcome::failure(502, "datasource", "datasource_error", "the datasource failed");
    if (role == "slow")
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // well past the 1 ms allowed
    nlohmann::ordered_json body{{"rows", nlohmann::ordered_json::array()}, {"truncated", false}};
    if (role == "web") {
      body["rows"].push_back({{"id", 1}, {"name", "web-01"}});
      body["rows"].push_back({{"id", 2}, {"name", "web-02"}});
    } else {
      body["rows"].push_back({{"id", 3}, {"name", "db-01"}});
    }
    return Outcome::success(body, static_cast<std::int64_t>(body["rows"].size()));
  };
  const auto report = run_cases(suite, runner);
  INFO(report.dump(2));
  REQUIRE(seen.size() == 5);
  CHECK(seen[0] == json{{"role", "web"}});
  CHECK(seen[2] == json::object());
  CHECK(report["passed"] == false);
  const auto& cases = report["cases"];
  REQUIRE(cases.size() == 5);

  CHECK(cases[0]["name"] == "passes");
  CHECK(cases[0]["passed"] == true);
  CHECK(cases[0]["status"] == 200);
  CHECK(cases[0]["failures"].empty());
  CHECK_FALSE(cases[0].contains("body"));

  CHECK(cases[1]["passed"] == false);
  REQUIRE(cases[1]["failures"].size() == 1);
  CHECK(cases[1]["failures"][0]["assertion"] == "/cases/1/expect/assertions/0");
  CHECK(cases[1]["failures"][0]["message"] == "$.rows[0].name: expected \"web-01\", got \"db-01\"");
  CHECK(cases[1]["body"]["rows"][0]["name"] == "db-01");

  // An expected error is a pass, and its body is the error a caller would get.
  CHECK(cases[2]["passed"] == true);
  CHECK(cases[2]["status"] == 400);

  CHECK(cases[3]["passed"] == false);
  REQUIRE(cases[3]["failures"].size() == 1);
  CHECK(cases[3]["failures"][0]["assertion"] == "/cases/3/expect/max_duration_ms");
  CHECK(cases[3]["failures"][0]["message"].get<std::string>().find("more than the 1 ms allowed") !=
        std::string::npos);
  CHECK(cases[3]["duration_ms"].get<double>() >= 20);

  CHECK(cases[4]["passed"] == false);
  CHECK(cases[4]["failures"][0]["assertion"] == "/cases/4/expect/status");
  CHECK(cases[4]["failures"][0]["message"] ==
        "expected status 200, got 502 (datasource_error: the datasource failed)");
  CHECK(cases[4]["body"]["error"]["code"] == "datasource_error");

  // A runner that throws fails its case, not the suite run.
  const auto thrown = run_cases(json::parse(R"({"api": "a", "cases": [{"name": "boom"}]})"),
                                [](const json&) -> Outcome { throw std::runtime_error("no host"); });
  CHECK(thrown["passed"] == false);
  CHECK(thrown["cases"][0]["failures"][0]["message"].get<std::string>().find("no host") != std::string::npos);

  // The gate's problems name suite, case and reason, one per failing case.
  auto with_id = report;
  with_id["suite"] = "smoke";
  const auto problems = test_problems(with_id);
  REQUIRE(problems.size() == 3);
  CHECK(problems[0] ==
        "test 'smoke' case 'wrong row' failed: $.rows[0].name: expected \"web-01\", got \"db-01\"");
  CHECK(problems[2].find("test 'smoke' case 'fails' failed: expected status 200, got 502") == 0);
  CHECK(test_problems(json{{"suite", "ok"}, {"passed", true}, {"cases", {{{"name", "a"}, {"passed", true}}}}})
            .empty());
}

TEST_CASE("compatibility: what callers of the old revision would find broken",
          "[api-manager][compatibility]") {
  CHECK(breaking_changes(kApi, kApi).empty());

  // Compatible: a new optional parameter, a widened parameter type, a renamed path
  // parameter's URL shape kept, a new response field, a narrowed response type.
  auto compatible = kApi;
  compatible["params"]["properties"]["zone"] = {{"type", "string"}};
  compatible["params"]["properties"]["min"]["type"] = "number";
  compatible["response"]["properties"]["rows"]["items"]["properties"]["role"] = {{"type", "string"}};
  compatible["response"]["properties"]["count"] = {{"type", "integer"}};
  compatible["description"] = "changed";
  compatible["sql"] = "SELECT id, name, role FROM servers WHERE site = :site AND id > :min";
  auto widened_response = kApi;
  widened_response["response"]["properties"]["rows"]["items"]["properties"]["id"]["type"] = "number";
  auto narrowed_response = widened_response;
  narrowed_response["response"]["properties"]["rows"]["items"]["properties"]["id"]["type"] = "integer";
  CHECK(breaking_changes(kApi, compatible).empty());
  CHECK(breaking_changes(widened_response, narrowed_response).empty());

  auto changed = kApi;
  changed["method"] = "POST";
  changed["path"] = "ops/hosts/{site}";
  changed["params"]["properties"].erase("role");
  changed["params"]["properties"]["min"]["type"] = "string";
  changed["params"]["required"] = json::array({"site", "min"});
  changed["params"]["additionalProperties"] = false;
  changed["response"]["properties"]["rows"]["items"]["properties"].erase("name");
  changed["response"]["properties"]["rows"]["items"]["properties"]["id"]["type"] = "string";
  changed["response"]["properties"].erase("truncated");
  const auto changes = breaking_changes(kApi, changed);
  CHECK(has_change(changes, "method_changed", "/method"));
  CHECK(has_change(changes, "path_changed", "/path"));
  CHECK(has_change(changes, "parameter_removed", "/params/properties/role"));
  CHECK(has_change(changes, "parameter_retyped", "/params/properties/min/type"));
  CHECK(has_change(changes, "parameter_required", "/params/required"));
  CHECK(has_change(changes, "unknown_parameters_refused", "/params/additionalProperties"));
  CHECK(has_change(changes, "response_field_removed", "/response/properties/rows/items/properties/name"));
  CHECK(has_change(changes, "response_field_retyped", "/response/properties/rows/items/properties/id"));
  CHECK(has_change(changes, "response_field_removed", "/response/properties/truncated"));
  CHECK(changes.size() == 9);
  CHECK(to_json(changes).size() == 9);
  for (const auto& c : changes) {
    if (c.change == "parameter_removed") CHECK(c.message == "the parameter 'role' was removed");
    if (c.change == "parameter_retyped")
      CHECK(c.message == "the parameter 'min' changed type from integer to string");
    if (c.change == "parameter_required") CHECK(c.message == "the parameter 'min' is now required");
    if (c.change == "response_field_removed" && c.pointer.ends_with("/name"))
      CHECK(c.message == "the response field 'rows[].name' was removed");
  }

  // Renaming the path parameter keeps the URL; the old name counts as a removed parameter.
  auto renamed = kApi;
  renamed["path"] = "/ops/servers/{region}";
  const auto rename_changes = breaking_changes(kApi, renamed);
  CHECK_FALSE(has_change(rename_changes, "path_changed", "/path"));

  // A parameter that took anything now has a type. Access is not the contract: a public
  // API that stops being public is not a breaking change here.
  auto loose = kApi;
  loose["params"]["properties"]["role"] = json::object();
  loose["public"] = true;
  auto strict = kApi;
  const auto tightened = breaking_changes(loose, strict);
  CHECK(has_change(tightened, "parameter_retyped", "/params/properties/role/type"));
  CHECK(tightened.size() == 1);
  // Only when both declare a response schema are responses compared.
  auto no_response = kApi;
  no_response.erase("response");
  CHECK(breaking_changes(kApi, no_response).empty());
  CHECK(breaking_changes(no_response, kApi).empty());
}

TEST_CASE("the breaking-change override counts only for the production revision it names",
          "[api-manager][compatibility][promotion]") {
  auto next = kApi;
  next["params"]["properties"].erase("role");
  auto problems = compatibility_problems(3, kApi, next);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].find("breaking change against production revision 3: the parameter 'role' was removed") ==
        0);
  CHECK(problems[0].find("\"accept_breaking\": 3") != std::string::npos);

  next["compatibility"] = {{"accept_breaking", 3}, {"migration_note", "role is gone: filter on your side"}};
  CHECK(compatibility_problems(3, kApi, next).empty());

  problems = compatibility_problems(4, kApi, next);
  REQUIRE(problems.size() == 2);
  CHECK(problems[0].find("names revision 3, but production serves revision 4") != std::string::npos);
  CHECK(problems[1].find("the parameter 'role' was removed") != std::string::npos);

  // No breaking change: nothing to accept, whatever the override says.
  CHECK(compatibility_problems(4, kApi, kApi).empty());
}
