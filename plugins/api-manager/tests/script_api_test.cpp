// Script APIs (issue 7 item 2): the Lua sandbox without a host. Escapes refused, the
// instruction, memory and time limits stop a script (also one that catches the error),
// JSON <-> Lua mapping round trips, syntax errors named with their line, and the
// plexus.* functions that need a host or a caller fail cleanly without one.
#include <chrono>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "definition.hpp"
#include "script_api.hpp"

using nlohmann::json;
using namespace plexus::api_manager;  // NOLINT

namespace {

Outcome run(const std::string& source, const json& params = json::object(), ScriptLimits limits = {}) {
  ExecContext context;
  context.request_id = "req-1";
  return run_script(source, params, context, limits);
}

std::string reason(const Outcome& out) {
  return out.details.is_object() ? out.details.value("reason", std::string()) : std::string();
}

bool has_problem(const json& content, const std::string& pointer, const std::string& fragment) {
  for (const auto& p : validate_content(content)) {
    if (p["pointer"] == pointer && p["message"].get<std::string>().find(fragment) != std::string::npos) return true;
  }
  return false;
}

json script_api(const json& script) {
  return {{"path", "s"}, {"method", "GET"}, {"type", "script"}, {"script", script}};
}

}  // namespace

TEST_CASE("script content: the script must compile and the limits are bounded", "[api-manager][script]") {
  CHECK(validate_content(script_api("return 1")).empty());
  CHECK(has_problem(script_api(""), "/script", "must not be empty"));
  CHECK(has_problem(script_api(42), "/script", "must be a string"));
  CHECK(has_problem({{"path", "s"}, {"method", "GET"}, {"type", "script"}}, "/script", "is required"));
  CHECK(has_problem(script_api("local x = 1\nreturn x +"), "/script", "script:2:"));
  auto content = script_api("return 1");
  content["limits"] = {{"instructions", 5000}, {"memory_mb", 4}};
  CHECK(validate_content(content).empty());
  content["limits"] = {{"instructions", 10}, {"memory_mb", 100000}, {"cpu", 1}};
  CHECK(has_problem(content, "/limits/instructions", "from 1000"));
  CHECK(has_problem(content, "/limits/memory_mb", "to 256"));
  CHECK(has_problem(content, "/limits/cpu", "is not a script limit"));
  content["limits"] = "fast";
  CHECK(has_problem(content, "/limits", "must be an object"));
  // A script API needs neither a datasource nor SQL; SQL fields are not for it.
  CHECK(check_script_syntax("return 1") == "");
  CHECK(check_script_syntax("\x1bLua") != "");
  const auto limits = script_limits({{"instructions", 5000}, {"memory_mb", 4}});
  CHECK(limits.max_instructions == 5000);
  CHECK(limits.max_memory_bytes == (4u << 20));
}

TEST_CASE("scripts cannot reach files, the OS, modules, bytecode or the debug library", "[api-manager][script]") {
  for (const auto* escape :
       {"return io.open('/etc/passwd')", "return os.execute('true')", "return os.getenv('HOME')",
        "return os.remove('/tmp/x')", "return require('os')", "return dofile('/etc/passwd')",
        "return loadfile('/etc/passwd')", "return debug.getregistry()", "return package.loadlib('x', 'y')",
        "return string.dump(function() end)", "return collectgarbage('count')",
        "local f, e = load('\\27Lua binary', 'x', 'b') error(e)", "local f, e = load(string.char(27) .. 'Lua') error(e)",
        "return setmetatable({}, {__gc = function() while true do end end})"}) {
    INFO(escape);
    const auto out = run(escape);
    CHECK(out.status == 500);
    CHECK(out.error_class == "script");
    CHECK(out.code == "script_error");
    // The caller's message holds no internals; the reason (for editors) has the line.
    CHECK(out.message.find("req-1") != std::string::npos);
    CHECK(reason(out).find("script:1:") != std::string::npos);
  }
  // Text chunks still load, and os keeps its clock.
  CHECK(run("return load('return 1 + 1')()").body == 2);
  CHECK(run("return type(os.time()) == 'number' and type(os.clock()) == 'number'").body == true);
  CHECK(run("return string.format('%d-%s', 7, ('x'):rep(3))").body == "7-xxx");
}

TEST_CASE("the instruction limit stops endless loops, even inside pcall", "[api-manager][script]") {
  ScriptLimits limits;
  limits.max_instructions = 100000;
  for (const auto* loop : {"while true do end",
                           "while true do pcall(function() while true do end end) end",
                           "local co = coroutine.wrap(function() while true do end end) co()",
                           "local ok = pcall(function() while true do end end) return 'escaped'"}) {
    INFO(loop);
    const auto out = run(loop, json::object(), limits);
    CHECK(out.status == 500);
    CHECK(out.error_class == "script");
    CHECK(out.code == "script_instruction_limit");
    CHECK(out.message.find("100000 instructions") != std::string::npos);
  }
  // Below the limit, a loop finishes.
  CHECK(run("local n = 0 for i = 1, 1000 do n = n + i end return n", json::object(), limits).body == 500500);
}

TEST_CASE("the memory limit stops a script that allocates without end", "[api-manager][script]") {
  ScriptLimits limits;
  limits.max_memory_bytes = 4u << 20;
  for (const auto* bomb : {"local t = {} for i = 1, 1e9 do t[i] = i end",
                           "local s = 'x' while true do s = s .. s end",
                           "return string.rep('x', 64 * 1024 * 1024)",
                           "local ok = pcall(string.rep, 'x', 64 * 1024 * 1024) local t = {} for i = 1, 10 do t[i] = i end return #t"}) {
    INFO(bomb);
    const auto out = run(bomb, json::object(), limits);
    CHECK(out.status == 500);
    CHECK(out.error_class == "script");
    CHECK(out.code == "script_memory_limit");
    CHECK(out.message.find("4 MB") != std::string::npos);
  }
  CHECK(run("return #string.rep('x', 1024 * 1024)", json::object(), limits).body == 1024 * 1024);
}

TEST_CASE("the deadline stops a script with a timeout outcome", "[api-manager][script]") {
  ExecContext context;
  context.request_id = "req-2";
  context.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(50);
  ScriptLimits limits;
  limits.max_instructions = static_cast<std::uint64_t>(kMaxScriptInstructions) * 1000;  // never the stop here
  const auto out = run_script("while true do end", json::object(), context, limits);
  CHECK(out.status == 504);
  CHECK(out.error_class == "timeout");
  CHECK(out.code == "script_timeout");
  CHECK(out.transient);
}

TEST_CASE("params and answers map between JSON and Lua", "[api-manager][script]") {
  const json params = json::parse(R"({
    "int": 42, "big": -9007199254740993, "float": 2.5, "whole_float": 3.0, "text": "héllo",
    "yes": true, "none": null, "list": [1, "two", null, {"x": []}], "empty_list": [], "empty_object": {},
    "nested": {"a": {"b": [1.5]}}})");
  // `return params` gives the same JSON back: integers stay integers, floats floats,
  // null is plexus.null, empty arrays stay arrays.
  auto out = run("return params", params);
  REQUIRE(out.ok());
  CHECK(json::parse(out.body.dump()) == params);
  CHECK(out.body["whole_float"].is_number_float());
  CHECK(out.body["big"].is_number_integer());

  out = run(R"(
    return {
      kind = math.type(params.int) .. "," .. math.type(params.float),
      null_is_sentinel = params.none == plexus.null,
      missing_is_nil = params.absent == nil,
      list_len = #params.list,
      third_is_null = params.list[3] == plexus.null,
      empty = {},
      empty_array = plexus.array(),
      marked = plexus.array({1, 2}),
      mixed = {1, 2, plexus.null},
    })", params);
  REQUIRE(out.ok());
  CHECK(out.body == json::parse(R"({"kind": "integer,float", "null_is_sentinel": true, "missing_is_nil": true,
                                    "list_len": 4, "third_is_null": true, "empty": {}, "empty_array": [],
                                    "marked": [1, 2], "mixed": [1, 2, null]})"));
  CHECK(run("return nil").body.is_null());
  CHECK(run("").body.is_null());
  CHECK(run("return 1 / 2").body == 0.5);
  CHECK(run("return 7 // 2").body == 3);
  CHECK(run("return 'a', 'b'").body == "a");

  // Values JSON cannot hold are script errors naming why.
  for (const auto& [source, why] : std::vector<std::pair<std::string, std::string>>{
           {"return function() end", "function"},
           {"return {1, nil, 3}", "holes"},
           {"return {1, 2, x = 3}", "mixes keys"},
           {"return {[true] = 1}", "mixes keys"},
           {"return 1 / 0", "not finite"},
           {"local t = {} t.self = t return t", "nested more than"},
           {"return '\\xff\\xfe'", "UTF-8"},
           {"return coroutine.create(function() end)", "thread"}}) {
    INFO(source);
    out = run(source);
    CHECK(out.status == 500);
    CHECK(out.code == "script_result");
    CHECK(reason(out).find(why) != std::string::npos);
  }
}

TEST_CASE("runtime errors name the line for editors, not for callers", "[api-manager][script]") {
  auto out = run("local x = 1\nlocal y = nil\nreturn x + y.z");
  CHECK(out.status == 500);
  CHECK(out.error_class == "script");
  CHECK(out.code == "script_error");
  CHECK(out.message.find("script:") == std::string::npos);
  CHECK(reason(out).find("script:3:") != std::string::npos);
  out = run("error('no servers found')");
  CHECK(reason(out).find("no servers found") != std::string::npos);
  out = run("error({code = 1})");
  CHECK(reason(out).find("table") != std::string::npos);
  // A script that does not compile any more (saved by an older version) says so.
  out = run("return (");
  CHECK(out.code == "script_syntax");
  CHECK(reason(out).find("script:1:") != std::string::npos);
}

TEST_CASE("plexus functions without a host, caller or API calls fail cleanly and can be caught",
          "[api-manager][script]") {
  auto out = run("return plexus.query('ops', 'SELECT 1')");
  CHECK(out.code == "script_error");
  CHECK(reason(out).find("plexus.query is not available") != std::string::npos);
  out = run("return plexus.tool('x', {})");
  CHECK(reason(out).find("plexus.tool needs a caller") != std::string::npos);
  out = run("return plexus.api('other', {})");
  CHECK(reason(out).find("plexus.api is not available") != std::string::npos);
  out = run("local ok, err = pcall(plexus.query, 'ops', 'SELECT 1') return {ok = ok, err = err}");
  REQUIRE(out.ok());
  CHECK(out.body["ok"] == false);
  CHECK(out.body["err"].get<std::string>().find("no host") != std::string::npos);
  // Logging without a host is a no-op, print too.
  CHECK(run("plexus.log('hello', 1) print('x') return true").body == true);
  // Argument errors name the argument.
  out = run("return plexus.query()");
  CHECK(reason(out).find("bad argument #1") != std::string::npos);
}

TEST_CASE("plexus.api returns the other API's answer and raises its failure", "[api-manager][script]") {
  ExecContext context;
  context.request_id = "req-3";
  json seen;
  context.deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  std::chrono::steady_clock::time_point given;
  context.call_api = [&](const std::string& id, const json& params, std::chrono::steady_clock::time_point deadline) {
    seen = {{"id", id}, {"params", params}};
    given = deadline;
    if (id == "missing") return Outcome::failure(404, "workflow", "api_not_found", "the API 'missing' does not exist");
    return Outcome::success(nlohmann::ordered_json::parse(R"({"rows": [{"id": 1}], "truncated": false})"), 1);
  };
  auto out = run_script("return plexus.api('servers', {role = 'web'}).rows[1].id", json::object(), context);
  REQUIRE(out.ok());
  CHECK(out.body == 1);
  CHECK(seen == json::parse(R"({"id": "servers", "params": {"role": "web"}})"));
  CHECK(given == context.deadline);  // the called API ends when the script must
  // Uncaught, the other API's failure is this run's outcome; caught, the script goes on.
  out = run_script("return plexus.api('missing')", json::object(), context);
  CHECK(out.status == 404);
  CHECK(out.code == "api_not_found");
  CHECK(out.details["script"].get<std::string>().find("missing") != std::string::npos);
  out = run_script("local ok, err = pcall(plexus.api, 'missing') return ok", json::object(), context);
  REQUIRE(out.ok());
  CHECK(out.body == false);
  out = run_script("return plexus.api('servers', {1, 2})", json::object(), context);
  CHECK(reason(out).find("table of named values") != std::string::npos);
}
