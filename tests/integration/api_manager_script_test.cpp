// Script APIs (issue 7 item 2) through a running plexusd with the api-manager and connector
// plugins, on SQLite and PostgreSQL datasources: a Lua script queries the seeded "ops"
// datasource with a bound parameter and transforms the rows; invalid parameters are a 400;
// an injection attempt is only ever a bound value; endless loops are stopped (instruction
// limit: 500, deadline: 504) while the server keeps serving; io/os are script errors with
// the line for editors only; an uncaught query failure is a datasource error; every run is
// in the execution log with its error class.
#include <algorithm>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/api_manager_fixture.hpp"
#include "tests/support/plexusd_process.hpp"
#include "tests/support/postgres_db.hpp"

using nlohmann::json;
using plexus::test::bearer;
using plexus::test::Plexusd;

using namespace plexus::test;  // NOLINT: the fixture's helpers

namespace {

json script_api(const std::string& path, const std::string& script, json extra = json::object()) {
  json content = {{"path", path},
                  {"method", "GET"},
                  {"type", "script"},
                  {"script", script},
                  {"params",
                   {{"type", "object"},
                    {"properties", {{"role", {{"type", "string"}, {"maxLength", 100}}}}},
                    {"additionalProperties", false}}}};
  content.update(extra);
  return content;
}

const char* const kRoleNames = R"(
local rows, truncated = plexus.query("ops", "SELECT id, name, role FROM servers WHERE role = :role ORDER BY id",
                                     {role = params.role})
local names = plexus.array()
for i, row in ipairs(rows) do names[i] = string.upper(row.name) end
return {role = params.role, count = #rows, names = names, first_id = rows[1] and rows[1].id or plexus.null,
        truncated = truncated})";

bool logged_with(const json& items, int status, const std::string& error_class) {
  return std::any_of(items.begin(), items.end(), [&](const json& run) {
    return run["status"] == status && (status == 200 || run["error_class"] == error_class);
  });
}

}  // namespace

TEST_CASE_METHOD(ApiManagerOnEachBackend, "script APIs query with bound parameters, stay in their sandbox and limits, and are logged",
          "[api-manager][script]") {
  INFO("datasource database: " << backend);

  // Saving checks the script: a syntax error is named with its line, limits are bounded.
  auto refused = post(client, admin, "/api/v1/resources/api",
                      {{"id", "bad"}, {"content", script_api("ops/bad", "local x = 1\nreturn x +")}}, 400);
  auto problems = refused["error"]["details"]["problems"].dump();
  CHECK(problems.find("/script") != std::string::npos);
  CHECK(problems.find("script:2:") != std::string::npos);
  refused = post(client, admin, "/api/v1/resources/api",
                 {{"id", "bad"}, {"content", script_api("ops/bad", "return 1", {{"limits", {{"memory_mb", 0}}}})}},
                 400);
  CHECK(refused["error"]["details"]["problems"].dump().find("/limits/memory_mb") != std::string::npos);

  define_api(client, admin, "role-names", script_api("ops/script/names", kRoleNames));
  auto got = answer_of(client.Get("/runtime/ops/script/names?role=web", bearer(admin)));
  INFO(got.body.dump());
  REQUIRE(got.status == 200);
  CHECK(got.body == json::parse(R"({"role": "web", "count": 2, "names": ["WEB-01", "WEB-02"], "first_id": 1,
                                    "truncated": false})"));

  // Invalid parameters are refused before the script runs.
  got = answer_of(client.Get("/runtime/ops/script/names?colour=red", bearer(admin)));
  CHECK(got.status == 400);
  CHECK(names_field(got.body, "colour"));

  // Injection attempts reach the database as bound values only: no rows, the table intact.
  for (const auto* attempt : {"web' OR '1'='1", "web'; DROP TABLE servers; --", "' UNION SELECT 1, name, role FROM servers --"}) {
    INFO(attempt);
    got = answer_of(client.Get("/runtime/ops/script/names?role=" + httplib::detail::encode_query_param(attempt),
                               bearer(admin)));
    REQUIRE(got.status == 200);
    CHECK(got.body["count"] == 0);
    CHECK(got.body["names"] == json::array());
    CHECK(got.body["role"] == attempt);
  }
  got = answer_of(client.Get("/runtime/ops/script/names?role=db", bearer(admin)));
  CHECK(got.body["names"] == json::parse(R"(["DB-01"])"));

  // An endless loop: stopped by the instruction limit (500) or the API's timeout (504).
  define_api(client, admin, "spin", script_api("ops/script/spin", "while true do end", {{"limits", {{"instructions", 100000}}}}));
  define_api(client, admin, "spin-slow",
             script_api("ops/script/spin-slow", "while true do pcall(function() while true do end end) end",
                        {{"limits", {{"instructions", 1000000000}}}, {"timeout_ms", 300}}));
  got = answer_of(client.Get("/runtime/ops/script/spin", bearer(admin)));
  CHECK(got.status == 500);
  CHECK(got.body["error"]["code"] == "script_instruction_limit");
  CHECK(got.body["error"]["message"].get<std::string>().find("100000 instructions") != std::string::npos);
  got = answer_of(client.Get("/runtime/ops/script/spin-slow", bearer(admin)));
  CHECK(got.status == 504);
  CHECK(got.body["error"]["code"] == "script_timeout");
  // ... and the server keeps serving.
  CHECK(answer_of(client.Get("/runtime/ops/script/names?role=web", bearer(admin))).status == 200);

  // io and os are not there: a script error, its line shown to editors only.
  define_api(client, admin, "peek",
             script_api("ops/script/peek", "local f = io.open('/etc/passwd')\nreturn f:read('a')", {{"public", true}}));
  define_api(client, admin, "shell", script_api("ops/script/shell", "return os.execute('id')", {{"public", true}}));
  for (const auto* path : {"/runtime/ops/script/peek", "/runtime/ops/script/shell"}) {
    INFO(path);
    got = answer_of(client.Get(path, bearer(admin)));
    CHECK(got.status == 500);
    CHECK(got.body["error"]["code"] == "script_error");
    CHECK(got.body["error"]["details"]["reason"].get<std::string>().find("script:1:") != std::string::npos);
    got = answer_of(client.Get(path));
    CHECK(got.status == 500);
    CHECK_FALSE(got.body["error"].contains("details"));
    CHECK(got.body.dump().find("script:1:") == std::string::npos);
  }

  // A query that fails, uncaught: a datasource error; caught with pcall: the script goes on.
  define_api(client, admin, "broken",
             script_api("ops/script/broken", "return plexus.query('ops', 'SELECT id FROM no_such_table')"));
  got = answer_of(client.Get("/runtime/ops/script/broken", bearer(admin)));
  CHECK(got.status == 502);
  CHECK(got.body["error"]["code"] == "datasource_error");
  CHECK(got.body["error"]["details"]["reason"].get<std::string>().find("no_such_table") != std::string::npos);
  define_api(client, admin, "careful",
             script_api("ops/script/careful",
                        "local ok, err = pcall(plexus.query, 'ops', 'SELECT id FROM no_such_table')\n"
                        "return {ok = ok, failed = string.find(err, 'no_such_table', 1, true) ~= nil}"));
  got = answer_of(client.Get("/runtime/ops/script/careful", bearer(admin)));
  CHECK(got.status == 200);
  CHECK(got.body == json::parse(R"({"ok": false, "failed": true})"));

  // Every run is in the execution log with its error class.
  auto runs = answer_of(client.Get("/api/v1/api-manager/executions?api=role-names&limit=100", bearer(admin)));
  REQUIRE(runs.status == 200);
  CHECK(logged_with(runs.body["items"], 200, ""));
  CHECK(logged_with(runs.body["items"], 400, "validation"));
  runs = answer_of(client.Get("/api/v1/api-manager/executions?api=spin", bearer(admin)));
  CHECK(logged_with(runs.body["items"], 500, "script"));
  runs = answer_of(client.Get("/api/v1/api-manager/executions?api=spin-slow", bearer(admin)));
  CHECK(logged_with(runs.body["items"], 504, "timeout"));
  runs = answer_of(client.Get("/api/v1/api-manager/executions?api=shell", bearer(admin)));
  CHECK(logged_with(runs.body["items"], 500, "script"));
  runs = answer_of(client.Get("/api/v1/api-manager/executions?api=broken", bearer(admin)));
  CHECK(logged_with(runs.body["items"], 502, "datasource"));
  CHECK(plexus.stop() == 0);
}
