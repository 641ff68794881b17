#include "script_api.hpp"

#include <lua.hpp>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>

#include "pointer_token.hpp"
#include "rows_body.hpp"
#include "sql_api.hpp"

// Lua reports errors with longjmp, which skips C++ destructors. So every function below
// that calls a Lua function able to raise (allocation, luaL_check*, lua_error) keeps no
// C++ object with a destructor alive across that call: C++ work happens in inner blocks
// or with non-raising Lua calls only, and its results wait in RunState.

namespace plexus::api_manager {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

constexpr int kMaxDepth = 64;               // nesting of tables/JSON either way
constexpr std::size_t kMaxLogBytes = 2000;  // per plexus.log line
constexpr int kMaxLogLines = 100;           // per run
constexpr std::uint64_t kHookEvery = 1000;  // instructions between limit checks

// Registry keys: their addresses are unique.
char kArrayKey;  // the metatable marking a table as a JSON array
char kStopKey;   // the error value raised when a limit stops the script

enum class Stop { none, instructions, deadline, memory, closing };

struct RunState {
  lua_State* main = nullptr;
  std::size_t used = 0;
  std::size_t max_memory = 0;
  bool memory_exceeded = false;
  std::uint64_t instructions = 0;
  std::uint64_t max_instructions = 0;
  std::uint64_t hook_every = kHookEvery;
  Stop stop = Stop::none;
  ExecContext* context = nullptr;
  const json* params = nullptr;
  std::string api_id;
  int log_lines = 0;
  // A failure of plexus.query/plexus.api and the message raised for it: when the script
  // does not catch it, the run ends with this outcome rather than a script error.
  std::string failure_message;
  std::optional<Outcome> failure;
  std::string error_text;  // the message a C function is about to raise
  json scratch;            // a result a C function is about to push
};

RunState* state_of(lua_State* L) {
  void* ud = nullptr;
  lua_getallocf(L, &ud);
  return static_cast<RunState*>(ud);
}

// The allocator: refuses to grow past the memory limit (Lua then raises "not enough memory").
void* allocate(void* ud, void* ptr, std::size_t osize, std::size_t nsize) {
  auto* state = static_cast<RunState*>(ud);
  const std::size_t old = ptr == nullptr ? 0 : osize;
  if (nsize == 0) {
    std::free(ptr);
    state->used -= old;
    return nullptr;
  }
  if (nsize > old && state->used - old + nsize > state->max_memory) {
    state->memory_exceeded = true;
    return nullptr;
  }
  void* grown = std::realloc(ptr, nsize);
  if (grown != nullptr) state->used = state->used - old + nsize;
  return grown;
}

// Every kHookEvery instructions: the limits and the deadline. Once stopped, the hook fires
// on every instruction, so a script that catches the error with pcall cannot go on.
void count_hook(lua_State* L, lua_Debug*) {
  RunState* state = state_of(L);
  state->instructions += state->hook_every;
  if (state->stop == Stop::none) {
    if (state->memory_exceeded) {
      state->stop = Stop::memory;
    } else if (state->instructions >= state->max_instructions) {
      state->stop = Stop::instructions;
    } else if (std::chrono::steady_clock::now() >= state->context->deadline) {
      state->stop = Stop::deadline;
    }
  }
  if (state->stop == Stop::none) return;
  state->hook_every = 1;
  lua_sethook(L, count_hook, LUA_MASKCOUNT, 1);
  if (L != state->main) lua_sethook(state->main, count_hook, LUA_MASKCOUNT, 1);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kStopKey);  // interned at setup: no allocation here
  lua_error(L);
}

// Raises state->error_text; call with no C++ object alive in the caller's frame.
int raise_error(lua_State* L) {
  RunState* state = state_of(L);
  lua_pushlstring(L, state->error_text.data(), state->error_text.size());
  return lua_error(L);
}

// ---- JSON -> Lua (may raise: only references and trivially destructible iterators) ----

template <class Json>
void push_json(lua_State* L, const Json& value, int depth) {
  luaL_checkstack(L, 4, "the value is nested too deep");
  if (depth > kMaxDepth) luaL_error(L, "the value is nested more than %d deep", kMaxDepth);
  switch (value.type()) {
    case Json::value_t::boolean:
      lua_pushboolean(L, value.template get<bool>() ? 1 : 0);
      return;
    case Json::value_t::number_integer:
      lua_pushinteger(L, static_cast<lua_Integer>(value.template get<std::int64_t>()));
      return;
    case Json::value_t::number_unsigned: {
      const auto number = value.template get<std::uint64_t>();
      if (number <= static_cast<std::uint64_t>(INT64_MAX)) {
        lua_pushinteger(L, static_cast<lua_Integer>(number));
      } else {
        lua_pushnumber(L, static_cast<lua_Number>(number));
      }
      return;
    }
    case Json::value_t::number_float:
      lua_pushnumber(L, value.template get<double>());
      return;
    case Json::value_t::string: {
      const auto& text = value.template get_ref<const typename Json::string_t&>();
      lua_pushlstring(L, text.data(), text.size());
      return;
    }
    case Json::value_t::array: {
      lua_createtable(L, static_cast<int>(value.size()), 0);
      lua_Integer i = 0;
      for (auto it = value.begin(); it != value.end(); ++it) {
        push_json(L, *it, depth + 1);
        lua_rawseti(L, -2, ++i);
      }
      lua_rawgetp(L, LUA_REGISTRYINDEX, &kArrayKey);
      lua_setmetatable(L, -2);
      return;
    }
    case Json::value_t::object: {
      lua_createtable(L, 0, static_cast<int>(value.size()));
      for (auto it = value.begin(); it != value.end(); ++it) {
        const auto& key = it.key();
        lua_pushlstring(L, key.data(), key.size());
        push_json(L, it.value(), depth + 1);
        lua_rawset(L, -3);
      }
      return;
    }
    default:  // null (plexus.null), discarded, binary
      lua_pushlightuserdata(L, nullptr);
      return;
  }
}

// ---- Lua -> JSON (throws std::runtime_error; calls only Lua functions that never raise) ----

std::string kind_of(lua_State* L, int index) { return lua_typename(L, lua_type(L, index)); }

json to_json(lua_State* L, int index, int depth) {
  index = lua_absindex(L, index);
  switch (lua_type(L, index)) {
    case LUA_TNIL:
      return nullptr;
    case LUA_TBOOLEAN:
      return lua_toboolean(L, index) != 0;
    case LUA_TNUMBER: {
      if (lua_isinteger(L, index)) return static_cast<std::int64_t>(lua_tointeger(L, index));
      const double number = lua_tonumber(L, index);
      if (!std::isfinite(number)) throw std::runtime_error("a number that is not finite (inf or nan) is not JSON");
      return number;
    }
    case LUA_TSTRING: {
      std::size_t size = 0;
      const char* text = lua_tolstring(L, index, &size);  // a string already: no conversion
      return std::string(text, size);
    }
    case LUA_TLIGHTUSERDATA:
      if (lua_touserdata(L, index) == nullptr) return nullptr;  // plexus.null
      break;
    case LUA_TTABLE:
      break;
    default:
      throw std::runtime_error("a " + kind_of(L, index) + " value cannot become JSON");
  }
  if (lua_type(L, index) != LUA_TTABLE) throw std::runtime_error("a userdata value cannot become JSON");
  if (depth > kMaxDepth) {
    throw std::runtime_error("tables are nested more than " + std::to_string(kMaxDepth) +
                             " deep (does a table contain itself?)");
  }
  if (!lua_checkstack(L, 4)) throw std::runtime_error("tables are nested too deep");
  bool marked = false;
  if (lua_getmetatable(L, index) != 0) {
    lua_rawgetp(L, LUA_REGISTRYINDEX, &kArrayKey);
    marked = lua_rawequal(L, -1, -2) != 0;
    lua_pop(L, 2);
  }
  // One pass to learn the keys: 1..n integers make an array, strings an object.
  std::int64_t count = 0, max_index = 0;
  bool integers = true, strings = true;
  lua_pushnil(L);
  while (lua_next(L, index) != 0) {
    ++count;
    if (lua_type(L, -2) == LUA_TSTRING) {
      integers = false;
    } else {
      strings = false;
      if (lua_isinteger(L, -2) && lua_tointeger(L, -2) > 0) {
        max_index = std::max<std::int64_t>(max_index, lua_tointeger(L, -2));
      } else {
        integers = false;
      }
    }
    lua_pop(L, 1);
  }
  if (count == 0) return marked ? json::array() : json::object();
  if (integers && max_index == count) {
    json out = json::array();
    for (std::int64_t i = 1; i <= count; ++i) {
      lua_rawgeti(L, index, i);
      out.push_back(to_json(L, -1, depth + 1));
      lua_pop(L, 1);
    }
    return out;
  }
  if (integers) throw std::runtime_error("an array has holes (use plexus.null for a missing value)");
  if (!strings) {
    throw std::runtime_error(
        "a table mixes keys: a JSON array needs keys 1..n, an object string keys only");
  }
  if (marked) throw std::runtime_error("a table marked as an array has string keys");
  json out = json::object();
  lua_pushnil(L);
  while (lua_next(L, index) != 0) {
    std::size_t size = 0;
    const char* key = lua_tolstring(L, -2, &size);  // a string key: no conversion
    out[std::string(key, size)] = to_json(L, -1, depth + 1);
    lua_pop(L, 1);
  }
  return out;
}

// The value at `index` as JSON text for a host call; "" when it cannot be (error_text set).
bool json_argument(lua_State* L, int index, const char* what, bool object_only, std::string& out) {
  RunState* state = state_of(L);
  try {
    const json value = lua_isnoneornil(L, index) ? json::object() : to_json(L, index, 0);
    if (object_only && !value.is_object()) {
      state->error_text = std::string(what) + " must be a table of named values";
      return false;
    }
    out = value.dump();
    return true;
  } catch (const json::exception&) {
    state->error_text = std::string(what) + " holds text that is not valid UTF-8";
  } catch (const std::exception& e) {
    state->error_text = std::string(what) + ": " + e.what();
  }
  return false;
}

// ---- the plexus table ----

// plexus.query(datasource, sql [, params]) -> rows (array of row tables), truncated
int lua_query(lua_State* L) {
  luaL_checkstring(L, 1);
  luaL_checkstring(L, 2);
  RunState* state = state_of(L);
  bool ok = false;
  {
    const std::string datasource = lua_tostring(L, 1);
    const std::string sql = lua_tostring(L, 2);
    std::string params;
    if (state->context->host == nullptr) {
      state->error_text = "plexus.query is not available here: this run has no host";
    } else if (json_argument(L, 3, "the parameters of plexus.query", true, params)) {
      try {
        state->scratch = json::parse(rows_as_objects(state->context->host->datasource_query(
                                         state->context->tenant, datasource, sql, params, 0,
                                         state->context->remaining_ms()))
                                         .text);
        ok = true;
      } catch (const sdk::Error& e) {
        state->error_text = "plexus.query on '" + datasource + "' failed: " + e.what();
        state->failure_message = state->error_text;
        state->failure = datasource_failure(e, state->context->request_id);
      } catch (const std::exception& e) {
        state->error_text = "plexus.query on '" + datasource + "': the answer cannot be read: " + e.what();
      }
    }
  }
  if (!ok) return raise_error(L);
  push_json(L, state->scratch["rows"], 0);
  lua_pushboolean(L, state->scratch.value("truncated", false) ? 1 : 0);
  state->scratch = nullptr;
  return 2;
}

// plexus.api(id [, params]) -> the other API's answer
int lua_api(lua_State* L) {
  luaL_checkstring(L, 1);
  RunState* state = state_of(L);
  bool ok = false;
  {
    const std::string id = lua_tostring(L, 1);
    std::string params;
    if (!state->context->call_api) {
      state->error_text = "plexus.api is not available here: this run cannot call other APIs";
    } else if (json_argument(L, 2, "the parameters of plexus.api", true, params)) {
      try {
        auto out = state->context->call_api(id, json::parse(params), state->context->deadline);
        if (out.ok()) {
          state->scratch = json::parse(out.text());
          ok = true;
        } else {
          state->error_text = "plexus.api('" + id + "') failed with " + std::to_string(out.status) + " (" +
                              out.code + "): " + out.message;
          state->failure_message = state->error_text;
          state->failure = std::move(out);
        }
      } catch (const std::exception& e) {
        state->error_text = "plexus.api('" + id + "') failed: " + e.what();
      }
    }
  }
  if (!ok) return raise_error(L);
  push_json(L, state->scratch, 0);
  state->scratch = nullptr;
  return 1;
}

// plexus.tool(name [, input]) -> the tool's answer, run with the caller's permissions
int lua_tool(lua_State* L) {
  luaL_checkstring(L, 1);
  RunState* state = state_of(L);
  bool ok = false;
  {
    const std::string name = lua_tostring(L, 1);
    std::string input;
    if (state->context->host == nullptr || state->context->caller == nullptr) {
      state->error_text = "plexus.tool needs a caller: this run has none (a schedule, a batch or a test)";
    } else if (json_argument(L, 2, "the input of plexus.tool", false, input)) {
      try {
        state->scratch = json::parse(state->context->host->call_tool(state->context->sdk_caller(), name, input,
                                                                     state->context->remaining_ms()));
        ok = true;
      } catch (const std::exception& e) {
        state->error_text = "plexus.tool('" + name + "') failed: " + e.what();
      }
    }
  }
  if (!ok) return raise_error(L);
  push_json(L, state->scratch, 0);
  state->scratch = nullptr;
  return 1;
}

// plexus.log(...) and print(...): one info line in the server log, tagged with the API and request.
int lua_log_line(lua_State* L) {
  const int n = lua_gettop(L);
  luaL_Buffer buffer;
  luaL_buffinit(L, &buffer);
  for (int i = 1; i <= n; ++i) {
    if (i > 1) luaL_addchar(&buffer, '\t');
    luaL_tolstring(L, i, nullptr);
    luaL_addvalue(&buffer);
  }
  luaL_pushresult(&buffer);
  RunState* state = state_of(L);
  if (state->context->host == nullptr || state->log_lines >= kMaxLogLines) return 0;
  ++state->log_lines;
  {
    std::size_t size = 0;
    const char* text = lua_tolstring(L, -1, &size);
    std::string line = "API " + state->api_id + " request " + state->context->request_id + ": " +
                       std::string(text, std::min(size, kMaxLogBytes));
    if (size > kMaxLogBytes) line += "...";
    if (state->log_lines == kMaxLogLines) line += " (log limit reached: later lines are dropped)";
    try {
      state->context->host->info(line);
    } catch (const std::exception&) {
      // A log line that cannot be written is not the script's failure.
    }
  }
  return 0;
}

// plexus.array([t]) -> t marked as a JSON array (an empty one answers [] rather than {}).
int lua_array(lua_State* L) {
  if (lua_isnoneornil(L, 1)) {
    lua_settop(L, 0);
    lua_newtable(L);
  } else {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
  }
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kArrayKey);
  lua_setmetatable(L, 1);
  return 1;
}

// load() of text chunks only: binary chunks could break the VM.
int safe_load(lua_State* L) {
  int n = lua_gettop(L);
  if (n < 3) {
    lua_settop(L, 3);
    n = 3;
  }
  lua_pushliteral(L, "t");
  lua_replace(L, 3);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, n, LUA_MULTRET);
  return lua_gettop(L);
}

// setmetatable() without finalizers: Lua runs __gc with hooks off, so a finalizer could
// loop past every limit.
int safe_setmetatable(lua_State* L) {
  if (lua_type(L, 2) == LUA_TTABLE) {
    lua_pushliteral(L, "__gc");
    if (lua_rawget(L, 2) != LUA_TNIL) return luaL_error(L, "finalizers (__gc) are not allowed in scripts");
    lua_pop(L, 1);
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

// The sandbox's globals, in protected mode: base (without file access, collectgarbage and
// warn), coroutine, table, string (without dump), math, utf8, os.time/clock/date/difftime.
int setup(lua_State* L) {
  RunState* state = state_of(L);
  lua_pushliteral(L, "the script was stopped");
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kStopKey);
  lua_newtable(L);
  lua_pushliteral(L, "array");
  lua_setfield(L, -2, "__name");
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kArrayKey);

  const luaL_Reg libs[] = {{LUA_GNAME, luaopen_base},        {LUA_COLIBNAME, luaopen_coroutine},
                           {LUA_TABLIBNAME, luaopen_table},  {LUA_STRLIBNAME, luaopen_string},
                           {LUA_MATHLIBNAME, luaopen_math},  {LUA_UTF8LIBNAME, luaopen_utf8}};
  for (const auto& lib : libs) {
    luaL_requiref(L, lib.name, lib.func, 1);
    lua_pop(L, 1);
  }
  lua_pushglobaltable(L);
  for (const char* name : {"dofile", "loadfile", "collectgarbage", "warn"}) {
    lua_pushnil(L);
    lua_setfield(L, -2, name);
  }
  lua_getfield(L, -1, "load");
  lua_pushcclosure(L, safe_load, 1);
  lua_setfield(L, -2, "load");
  lua_getfield(L, -1, "setmetatable");
  lua_pushcclosure(L, safe_setmetatable, 1);
  lua_setfield(L, -2, "setmetatable");
  lua_pushcfunction(L, lua_log_line);
  lua_setfield(L, -2, "print");
  lua_getfield(L, -1, "string");
  lua_pushnil(L);
  lua_setfield(L, -2, "dump");
  lua_pop(L, 1);

  luaL_requiref(L, LUA_OSLIBNAME, luaopen_os, 0);
  lua_newtable(L);
  for (const char* name : {"time", "clock", "date", "difftime"}) {
    lua_getfield(L, -2, name);
    lua_setfield(L, -2, name);
  }
  lua_setfield(L, -3, "os");
  lua_pop(L, 1);

  const luaL_Reg plexus[] = {{"query", lua_query}, {"api", lua_api},     {"tool", lua_tool},
                             {"log", lua_log_line}, {"array", lua_array}, {nullptr, nullptr}};
  luaL_newlib(L, plexus);
  lua_pushlightuserdata(L, nullptr);
  lua_setfield(L, -2, "null");
  lua_setfield(L, -2, "plexus");

  push_json(L, *state->params, 0);
  lua_setfield(L, -2, "params");
  lua_pop(L, 1);
  return 0;
}

// The text of an error value without calling Lua functions that may raise.
std::string error_message(lua_State* L, int index) {
  if (lua_type(L, index) == LUA_TSTRING) {
    std::size_t size = 0;
    const char* text = lua_tolstring(L, index, &size);
    return std::string(text, size);
  }
  if (lua_type(L, index) == LUA_TNUMBER) return "error(" + std::to_string(lua_tonumber(L, index)) + ")";
  return "an error value of type " + kind_of(L, index) + " (error() with a string says more)";
}

bool ends_with(const std::string& text, const std::string& tail) {
  return !tail.empty() && text.size() >= tail.size() && text.compare(text.size() - tail.size(), tail.size(), tail) == 0;
}

struct StateCloser {
  RunState* state;
  void operator()(lua_State* L) const {
    // Finalizers (__gc) run on close: stopped at once, so none can run on.
    state->stop = Stop::closing;
    state->hook_every = 1;
    lua_sethook(L, count_hook, LUA_MASKCOUNT, 1);
    lua_close(L);
  }
};

std::string megabytes(std::size_t bytes) { return std::to_string(bytes >> 20) + " MB"; }

}  // namespace

void validate_script_content(const json& content, json& problems) {
  auto problem = [&](const std::string& pointer, const std::string& message) {
    problems.push_back({{"pointer", pointer}, {"message", message}});
  };
  const auto it = content.find("script");
  if (it == content.end() || it->is_null()) {
    problem("/script", "is required: the Lua 5.4 source of the API");
  } else if (!it->is_string()) {
    problem("/script", "must be a string of Lua 5.4 source");
  } else if (it->get<std::string>().find_first_not_of(" \t\r\n") == std::string::npos) {
    problem("/script", "must not be empty");
  } else if (const auto error = check_script_syntax(it->get<std::string>()); !error.empty()) {
    problem("/script", error);
  }
  if (const auto limits = content.find("limits"); limits != content.end()) {
    if (!limits->is_object()) {
      problem("/limits", "must be an object {\"instructions\": n, \"memory_mb\": n}");
      return;
    }
    for (const auto& [key, value] : limits->items()) {
      const std::int64_t high = key == "instructions" ? kMaxScriptInstructions : kMaxScriptMemoryMb;
      const std::int64_t low = key == "instructions" ? 1000 : 1;
      if (key != "instructions" && key != "memory_mb") {
        problem("/limits/" + pointer_token(key), "is not a script limit (instructions, memory_mb)");
      } else if (!value.is_number_integer() || value.get<std::int64_t>() < low || value.get<std::int64_t>() > high) {
        problem("/limits/" + key, "must be a whole number from " + std::to_string(low) + " to " + std::to_string(high));
      }
    }
  }
}

std::string check_script_syntax(const std::string& source) {
  RunState state;
  state.max_memory = ScriptLimits{}.max_memory_bytes;
  lua_State* L = lua_newstate(allocate, &state);
  if (L == nullptr) return "the script cannot be checked: out of memory";
  std::unique_ptr<lua_State, StateCloser> owner(L, StateCloser{&state});
  state.main = L;
  const int status = luaL_loadbufferx(L, source.data(), source.size(), "=script", "t");
  if (status == LUA_OK) return {};
  if (status == LUA_ERRMEM) return "the script is too large to compile within " + megabytes(state.max_memory);
  return error_message(L, -1);
}

ScriptLimits script_limits(const json& limits) {
  ScriptLimits out;
  if (!limits.is_object()) return out;
  if (const auto it = limits.find("instructions"); it != limits.end() && it->is_number_integer())
    out.max_instructions = it->get<std::uint64_t>();
  if (const auto it = limits.find("memory_mb"); it != limits.end() && it->is_number_integer())
    out.max_memory_bytes = it->get<std::size_t>() << 20;
  return out;
}

Outcome run_script(const std::string& source, const json& params, ExecContext& context, const ScriptLimits& limits) {
  return run_script(source, params, context, limits, std::string());
}

Outcome run_script(const std::string& source, const json& params, ExecContext& context, const ScriptLimits& limits,
                   const std::string& api_id) {
  const std::string request = " (request id " + context.request_id + ")";
  RunState state;
  state.max_memory = limits.max_memory_bytes;
  state.max_instructions = limits.max_instructions;
  state.hook_every = std::min<std::uint64_t>(kHookEvery, std::max<std::uint64_t>(limits.max_instructions, 1));
  state.context = &context;
  state.params = &params;
  state.api_id = api_id;
  auto memory_failure = [&] {
    return Outcome::failure(500, "script", "script_memory_limit",
                            "the script used more than " + megabytes(limits.max_memory_bytes) +
                                " of memory, its limit" + request,
                            json{{"reason", "memory limit " + megabytes(limits.max_memory_bytes) + " reached"}});
  };

  lua_State* L = lua_newstate(allocate, &state);
  if (L == nullptr) return memory_failure();
  std::unique_ptr<lua_State, StateCloser> owner(L, StateCloser{&state});
  state.main = L;

  lua_pushcfunction(L, setup);
  if (const int status = lua_pcall(L, 0, 0, 0); status != LUA_OK) {
    if (status == LUA_ERRMEM || state.memory_exceeded) return memory_failure();
    return Outcome::failure(500, "script", "script_error", "the script's parameters cannot be given to it" + request,
                            json{{"reason", error_message(L, -1)}});
  }
  if (const int status = luaL_loadbufferx(L, source.data(), source.size(), "=script", "t"); status != LUA_OK) {
    if (status == LUA_ERRMEM || state.memory_exceeded) return memory_failure();
    return Outcome::failure(500, "script", "script_syntax", "the script of this API does not compile" + request,
                            json{{"reason", error_message(L, -1)}});
  }
  lua_sethook(L, count_hook, LUA_MASKCOUNT, static_cast<int>(state.hook_every));
  const int status = lua_pcall(L, 0, 1, 0);
  // From here on no Lua code runs (no GC, so no finalizers) until the state is closed.
  lua_gc(L, LUA_GCSTOP);
  if (state.stop == Stop::deadline) {
    auto out = Outcome::failure(504, "timeout", "script_timeout",
                                "the script did not finish within the API's time limit" + request,
                                json{{"reason", "stopped at the deadline after about " +
                                                    std::to_string(state.instructions) + " instructions"}});
    out.transient = true;
    return out;
  }
  if (state.stop == Stop::instructions) {
    return Outcome::failure(500, "script", "script_instruction_limit",
                            "the script ran more than " + std::to_string(limits.max_instructions) +
                                " instructions, its limit; does it loop forever?" + request,
                            json{{"reason", "instruction limit " + std::to_string(limits.max_instructions) +
                                                " reached"}});
  }
  if (state.stop == Stop::memory || state.memory_exceeded || status == LUA_ERRMEM) return memory_failure();
  if (status != LUA_OK) {
    const auto reason = error_message(L, -1);
    if (state.failure && ends_with(reason, state.failure_message)) {
      // An uncaught failure of plexus.query or plexus.api: that outcome, with the script's line.
      auto out = *state.failure;
      if (!out.details.is_object()) out.details = json::object();
      out.details["script"] = reason;
      return out;
    }
    return Outcome::failure(500, "script", "script_error", "the script of this API failed" + request,
                            json{{"reason", reason}});
  }
  try {
    const json answer = to_json(L, -1, 0);
    return Outcome::success(ordered_json::parse(answer.dump()));
  } catch (const json::exception&) {
    return Outcome::failure(500, "script", "script_result", "the script's answer cannot become JSON" + request,
                            json{{"reason", "the answer holds text that is not valid UTF-8"}});
  } catch (const std::exception& e) {
    return Outcome::failure(500, "script", "script_result", "the script's answer cannot become JSON" + request,
                            json{{"reason", e.what()}});
  }
}

Outcome run_script_api(const CompiledApi& api, const json& params, ExecContext& context) {
  return run_script(api.def.script, params, context, script_limits(api.def.limits), api.def.id);
}

}  // namespace plexus::api_manager
