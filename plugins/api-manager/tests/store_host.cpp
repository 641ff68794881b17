#include "store_host.hpp"

#include <list>
#include <mutex>
#include <optional>
#include <sstream>

#include <catch2/catch.hpp>
#include <soci/soci.h>

#include "kernel/store/database.hpp"
#include "kernel/store/json_batch.hpp"
#include "kernel/store/json_sql.hpp"
#include "kernel/store/migration_list.hpp"

// The handle plugin code passes back with every host call.
struct plexus_host {
  plexus::api_manager::test::StoreHost::State* state;
};

// What a handler fills through response_set_*.
struct plexus_http_response {
  plexus::api_manager::test::TestResponse* out;
};

namespace plexus::api_manager::test {

struct StoreHost::State {
  plexus_host handle{this};
  plexus_host_api api{};
  std::unique_ptr<store::Database> database;
  std::string plugin;
  std::string config_json;
  std::unique_ptr<sdk::Host> host;

  mutable std::mutex mutex;
  struct Route {
    TestRoute info;
    plexus_http_handler_fn handler;
    void* user_data;
  };
  std::list<Route> routes;
  struct Timer {
    TestTimer info;
    plexus_timer_fn fn;
    void* user_data;
  };
  std::list<Timer> timers;
  std::vector<std::string> log;
  std::vector<std::string> metric_names;  // id - 1 -> family name
  std::map<std::string, double> metric_totals;
};

namespace {

thread_local std::string last_error;

StoreHost::State& state_of(plexus_host* handle) { return *handle->state; }
std::string text(plexus_str s) { return s.ptr ? std::string(s.ptr, s.len) : std::string(); }
plexus_str str(const std::string& s) { return plexus_str{s.data(), s.size()}; }

plexus_status fail(plexus_status status, std::string message) {
  last_error = std::move(message);
  return status;
}

plexus_str host_last_error(plexus_host*) { return str(last_error); }

void host_log(plexus_host* handle, int32_t level, plexus_str message) {
  auto& state = state_of(handle);
  std::lock_guard lock(state.mutex);
  state.log.push_back(std::to_string(level) + " " + text(message));
}

plexus_status host_config_get(plexus_host* handle, plexus_write_fn write, void* write_data) {
  write(write_data, str(state_of(handle).config_json));
  return PLEXUS_OK;
}

plexus_status host_plugin_info(plexus_host* handle, plexus_write_fn write, void* write_data) {
  const auto info =
      nlohmann::json{{"name", state_of(handle).plugin}, {"version", "0.0.0"}, {"generation", 1}}.dump();
  write(write_data, str(info));
  return PLEXUS_OK;
}

uint64_t host_plugin_generation(plexus_host*) { return 1; }

plexus_status host_metric_register(plexus_host* handle, int32_t, plexus_str name, plexus_str,
                                   const plexus_str*, size_t, uint64_t* out_metric) {
  auto& state = state_of(handle);
  std::lock_guard lock(state.mutex);
  state.metric_names.push_back(text(name));
  *out_metric = state.metric_names.size();
  return PLEXUS_OK;
}

plexus_status host_metric_add(plexus_host* handle, uint64_t metric, const plexus_str*, size_t, double value) {
  auto& state = state_of(handle);
  std::lock_guard lock(state.mutex);
  if (metric == 0 || metric > state.metric_names.size()) return fail(PLEXUS_ERR_NOT_FOUND, "no such metric");
  state.metric_totals[state.metric_names[metric - 1]] += value;
  return PLEXUS_OK;
}

plexus_status host_metric_set(plexus_host* handle, uint64_t metric, const plexus_str*, size_t, double value) {
  auto& state = state_of(handle);
  std::lock_guard lock(state.mutex);
  if (metric == 0 || metric > state.metric_names.size()) return fail(PLEXUS_ERR_NOT_FOUND, "no such metric");
  state.metric_totals[state.metric_names[metric - 1]] = value;
  return PLEXUS_OK;
}

plexus_status host_route_add(plexus_host* handle, const plexus_route* route) {
  auto& state = state_of(handle);
  std::lock_guard lock(state.mutex);
  state.routes.push_back({{text(route->method), text(route->pattern), text(route->permission), route->flags},
                          route->handler,
                          route->user_data});
  return PLEXUS_OK;
}

void host_response_set_status(plexus_http_response* response, int32_t status) {
  response->out->status = status;
}
void host_response_set_header(plexus_http_response* response, plexus_str name, plexus_str value) {
  response->out->headers[text(name)] = text(value);
}
void host_response_set_body(plexus_http_response* response, plexus_str body) {
  response->out->body = text(body);
}

plexus_status host_timer_start(plexus_host* handle, uint64_t interval_ms, int32_t repeat, plexus_timer_fn fn,
                               void* user_data, uint64_t* out_timer) {
  auto& state = state_of(handle);
  if (interval_ms == 0 && repeat)
    return fail(PLEXUS_ERR_INVALID, "timer_start: a repeating timer needs an interval");
  std::lock_guard lock(state.mutex);
  const std::uint64_t id = state.timers.size() + 1;
  state.timers.push_back({{id, interval_ms, repeat != 0, false}, fn, user_data});
  *out_timer = id;
  return PLEXUS_OK;
}

plexus_status host_timer_cancel(plexus_host* handle, uint64_t timer) {
  auto& state = state_of(handle);
  std::lock_guard lock(state.mutex);
  for (auto& item : state.timers) {
    if (item.info.id == timer) {
      item.info.cancelled = true;
      return PLEXUS_OK;
    }
  }
  return fail(PLEXUS_ERR_NOT_FOUND, "no timer " + std::to_string(timer));
}

// As kernel/plugins/host_api.cpp: absent or empty parameters mean none.
std::optional<nlohmann::json> parameters(plexus_str params_json) {
  if (params_json.len == 0) return nlohmann::json();
  auto params = nlohmann::json::parse(text(params_json), nullptr, false);
  if (params.is_discarded() || !(params.is_object() || params.is_null())) return std::nullopt;
  return params;
}

plexus_status host_db_migrate(plexus_host* handle, plexus_str migrations_json) {
  auto& state = state_of(handle);
  try {
    store::migrate(*state.database, "plugin:" + state.plugin,
                   store::migration_list(text(migrations_json), state.database->backend()));
  } catch (const std::exception& e) {
    return fail(PLEXUS_ERR_INVALID, e.what());
  }
  return PLEXUS_OK;
}

plexus_status host_db_query(plexus_host* handle, plexus_str sql, plexus_str params_json, uint64_t max_rows,
                            plexus_write_fn write, void* write_data) {
  auto& state = state_of(handle);
  const auto params = parameters(params_json);
  if (!params) return fail(PLEXUS_ERR_INVALID, "db_query: params_json must be a JSON object");
  const std::size_t limit = max_rows == 0 || max_rows > 10'000 ? 10'000 : max_rows;
  try {
    soci::session session(state.database->pool());
    const auto result = store::query_json(session, text(sql), *params, limit);
    const auto out =
        nlohmann::json{{"columns", result.columns}, {"rows", result.rows}, {"truncated", result.truncated}}
            .dump();
    write(write_data, str(out));
  } catch (const store::SqlParameterError& e) {
    return fail(PLEXUS_ERR_INVALID, std::string("db_query: ") + e.what());
  } catch (const std::exception& e) {
    return fail(PLEXUS_ERR_INTERNAL, std::string("db_query: ") + e.what());
  }
  return PLEXUS_OK;
}

plexus_status host_db_exec(plexus_host* handle, plexus_str sql, plexus_str params_json,
                           int64_t* out_changed) {
  auto& state = state_of(handle);
  const auto params = parameters(params_json);
  if (!params) return fail(PLEXUS_ERR_INVALID, "db_exec: params_json must be a JSON object");
  try {
    soci::session session(state.database->pool());
    const auto changed = store::exec_json(session, text(sql), *params);
    if (out_changed) *out_changed = changed;
  } catch (const store::SqlParameterError& e) {
    return fail(PLEXUS_ERR_INVALID, std::string("db_exec: ") + e.what());
  } catch (const std::exception& e) {
    return fail(PLEXUS_ERR_INTERNAL, std::string("db_exec: ") + e.what());
  }
  return PLEXUS_OK;
}

plexus_status host_db_exec_batch(plexus_host* handle, plexus_str sql, plexus_str batch_json, int64_t* out_changed) {
  auto& state = state_of(handle);
  try {
    soci::session session(state.database->pool());
    const auto changed = store::exec_json_batch(session, text(sql), text(batch_json));
    if (out_changed) *out_changed = changed;
  } catch (const store::SqlParameterError& e) {
    return fail(PLEXUS_ERR_INVALID, std::string("db_exec_batch: ") + e.what());
  } catch (const std::exception& e) {
    return fail(PLEXUS_ERR_INTERNAL, std::string("db_exec_batch: ") + e.what());
  }
  return PLEXUS_OK;
}

std::vector<std::string> segments(const std::string& path) {
  std::vector<std::string> out;
  std::stringstream in(path);
  for (std::string part; std::getline(in, part, '/');) {
    if (!part.empty()) out.push_back(part);
  }
  return out;
}

// "/a/{id}" and "/runtime/{path*}" (the rest of the path) as the kernel's router matches them.
std::optional<std::vector<std::pair<std::string, std::string>>> match(const std::string& pattern,
                                                                      const std::string& path) {
  const auto want = segments(pattern);
  const auto have = segments(path);
  std::vector<std::pair<std::string, std::string>> params;
  for (std::size_t i = 0; i < want.size(); ++i) {
    const auto& part = want[i];
    const bool parameter = part.size() > 2 && part.front() == '{' && part.back() == '}';
    if (parameter && part[part.size() - 2] == '*') {
      std::string rest;
      for (std::size_t j = i; j < have.size(); ++j) rest += (j == i ? "" : "/") + have[j];
      params.emplace_back(part.substr(1, part.size() - 3), rest);
      return params;
    }
    if (i >= have.size()) return std::nullopt;
    if (parameter) {
      params.emplace_back(part.substr(1, part.size() - 2), have[i]);
    } else if (part != have[i]) {
      return std::nullopt;
    }
  }
  if (want.size() != have.size()) return std::nullopt;
  return params;
}

}  // namespace

nlohmann::json TestResponse::json() const { return nlohmann::json::parse(body); }

StoreHost::StoreHost(const std::string& store_url, nlohmann::json config, std::string plugin)
    : state_(std::make_unique<State>()) {
  state_->database = std::make_unique<store::Database>(store::DatabaseOptions{store_url});
  state_->plugin = std::move(plugin);
  state_->config_json = config.dump();
  auto& api = state_->api;
  api.struct_size = sizeof(plexus_host_api);
  api.abi_major = PLEXUS_ABI_MAJOR;
  api.abi_minor = PLEXUS_ABI_MINOR;
  api.last_error = &host_last_error;
  api.log = &host_log;
  api.config_get = &host_config_get;
  api.plugin_info = &host_plugin_info;
  api.plugin_generation = &host_plugin_generation;
  api.metric_register = &host_metric_register;
  api.metric_add = &host_metric_add;
  api.metric_set = &host_metric_set;
  api.route_add = &host_route_add;
  api.response_set_status = &host_response_set_status;
  api.response_set_header = &host_response_set_header;
  api.response_set_body = &host_response_set_body;
  api.timer_start = &host_timer_start;
  api.timer_cancel = &host_timer_cancel;
  api.db_migrate = &host_db_migrate;
  api.db_query = &host_db_query;
  api.db_exec = &host_db_exec;
  api.db_exec_batch = &host_db_exec_batch;
  state_->host = std::make_unique<sdk::Host>(&state_->api, &state_->handle);
}

StoreHost::~StoreHost() = default;

sdk::Host& StoreHost::host() { return *state_->host; }

TestResponse StoreHost::call(const std::string& method, const std::string& path,
                             const std::vector<std::pair<std::string, std::string>>& query,
                             const TestCaller& caller, const std::string& body) {
  const State::Route* route = nullptr;
  std::vector<std::pair<std::string, std::string>> path_params;
  {
    std::lock_guard lock(state_->mutex);
    for (const auto& candidate : state_->routes) {
      if (candidate.info.method != method) continue;
      if (auto params = match(candidate.info.pattern, path)) {
        route = &candidate;
        path_params = std::move(*params);
        break;
      }
    }
  }
  if (route == nullptr) FAIL("no route for " << method << " " << path);

  const auto pairs = [](const std::vector<std::pair<std::string, std::string>>& items) {
    std::vector<plexus_pair> out;
    for (const auto& [name, value] : items) out.push_back({str(name), str(value)});
    return out;
  };
  const auto path_pairs = pairs(path_params);
  const auto query_pairs = pairs(query);
  const std::string request_id = "req-test-1";
  plexus_caller raw_caller{sizeof(plexus_caller),
                           str(caller.tenant),
                           str(caller.user_id),
                           str(caller.name),
                           str(caller.kind),
                           nullptr,
                           0,
                           str(request_id),
                           str(std::string("127.0.0.1")),
                           nullptr};
  plexus_http_request request{sizeof(plexus_http_request),
                              str(method),
                              str(path),
                              str(path),
                              str(body),
                              str(request_id),
                              str(std::string("127.0.0.1")),
                              nullptr,
                              0,
                              path_pairs.data(),
                              path_pairs.size(),
                              query_pairs.data(),
                              query_pairs.size(),
                              &raw_caller};
  TestResponse response;
  plexus_http_response raw_response{&response};
  const auto status = route->handler(route->user_data, &request, &raw_response);
  if (status != PLEXUS_OK) {  // as the kernel answers a failed handler
    response.status = 500;
    response.body =
        R"({"error":{"code":"internal","message":"the handler failed","details":{},"request_id":"req-test-1"}})";
  }
  return response;
}

std::vector<TestRoute> StoreHost::routes() const {
  std::lock_guard lock(state_->mutex);
  std::vector<TestRoute> out;
  for (const auto& route : state_->routes) out.push_back(route.info);
  return out;
}

std::vector<TestTimer> StoreHost::timers() const {
  std::lock_guard lock(state_->mutex);
  std::vector<TestTimer> out;
  for (const auto& timer : state_->timers) out.push_back(timer.info);
  return out;
}

int StoreHost::fire_timers() {
  std::vector<State::Timer*> due;
  {
    std::lock_guard lock(state_->mutex);
    for (auto& timer : state_->timers) {
      if (timer.info.cancelled) continue;
      due.push_back(&timer);
      if (!timer.info.repeat) timer.info.cancelled = true;  // a one-shot timer runs once
    }
  }
  for (auto* timer : due) timer->fn(timer->user_data);
  return static_cast<int>(due.size());
}

std::vector<std::string> StoreHost::log() const {
  std::lock_guard lock(state_->mutex);
  return state_->log;
}

double StoreHost::metric_total(const std::string& name) const {
  std::lock_guard lock(state_->mutex);
  const auto it = state_->metric_totals.find(name);
  return it == state_->metric_totals.end() ? 0 : it->second;
}

nlohmann::json StoreHost::query(const std::string& sql, const nlohmann::json& params) {
  soci::session session(state_->database->pool());
  const auto result = store::query_json(session, sql, params, 10'000);
  return result.rows;
}

void StoreHost::exec(const std::string& sql, const nlohmann::json& params) {
  soci::session session(state_->database->pool());
  store::exec_json(session, sql, params);
}

}  // namespace plexus::api_manager::test
