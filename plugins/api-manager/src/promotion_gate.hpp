// The pre-promotion hook of kind "api" (issue 7 items 5 and 13): on every stage, SQL its
// datasource cannot compile blocks, the API's own or a workflow step's (sql_check.hpp;
// the save hook checked it too, but a table may have gone since); before a revision goes to
// production, (1) its breaking changes against the revision production serves now
// block it unless the content accepts them for exactly that revision, and (2) every
// test suite of the API runs against it and any failing case blocks. The kernel answers 409 promotion_blocked with the problems.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <plexus/plugin.hpp>

#include "runtime.hpp"

namespace plexus::api_manager {

// The breaking changes from production (revision `production_revision`, `production_content`)
// to `content` as problems; none when there are none or when content's
// "compatibility": {"accept_breaking": production_revision, "migration_note"} accepts them.
std::vector<std::string> compatibility_problems(std::int64_t production_revision,
                                                const nlohmann::json& production_content,
                                                const nlohmann::json& content);

// One problem per failing case of a suite report (api_tests.hpp run_suite).
std::vector<std::string> test_problems(const nlohmann::json& report);

// The hook: {"tenant","kind","id","stage","revision","content"} -> ["problem", ...] as JSON.
// It runs outside the store's write transaction while the store holds one pooled
// database session; it reads the production revision and the suites one at a time, so it
// needs one more session at once (store.pool_size must exceed concurrent promotions).
std::string check_promotion(sdk::Host& host, Runtime& runtime, std::string_view input_json);

}  // namespace plexus::api_manager
