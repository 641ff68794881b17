// Test suites of APIs (issue 7 item 5): resources of kind "api-test", each a list of
// cases (parameters in, expected status, JSONPath assertions on the answer, a maximum
// duration) for one API. Run on demand over REST and by the promotion gate
// (promotion_gate.hpp) before production, where a failing case blocks.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <plexus/plugin.hpp>

#include "execute.hpp"
#include "route_table.hpp"
#include "runtime.hpp"

namespace plexus::api_manager {

inline constexpr const char* kTestKind = "api-test";

// The checks on save: [{"pointer": "/cases/0/expect/assertions/1/path", "message"}], empty
// when the suite is fine. Content: {"api", "description"?, "cases": [{"name", "params"?,
// "expect"?: {"status"?, "max_duration_ms"?, "assertions"?: [{"path", <one check>}]}}]}
// where the check is equals (any JSON), exists (bool), length (n), matches (regex) or type.
nlohmann::json validate_test_content(const nlohmann::json& content);
// [{"kind": "api", "id": <content.api>}]: the store then refuses to delete a tested API.
nlohmann::json test_references(const nlohmann::json& content);

// One assertion (validated) against an answer body: "" when it holds, else why not.
// Every check but `exists` needs at least one value at the path and holds for each.
std::string check_assertion(const nlohmann::json& assertion, const nlohmann::json& body);

// Runs one case's parameters against the API under test.
using CaseRunner = std::function<Outcome(const nlohmann::json& params)>;
// What a caller would get: the answer on success, {"error": {...}} otherwise.
nlohmann::json body_of(const Outcome& outcome, const std::string& request_id = {});
// Runs every case of a validated suite in order: {"passed", "cases": [{"name", "passed",
// "status", "duration_ms", "failures": [{"assertion": <pointer into the suite>, "message"}],
// "body" (failed cases only)}]}.
nlohmann::json run_cases(const nlohmann::json& suite, const CaseRunner& run);

// A stored suite at its current revision (suites have no stages: the latest one counts).
struct StoredSuite {
  std::string id;
  std::int64_t revision = 0;
  nlohmann::json content;
};
// The tenant's suites whose content names `api_id`, by id.
std::vector<StoredSuite> suites_of(sdk::Host& host, const std::string& tenant, const std::string& api_id);

// The API content `content` ready to run; throws std::invalid_argument when it does not parse.
RouteTable compile_api(const std::string& id, std::int64_t revision, const nlohmann::json& content);

// A suite's report: run_cases plus {"suite", "revision", "api", "api_revision", "stage"}.
// `caller` may be null (the promotion gate), see Runtime::run.
nlohmann::json run_suite(Runtime& runtime, const std::string& tenant, const std::string& stage,
                         const CompiledApi& api, const StoredSuite& suite,
                         const plexus_caller* caller = nullptr, const std::string& request_id = {});

// The kind "api-test" (permission prefix "api": who edits APIs edits their tests) and
//   POST <prefix>/tests/{id}/run?stage=staging|production        (api.write:{id} and on the API)
//   POST <prefix>/apis/{id}/tests/run?stage=staging|production   (api.write:{id})
// The API runs at `stage` (default staging), for the caller.
void register_api_tests(sdk::Host& host, Runtime& runtime, const std::string& prefix);

}  // namespace plexus::api_manager
