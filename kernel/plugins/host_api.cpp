// The plexus_host_api table: every host service a plugin can call, each checking
// its arguments and the manifest's permissions, recording what it registers in the
// calling generation so that the host can revoke it all on unload.
#include <future>

#include <spdlog/logger.h>

#include <soci/soci.h>

#include "kernel/jobs/cluster_membership.hpp"
#include "kernel/log/log.hpp"
#include "kernel/plugins/host_api_support.hpp"
#include "kernel/plugins/runtime.hpp"
#include "kernel/store/json_batch.hpp"
#include "kernel/store/json_sql.hpp"
#include "kernel/store/migration_list.hpp"

namespace plexus::plugins {
namespace {
thread_local std::string last_error_text;
}  // namespace

std::string_view view(plexus_str s) { return s.ptr ? std::string_view(s.ptr, s.len) : std::string_view(); }
plexus_str str(std::string_view s) { return plexus_str{s.data(), s.size()}; }

plexus_status fail(plexus_status status, std::string message) {
  last_error_text = std::move(message);
  return status;
}

Generation* generation_of(plexus_host* host) { return host ? host->generation : nullptr; }

void append_to(void* target, plexus_str data) { static_cast<std::string*>(target)->append(data.ptr, data.len); }

CallerView::CallerView(const auth::Caller& who) {
  for (const auto& role : who.roles) roles.push_back(str(role));
  raw = plexus_caller{sizeof(plexus_caller), str(who.tenant),     str(who.user_id),
                      str(who.name),         str(auth::kind_name(who.kind)), roles.data(),
                      roles.size(),          str(who.request_id), str(who.ip),
                      &who};
}

namespace {

std::shared_ptr<spdlog::logger> plugin_logger(const Generation& generation) {
  return log::get("plugin." + generation.name());
}


// ---- basics --------------------------------------------------------------------

plexus_str last_error(plexus_host*) { return str(last_error_text); }

void log_message(plexus_host* host, int32_t level, plexus_str message) {
  auto* generation = generation_of(host);
  if (!generation) return;
  auto logger = plugin_logger(*generation);
  const auto text = view(message);
  switch (level) {
    case PLEXUS_LOG_TRACE: logger->trace("{}", text); break;
    case PLEXUS_LOG_DEBUG: logger->debug("{}", text); break;
    case PLEXUS_LOG_INFO: logger->info("{}", text); break;
    case PLEXUS_LOG_WARN: logger->warn("{}", text); break;
    default: logger->error("{}", text); break;
  }
}

plexus_status config_get(plexus_host* host, plexus_write_fn write, void* write_data) {
  auto* generation = generation_of(host);
  if (!generation || !write) return fail(PLEXUS_ERR_INVALID, "config_get needs a host and a write callback");
  const auto& config = generation->manifest().config;
  const std::string text = config.is_null() ? "{}" : config.dump();
  write(write_data, str(text));
  return PLEXUS_OK;
}

plexus_status plugin_info(plexus_host* host, plexus_write_fn write, void* write_data) {
  auto* generation = generation_of(host);
  if (!generation || !write) return fail(PLEXUS_ERR_INVALID, "plugin_info needs a host and a write callback");
  const std::string text = nlohmann::json{{"name", generation->name()},
                                          {"version", generation->metadata().version},
                                          {"generation", generation->number()}}
                               .dump();
  write(write_data, str(text));
  return PLEXUS_OK;
}

uint64_t plugin_generation(plexus_host* host) {
  auto* generation = generation_of(host);
  return generation ? generation->number() : 0;
}

// ---- metrics ---------------------------------------------------------------------

std::vector<std::string> strings_of(const plexus_str* items, size_t count) {
  std::vector<std::string> result;
  for (size_t i = 0; i < count; ++i) result.emplace_back(view(items[i]));
  return result;
}

plexus_status metric_register(plexus_host* host, int32_t kind, plexus_str name, plexus_str help,
                              const plexus_str* label_names, size_t label_count, uint64_t* out_metric) {
  auto* generation = generation_of(host);
  if (!generation || !out_metric || (label_count > 0 && !label_names)) {
    return fail(PLEXUS_ERR_INVALID, "metric_register: missing argument");
  }
  try {
    auto& registry = generation->host().metrics();
    auto labels = strings_of(label_names, label_count);
    Generation::Family family;
    switch (kind) {
      case PLEXUS_METRIC_COUNTER:
        family = &registry.counter(std::string(view(name)), std::string(view(help)), labels);
        break;
      case PLEXUS_METRIC_GAUGE: family = &registry.gauge(std::string(view(name)), std::string(view(help)), labels); break;
      case PLEXUS_METRIC_HISTOGRAM:
        family = &registry.histogram(std::string(view(name)), std::string(view(help)), labels);
        break;
      default: return fail(PLEXUS_ERR_INVALID, "metric_register: unknown kind " + std::to_string(kind));
    }
    std::lock_guard lock(generation->mutex);
    generation->metric_families.push_back(family);
    *out_metric = generation->metric_families.size();  // 1-based index
    return PLEXUS_OK;
  } catch (const std::exception& e) {
    return fail(PLEXUS_ERR_INVALID, std::string("metric_register: ") + e.what());
  }
}

plexus_status metric_update(plexus_host* host, uint64_t metric, const plexus_str* label_values, size_t label_count,
                            double value, bool set) {
  auto* generation = generation_of(host);
  if (!generation) return fail(PLEXUS_ERR_INVALID, "metric update without a host");
  Generation::Family family;
  {
    std::lock_guard lock(generation->mutex);
    if (metric == 0 || metric > generation->metric_families.size()) {
      return fail(PLEXUS_ERR_NOT_FOUND, "no metric with id " + std::to_string(metric));
    }
    family = generation->metric_families[metric - 1];
  }
  try {
    const auto values = strings_of(label_values, label_count);
    if (auto* counter = std::get_if<metrics::Family<metrics::Counter>*>(&family)) {
      if (set) return fail(PLEXUS_ERR_INVALID, "metric_set works on gauges only");
      (*counter)->with(values).inc(value);
    } else if (auto* gauge = std::get_if<metrics::Family<metrics::Gauge>*>(&family)) {
      if (set) {
        (*gauge)->with(values).set(value);
      } else {
        (*gauge)->with(values).inc(value);
      }
    } else {
      if (set) return fail(PLEXUS_ERR_INVALID, "metric_set works on gauges only");
      std::get<metrics::Family<metrics::Histogram>*>(family)->with(values).observe(value);
    }
    return PLEXUS_OK;
  } catch (const std::exception& e) {
    return fail(PLEXUS_ERR_INVALID, e.what());
  }
}

plexus_status metric_add(plexus_host* host, uint64_t metric, const plexus_str* labels, size_t count, double value) {
  return metric_update(host, metric, labels, count, value, false);
}

plexus_status metric_set(plexus_host* host, uint64_t metric, const plexus_str* labels, size_t count, double value) {
  return metric_update(host, metric, labels, count, value, true);
}

// ---- HTTP ------------------------------------------------------------------------

std::vector<plexus_pair> pairs_of(const std::vector<std::pair<std::string, std::string>>& items) {
  std::vector<plexus_pair> result;
  result.reserve(items.size());
  for (const auto& [name, value] : items) result.push_back({str(name), str(value)});
  return result;
}

std::vector<plexus_pair> pairs_of(const std::map<std::string, std::string>& items) {
  std::vector<plexus_pair> result;
  result.reserve(items.size());
  for (const auto& [name, value] : items) result.push_back({str(name), str(value)});
  return result;
}

http::Response serve_stream(const std::shared_ptr<Generation>& generation, plexus_http_response& built);

http::Handler make_handler(std::shared_ptr<Generation> generation, plexus_http_handler_fn fn, void* user_data) {
  return [generation, fn, user_data](http::Request& request) -> http::Response {
    auto lease = generation->try_lease();
    if (!lease) {
      // Matched an instant before a reload swapped the routes: the new generation serves it.
      thread_local int redirects = 0;  // a few reloads in a row at most, never a loop
      auto current = generation->host().router().match(request.method, request.path, http::Surface::api);
      if (redirects < 3 && current.outcome == http::RouteMatch::Outcome::found &&
          current.route->owner == generation->name()) {
        request.path_params = std::move(current.params);
        ++redirects;
        struct Undo {
          ~Undo() { --redirects; }
        } undo;
        return current.route->handler(request);
      }
      throw http::HttpError(503, "plugin_unavailable", "plugin " + generation->name() + " is not running");
    }
    if (!generation->breaker().allow()) {
      throw http::HttpError(503, "plugin_circuit_open",
                            "plugin " + generation->name() + " failed repeatedly and is paused; retry later");
    }
    const auto headers = pairs_of(request.headers.all());
    const auto params = pairs_of(request.path_params);
    const auto query = pairs_of(request.query);
    static const auth::Caller nobody;
    const auth::Caller& who = request.caller ? *request.caller : nobody;
    std::vector<plexus_str> roles;
    for (const auto& role : who.roles) roles.push_back(str(role));
    const plexus_caller caller{sizeof(plexus_caller), str(who.tenant),     str(who.user_id),
                               str(who.name),         str(auth::kind_name(who.kind)), roles.data(),
                               roles.size(),          str(request.request_id), str(request.remote_address),
                               &who};
    plexus_http_request raw{sizeof(plexus_http_request),
                            str(request.method),
                            str(request.path),
                            str(request.target),
                            str(request.body),
                            str(request.request_id),
                            str(request.remote_address),
                            headers.data(),
                            headers.size(),
                            params.data(),
                            params.size(),
                            query.data(),
                            query.size(),
                            &caller};
    plexus_http_response built;
    plexus_status status = PLEXUS_ERR_INTERNAL;
    std::string failure;
    try {
      status = fn(user_data, &raw, &built);
    } catch (const std::exception& e) {
      failure = e.what();  // a plugin without the SDK's barrier
    } catch (...) {
      failure = "non-standard exception";
    }
    if (status != PLEXUS_OK) {
      generation->breaker().failure();
      plugin_logger(*generation)
          ->error("handler for {} {} failed: {}", request.method, request.path,
                  failure.empty() ? "status " + std::to_string(status) : failure);
      throw http::HttpError(500, "plugin_error", "plugin " + generation->name() + " could not handle the request");
    }
    generation->breaker().success();
    if (built.stream_open) return serve_stream(generation, built);
    return std::move(built.response);
  };
}

plexus_status route_add(plexus_host* host, const plexus_route* route) {
  auto* generation = generation_of(host);
  if (!generation || !route || !PLEXUS_HAS_MEMBER(route, plexus_route, user_data) || !route->handler) {
    return fail(PLEXUS_ERR_INVALID, "route_add: incomplete plexus_route");
  }
  const std::string method(view(route->method));
  const std::string pattern(view(route->pattern));
  const auto& prefixes = generation->manifest().route_prefixes;
  if (!route_allowed(pattern, prefixes)) {
    if (prefixes.empty()) {
      return fail(
          PLEXUS_ERR_DENIED,
          "route " + pattern + " is refused: the manifest permits no routes (permissions.routes: [])");
    }
    std::string listed;
    for (const auto& prefix : prefixes) listed += (listed.empty() ? "" : ", ") + prefix;
    return fail(PLEXUS_ERR_DENIED, "route " + pattern + " is outside the plugin's route prefix" +
                                       (prefixes.size() > 1 ? "es " : " ") + listed);
  }
  static const std::vector<std::string> methods{"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
  if (std::find(methods.begin(), methods.end(), method) == methods.end()) {
    return fail(PLEXUS_ERR_INVALID, "route_add: unsupported method '" + method + "'");
  }
  std::lock_guard lock(generation->mutex);
  for (const auto& existing : generation->routes) {
    if (existing.method == method && existing.pattern == pattern) {
      return fail(PLEXUS_ERR_CONFLICT, "route " + method + " " + pattern + " is registered twice");
    }
  }
  http::Route kernel_route{method, pattern, make_handler(generation->shared_from_this(), route->handler, route->user_data),
                           http::Surface::api, generation->name()};
  kernel_route.non_blocking =
      PLEXUS_HAS_MEMBER(route, plexus_route, flags) && (route->flags & PLEXUS_ROUTE_NONBLOCKING) != 0;
  // ABI 1.0 routes declare no permission: denied to every caller, said once here.
  if (PLEXUS_HAS_MEMBER(route, plexus_route, permission)) kernel_route.permission = view(route->permission);
  if (PLEXUS_HAS_MEMBER(route, plexus_route, summary)) kernel_route.summary = view(route->summary);
  if (kernel_route.permission.empty()) {
    plugin_logger(*generation)
        ->warn("route {} {} declares no permission: every call will be denied", method, pattern);
  } else if (kernel_route.permission.find_first_of(" \t\r\n") != std::string::npos) {
    return fail(PLEXUS_ERR_INVALID, "route_add: permission '" + kernel_route.permission + "' contains whitespace");
  }
  // Validate the pattern now rather than at the swap.
  try {
    http::Router probe;
    probe.add(kernel_route);
  } catch (const std::exception& e) {
    return fail(PLEXUS_ERR_INVALID, e.what());
  }
  generation->routes.push_back(std::move(kernel_route));
  return PLEXUS_OK;
}

void response_set_status(plexus_http_response* response, int32_t status) {
  if (response && status >= 100 && status <= 599) response->response.status = status;
}

void response_set_header(plexus_http_response* response, plexus_str name, plexus_str value) {
  if (!response) return;
  const auto n = view(name);
  const auto v = view(value);
  // Header injection: names are tokens, values single-line.
  if (n.empty() || n.find_first_of(" \t\r\n:") != std::string_view::npos) return;
  if (v.find_first_of("\r\n") != std::string_view::npos) return;
  response->response.headers.set(n, std::string(v));
}

void response_set_body(plexus_http_response* response, plexus_str body) {
  if (response) response->response.body.assign(view(body));
}

plexus_status response_stream(plexus_http_response* response, plexus_stream_open_fn open, void* user_data) {
  if (!response || !open) return fail(PLEXUS_ERR_INVALID, "response_stream needs a response and a callback");
  if (response->stream_open) return fail(PLEXUS_ERR_CONFLICT, "response_stream was already called");
  response->stream_open = open;
  response->stream_user_data = user_data;
  return PLEXUS_OK;
}

// The stream keeps a lease for as long as it is open, so the code behind its
// callbacks stays loaded; a retiring generation closes its streams first.
http::Response serve_stream(const std::shared_ptr<Generation>& generation, plexus_http_response& built) {
  auto response = http::Response::event_stream(
      [generation, open = built.stream_open, user_data = built.stream_user_data](std::shared_ptr<http::EventStream> stream) {
        auto lease = generation->try_lease();
        if (!lease) return stream->close();
        auto shared_lease = std::make_shared<Lease>(std::move(*lease));
        stream->on_close([shared_lease]() mutable { shared_lease.reset(); });
        auto handle = std::make_unique<plexus_event_stream>();
        handle->stream = stream;
        handle->generation = generation.get();
        plexus_event_stream* raw = handle.get();
        {
          std::lock_guard lock(generation->mutex);
          generation->streams.emplace(raw, std::move(handle));
          generation->open_streams.push_back(stream);
        }
        open(user_data, raw);
      });
  for (const auto& [name, value] : built.response.headers.all()) {
    if (name != "Content-Type") response.headers.set(name, value);
  }
  return response;
}

plexus_status stream_send(plexus_event_stream* stream, plexus_str event, plexus_str data, plexus_str id) {
  if (!stream) return fail(PLEXUS_ERR_INVALID, "stream_send without a stream");
  auto live = stream->stream.lock();
  if (!live || !live->send(view(event), view(data), view(id))) return fail(PLEXUS_ERR_UNAVAILABLE, "stream is closed");
  return PLEXUS_OK;
}

void stream_close(plexus_event_stream* stream) {
  if (!stream) return;
  if (auto live = stream->stream.lock()) live->close();
}

void stream_on_close(plexus_event_stream* stream, plexus_callback_fn callback, void* user_data) {
  if (!stream || !callback) return;
  if (auto live = stream->stream.lock()) {
    live->on_close([callback, user_data] { callback(user_data); });
  } else {
    callback(user_data);
  }
}

// ---- timers ----------------------------------------------------------------------

struct TimerState : std::enable_shared_from_this<TimerState> {
  TimerState(std::shared_ptr<Generation> g, http::net::io_context& ioc, std::chrono::milliseconds every, bool again,
             plexus_timer_fn callback, void* data)
      : generation(std::move(g)), timer(ioc), interval(every), repeat(again), fn(callback), user_data(data) {}

  void arm() {
    timer.expires_after(interval);
    timer.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec || self->cancelled) return;
      // Plugin code runs on a worker, never on the timer thread, and only under a lease.
      http::net::post(self->generation->host().runtime().workers, [self] {
        if (self->cancelled) return;
        auto lease = self->generation->try_lease();
        if (!lease) return;
        self->fn(self->user_data);
        if (self->repeat && !self->cancelled) http::net::post(self->timer.get_executor(), [self] { self->arm(); });
      });
    });
  }
  void cancel() {
    cancelled = true;
    http::net::post(timer.get_executor(), [self = shared_from_this()] { self->timer.cancel(); });
  }

  std::shared_ptr<Generation> generation;
  http::net::steady_timer timer;
  std::chrono::milliseconds interval;
  bool repeat;
  plexus_timer_fn fn;
  void* user_data;
  std::atomic<bool> cancelled{false};
};

plexus_status timer_start(plexus_host* host, uint64_t interval_ms, int32_t repeat, plexus_timer_fn fn,
                          void* user_data, uint64_t* out_timer) {
  auto* generation = generation_of(host);
  if (!generation || !fn || !out_timer) return fail(PLEXUS_ERR_INVALID, "timer_start: missing argument");
  if (interval_ms == 0 && repeat) return fail(PLEXUS_ERR_INVALID, "timer_start: a repeating timer needs an interval");
  if (!generation->accepting()) return fail(PLEXUS_ERR_UNAVAILABLE, "the plugin is stopping");
  auto state = std::make_shared<TimerState>(generation->shared_from_this(), generation->host().runtime().timers,
                                            std::chrono::milliseconds(interval_ms), repeat != 0, fn, user_data);
  {
    std::lock_guard lock(generation->mutex);
    *out_timer = generation->next_id++;
    generation->timers.emplace(*out_timer, [state] { state->cancel(); });
  }
  http::net::post(state->timer.get_executor(), [state] { state->arm(); });
  return PLEXUS_OK;
}

plexus_status timer_cancel(plexus_host* host, uint64_t timer) {
  auto* generation = generation_of(host);
  if (!generation) return fail(PLEXUS_ERR_INVALID, "timer_cancel without a host");
  std::function<void()> cancel;
  {
    std::lock_guard lock(generation->mutex);
    auto it = generation->timers.find(timer);
    if (it == generation->timers.end()) return fail(PLEXUS_ERR_NOT_FOUND, "no timer " + std::to_string(timer));
    cancel = std::move(it->second);
    generation->timers.erase(it);
  }
  cancel();
  return PLEXUS_OK;
}

// ---- services and tools -----------------------------------------------------------

// Wraps a plugin's JSON function: it runs only under a lease of its generation.
std::function<plexus_status(std::string_view, std::string&, std::string&)> leased_call(
    std::shared_ptr<Generation> generation, plexus_service_fn fn, void* user_data) {
  return [generation, fn, user_data](std::string_view input, std::string& output, std::string& error) {
    auto lease = generation->try_lease();
    if (!lease) {
      error = "plugin " + generation->name() + " is not running";
      return PLEXUS_ERR_UNAVAILABLE;
    }
    const plexus_status status = fn(user_data, str(input), &append_to, &output);
    if (status != PLEXUS_OK) error = "plugin " + generation->name() + " returned status " + std::to_string(status);
    return status;
  };
}

plexus_status service_register(plexus_host* host, plexus_str name, plexus_service_fn fn, void* user_data) {
  auto* generation = generation_of(host);
  if (!generation || !fn) return fail(PLEXUS_ERR_INVALID, "service_register: missing argument");
  const std::string service(view(name));
  if (!events::valid_topic(service)) {
    return fail(PLEXUS_ERR_INVALID, "service name '" + service + "' must be dot-separated [a-z0-9_-] segments");
  }
  if (!topic_allowed(service, generation->manifest().service_patterns)) {
    return fail(PLEXUS_ERR_DENIED, "service '" + service + "' is outside the manifest's permissions.services");
  }
  if (!generation->host().services().available(service, generation->name())) {
    return fail(PLEXUS_ERR_CONFLICT, "service '" + service + "' belongs to another plugin");
  }
  std::lock_guard lock(generation->mutex);
  generation->services.push_back({service, generation->name(), leased_call(generation->shared_from_this(), fn, user_data)});
  return PLEXUS_OK;
}

plexus_status service_call(plexus_host* host, plexus_str name, plexus_str input_json, uint64_t timeout_ms,
                           plexus_write_fn write, void* write_data) {
  auto* generation = generation_of(host);
  if (!generation || !write) return fail(PLEXUS_ERR_INVALID, "service_call: missing argument");
  auto service = generation->host().services().find(view(name));
  auto& calls = generation->host().metrics().counter("plexus_service_calls_total",
                                                     "Calls to plugin services, by service and outcome.",
                                                     {"service", "outcome"});
  if (!service) {
    calls.with({"(unknown)", "not_found"}).inc();
    return fail(PLEXUS_ERR_NOT_FOUND, "no service '" + std::string(view(name)) + "'");
  }
  struct Outcome {
    plexus_status status = PLEXUS_ERR_INTERNAL;
    std::string output;
    std::string error;
  };
  // The task owns everything it uses: a late answer after a timeout lands in a promise
  // nobody waits on, and the lease inside `call` keeps the service's code loaded.
  auto promise = std::make_shared<std::promise<Outcome>>();
  auto future = promise->get_future();
  http::net::post(generation->host().runtime().workers,
                  [service, input = std::string(view(input_json)), promise] {
                    Outcome outcome;
                    try {
                      outcome.status = service->call(input, outcome.output, outcome.error);
                    } catch (const std::exception& e) {
                      outcome.error = e.what();
                    }
                    promise->set_value(std::move(outcome));
                  });
  if (future.wait_for(std::chrono::milliseconds(timeout_ms)) != std::future_status::ready) {
    calls.with({service->name, "timeout"}).inc();
    return fail(PLEXUS_ERR_TIMEOUT, "service '" + service->name + "' did not answer within " +
                                        std::to_string(timeout_ms) + " ms");
  }
  auto outcome = future.get();
  if (outcome.status != PLEXUS_OK) {
    calls.with({service->name, "error"}).inc();
    return fail(outcome.status, outcome.error);
  }
  calls.with({service->name, "ok"}).inc();
  write(write_data, str(outcome.output));
  return PLEXUS_OK;
}

plexus_status tool_register(plexus_host* host, const plexus_tool* tool) {
  auto* generation = generation_of(host);
  if (!generation || !tool || !PLEXUS_HAS_MEMBER(tool, plexus_tool, user_data)) {
    return fail(PLEXUS_ERR_INVALID, "tool_register: incomplete plexus_tool");
  }
  const plexus_tool_call_fn call = PLEXUS_HAS_MEMBER(tool, plexus_tool, call) ? tool->call : nullptr;
  const plexus_service_fn handler = tool->handler;
  if (!call && !handler) return fail(PLEXUS_ERR_INVALID, "tool_register: the tool has no handler");
  const std::string name(view(tool->name));
  if (!events::valid_topic(name)) {
    return fail(PLEXUS_ERR_INVALID, "tool name '" + name + "' must be dot-separated [a-z0-9_-] segments");
  }
  const std::string schema_text(view(tool->input_schema_json));
  std::shared_ptr<const resources::ContentSchema> schema;
  if (!schema_text.empty()) {
    const auto parsed = nlohmann::json::parse(schema_text, nullptr, false);
    if (!parsed.is_object()) return fail(PLEXUS_ERR_INVALID, "tool '" + name + "': input schema is not a JSON object");
    try {
      schema = std::make_shared<const resources::ContentSchema>(parsed);
    } catch (const std::exception& e) {
      return fail(PLEXUS_ERR_INVALID, "tool '" + name + "': input schema: " + e.what());
    }
  }
  std::string permission = PLEXUS_HAS_MEMBER(tool, plexus_tool, permission) ? std::string(view(tool->permission)) : "";
  if (permission.find_first_of(" \t\r\n") != std::string::npos) {
    return fail(PLEXUS_ERR_INVALID, "tool '" + name + "': permission '" + permission + "' contains whitespace");
  }
  // Tools without a declared permission (every tool built before ABI 1.4) need one
  // of their own, so a handler that cannot see the caller is never open to everyone.
  if (permission.empty()) permission = "tools.execute:" + name;
  if (!generation->host().tools().available(name, generation->name())) {
    return fail(PLEXUS_ERR_CONFLICT, "tool '" + name + "' belongs to another plugin");
  }
  std::lock_guard lock(generation->mutex);
  for (const auto& existing : generation->tools) {
    if (existing.name == name) return fail(PLEXUS_ERR_CONFLICT, "tool '" + name + "' is registered twice");
  }
  auto owner = generation->shared_from_this();
  generation->tools.push_back(
      {name, generation->name(), std::string(view(tool->description)), schema_text, permission, call != nullptr,
       std::move(schema),
       [owner, call, handler, user_data = tool->user_data](const auth::Caller& who, std::string_view input,
                                                            std::string& output) -> plexus_status {
         auto lease = owner->try_lease();
         if (!lease) {
           output = "plugin " + owner->name() + " is not running";
           return PLEXUS_ERR_UNAVAILABLE;
         }
         if (!call) return handler(user_data, str(input), &append_to, &output);
         const CallerView caller(who);
         return call(user_data, &caller.raw, str(input), &append_to, &output);
       }});
  return PLEXUS_OK;
}

// ---- events ----------------------------------------------------------------------

// Topics only the kernel publishes (resource changes): a plugin allowed to subscribe to
// them must not be able to forge them.
bool kernel_topic(std::string_view topic) { return topic.starts_with("resource."); }

plexus_status event_publish(plexus_host* host, plexus_str topic, plexus_str payload_json) {
  auto* generation = generation_of(host);
  if (!generation) return fail(PLEXUS_ERR_INVALID, "event_publish without a host");
  const std::string name(view(topic));
  if (!events::valid_topic(name)) return fail(PLEXUS_ERR_INVALID, "malformed topic '" + name + "'");
  if (!topic_allowed(name, generation->manifest().event_patterns)) {
    return fail(PLEXUS_ERR_DENIED, "topic '" + name + "' is outside the manifest's permissions.events");
  }
  if (kernel_topic(name))
    return fail(PLEXUS_ERR_DENIED, "topic '" + name + "' is published by the kernel only");
  if (!nlohmann::json::accept(view(payload_json))) return fail(PLEXUS_ERR_INVALID, "event payload is not valid JSON");
  generation->host().bus().publish(name, view(payload_json));
  return PLEXUS_OK;
}

plexus_status event_subscribe(plexus_host* host, plexus_str pattern, plexus_event_fn fn, void* user_data,
                              uint64_t* out_subscription) {
  auto* generation = generation_of(host);
  if (!generation || !fn || !out_subscription) return fail(PLEXUS_ERR_INVALID, "event_subscribe: missing argument");
  const std::string wanted(view(pattern));
  if (!events::valid_pattern(wanted)) return fail(PLEXUS_ERR_INVALID, "malformed topic pattern '" + wanted + "'");
  if (!topic_allowed(wanted, generation->manifest().event_patterns)) {
    return fail(PLEXUS_ERR_DENIED, "pattern '" + wanted + "' is outside the manifest's permissions.events");
  }
  std::weak_ptr<Generation> weak = generation->shared_from_this();
  const auto id = generation->host().bus().subscribe(
      wanted,
      [weak, fn, user_data](std::string_view topic, std::string_view payload) {
        auto live = weak.lock();
        if (!live) return;
        auto lease = live->try_lease();
        if (lease) fn(user_data, str(topic), str(payload));
      },
      generation->name() + "#" + std::to_string(generation->number()));
  std::lock_guard lock(generation->mutex);
  generation->subscriptions.push_back(id);
  *out_subscription = id;
  return PLEXUS_OK;
}

plexus_status event_unsubscribe(plexus_host* host, uint64_t subscription) {
  auto* generation = generation_of(host);
  if (!generation) return fail(PLEXUS_ERR_INVALID, "event_unsubscribe without a host");
  std::lock_guard lock(generation->mutex);
  auto it = std::find(generation->subscriptions.begin(), generation->subscriptions.end(), subscription);
  if (it == generation->subscriptions.end()) {
    return fail(PLEXUS_ERR_NOT_FOUND, "no subscription " + std::to_string(subscription));
  }
  generation->subscriptions.erase(it);
  generation->host().bus().unsubscribe(subscription);
  return PLEXUS_OK;
}

void stream_release(plexus_event_stream* stream) {
  if (!stream) return;
  auto* generation = stream->generation;
  std::lock_guard lock(generation->mutex);
  generation->streams.erase(stream);  // frees the handle
}

// ---- access and audit (ABI 1.1) -----------------------------------------------------

// Only callers the host made are trusted: a plugin cannot forge one.
const auth::Caller* caller_of(const plexus_caller* caller) {
  if (!PLEXUS_HAS_MEMBER(caller, plexus_caller, host_ref)) return nullptr;
  return static_cast<const auth::Caller*>(caller->host_ref);
}

plexus_status authz_check(plexus_host* host, const plexus_caller* caller, plexus_str permission, plexus_str resource) {
  if (!generation_of(host)) return fail(PLEXUS_ERR_INVALID, "authz_check without a host");
  const auto* who = caller_of(caller);
  if (!who) return fail(PLEXUS_ERR_INVALID, "authz_check needs the caller the host passed to the handler");
  std::string wanted(view(permission));
  if (wanted.empty()) return fail(PLEXUS_ERR_INVALID, "authz_check needs a permission");
  if (resource.len > 0) wanted += ":" + std::string(view(resource));
  if (who->can(wanted)) return PLEXUS_OK;
  return fail(PLEXUS_ERR_DENIED, "the caller lacks the permission " + wanted);
}

plexus_status audit(plexus_host* host, const plexus_caller* caller, plexus_str event_json) {
  auto* generation = generation_of(host);
  if (!generation) return fail(PLEXUS_ERR_INVALID, "audit without a host");
  const auto& sink = generation->host().options().audit;
  if (!sink) return fail(PLEXUS_ERR_UNAVAILABLE, "this host keeps no audit log");
  const auto* who = caller ? caller_of(caller) : nullptr;
  if (caller && !who) return fail(PLEXUS_ERR_INVALID, "audit needs the caller the host passed to the handler");
  auto event = nlohmann::json::parse(view(event_json), nullptr, false);
  if (!event.is_object() || !event.contains("action") || !event["action"].is_string() ||
      event["action"].get<std::string>().empty()) {
    return fail(PLEXUS_ERR_INVALID, "audit: event_json must be an object with a non-empty \"action\"");
  }
  if (event.contains("target") && !event["target"].is_string()) {
    return fail(PLEXUS_ERR_INVALID, "audit: \"target\" must be a string");
  }
  if (event.contains("outcome")) {
    const auto& outcome = event["outcome"];
    if (!outcome.is_string() || (outcome != "success" && outcome != "failure" && outcome != "denied")) {
      return fail(PLEXUS_ERR_INVALID, "audit: \"outcome\" must be success, failure or denied");
    }
  }
  const auto& name = generation->name();
  auto action = event["action"].get<std::string>();
  if (!action.starts_with(name + ".")) event["action"] = name + "." + action;
  try {
    sink(who, name, event);
  } catch (const std::exception& e) {
    return fail(PLEXUS_ERR_INTERNAL, std::string("audit: ") + e.what());
  }
  return PLEXUS_OK;
}

// ---- ABI 1.4: tools for a caller, the cluster leader, keyed and queued events ------------

plexus_status tool_call(plexus_host* host, const plexus_caller* caller, plexus_str name, plexus_str input_json,
                        uint64_t timeout_ms, plexus_write_fn write, void* write_data) {
  auto* generation = generation_of(host);
  if (!generation || !write) return fail(PLEXUS_ERR_INVALID, "tool_call needs a host and a write callback");
  const auto* who = caller_of(caller);
  if (!who) return fail(PLEXUS_ERR_INVALID, "tool_call needs the caller the host passed to the plugin");
  const auto result = generation->host().call_tool(*who, view(name), view(input_json),
                                                   std::chrono::milliseconds(timeout_ms),
                                                   "plugin:" + generation->name());
  switch (result.outcome) {
    case ToolCall::Outcome::ok: write(write_data, str(result.output)); return PLEXUS_OK;
    case ToolCall::Outcome::not_found: return fail(PLEXUS_ERR_NOT_FOUND, result.message);
    case ToolCall::Outcome::invalid: return fail(PLEXUS_ERR_INVALID, result.message);
    case ToolCall::Outcome::denied: return fail(PLEXUS_ERR_DENIED, result.message);
    case ToolCall::Outcome::timeout: return fail(PLEXUS_ERR_TIMEOUT, result.message);
    case ToolCall::Outcome::unavailable: return fail(PLEXUS_ERR_UNAVAILABLE, result.message);
    case ToolCall::Outcome::failed: break;
  }
  return fail(PLEXUS_ERR_INTERNAL, result.message);
}

plexus_status cluster_leader(plexus_host* host, int32_t* out_is_leader, plexus_write_fn write, void* write_data) {
  auto* generation = generation_of(host);
  if (!generation || !out_is_leader) return fail(PLEXUS_ERR_INVALID, "cluster_leader: missing argument");
  auto* cluster = generation->host().options().cluster;
  if (!cluster) return fail(PLEXUS_ERR_UNAVAILABLE, "this host is not part of a cluster");
  *out_is_leader = cluster->leader() ? 1 : 0;
  if (!write) return PLEXUS_OK;
  try {
    const auto status = cluster->status();
    const auto& leader = status.value("leader", nlohmann::json());
    const nlohmann::json answer{
        {"node_id", cluster->node_id()},
        {"leader", *out_is_leader == 1},
        {"leader_node", leader.is_object() ? leader.value("node_id", nlohmann::json()) : nlohmann::json()},
        {"token", leader.is_object() ? leader.value("token", nlohmann::json()) : nlohmann::json()}};
    write(write_data, str(answer.dump()));
  } catch (const std::exception& e) {
    return fail(PLEXUS_ERR_UNAVAILABLE, std::string("cluster_leader: ") + e.what());
  }
  return PLEXUS_OK;
}

plexus_status event_publish_keyed(plexus_host* host, plexus_str topic, plexus_str key, plexus_str payload_json) {
  auto* generation = generation_of(host);
  if (!generation) return fail(PLEXUS_ERR_INVALID, "event_publish_keyed without a host");
  const std::string name(view(topic));
  if (!events::valid_topic(name)) return fail(PLEXUS_ERR_INVALID, "malformed topic '" + name + "'");
  if (!topic_allowed(name, generation->manifest().event_patterns)) {
    return fail(PLEXUS_ERR_DENIED, "topic '" + name + "' is outside the manifest's permissions.events");
  }
  if (kernel_topic(name))
    return fail(PLEXUS_ERR_DENIED, "topic '" + name + "' is published by the kernel only");
  if (!nlohmann::json::accept(view(payload_json))) return fail(PLEXUS_ERR_INVALID, "event payload is not valid JSON");
  generation->host().bus().publish(name, view(payload_json), view(key));
  return PLEXUS_OK;
}

// {"capacity","overflow","lanes"} -> bus options; nullopt with `error` naming the field.
std::optional<events::SubscriptionOptions> queue_options(std::string_view text, std::string& error) {
  events::SubscriptionOptions options;
  options.queue_capacity = 1000;
  if (text.empty()) return options;
  const auto json = nlohmann::json::parse(text, nullptr, false);
  if (!json.is_object()) {
    error = "options_json must be a JSON object";
    return std::nullopt;
  }
  for (const auto& [key, value] : json.items()) {
    if (key == "capacity" || key == "lanes") {
      const auto limit = key == "capacity" ? events::kMaxQueueCapacity : events::kMaxLanes;
      if (!value.is_number_unsigned() || value.get<std::uint64_t>() < 1 || value.get<std::uint64_t>() > limit) {
        error = "options_json: \"" + key + "\" must be an integer from 1 to " + std::to_string(limit);
        return std::nullopt;
      }
      (key == "capacity" ? options.queue_capacity : options.lanes) = value.get<std::size_t>();
    } else if (key == "overflow") {
      const auto overflow = value.is_string() ? events::parse_overflow(value.get<std::string>()) : std::nullopt;
      if (!overflow) {
        error = "options_json: \"overflow\" must be \"block\", \"drop_oldest\" or \"drop_newest\"";
        return std::nullopt;
      }
      options.overflow = *overflow;
    } else {
      error = "options_json: unknown option \"" + key + "\" (expected capacity, overflow, lanes)";
      return std::nullopt;
    }
  }
  return options;
}

plexus_status event_subscribe_queued(plexus_host* host, plexus_str pattern, plexus_str options_json,
                                     plexus_event_fn fn, void* user_data, uint64_t* out_subscription) {
  auto* generation = generation_of(host);
  if (!generation || !fn || !out_subscription) {
    return fail(PLEXUS_ERR_INVALID, "event_subscribe_queued: missing argument");
  }
  const std::string wanted(view(pattern));
  if (!events::valid_pattern(wanted)) return fail(PLEXUS_ERR_INVALID, "malformed topic pattern '" + wanted + "'");
  if (!topic_allowed(wanted, generation->manifest().event_patterns)) {
    return fail(PLEXUS_ERR_DENIED, "pattern '" + wanted + "' is outside the manifest's permissions.events");
  }
  std::string error;
  auto options = queue_options(view(options_json), error);
  if (!options) return fail(PLEXUS_ERR_INVALID, std::move(error));
  options->owner = generation->name() + "#" + std::to_string(generation->number());
  options->name = generation->name();
  std::weak_ptr<Generation> weak = generation->shared_from_this();
  std::uint64_t id = 0;
  try {
    id = generation->host().bus().subscribe(
        wanted,
        [weak, fn, user_data](std::string_view topic, std::string_view payload) {
          auto live = weak.lock();
          if (!live) return;
          auto lease = live->try_lease();
          if (lease) fn(user_data, str(topic), str(payload));
        },
        std::move(*options));
  } catch (const std::invalid_argument& e) {
    return fail(PLEXUS_ERR_INVALID, std::string("event_subscribe_queued: ") + e.what());
  }
  std::lock_guard lock(generation->mutex);
  generation->subscriptions.push_back(id);
  *out_subscription = id;
  return PLEXUS_OK;
}

// ---- the kernel database (ABI 1.2) -----------------------------------------------------

constexpr std::size_t kMaxQueryRows = 10'000;

store::Database* database_of(Generation& generation) { return generation.host().options().database; }

// The JSON parameters of a statement: absent or empty means none.
std::optional<nlohmann::json> parameters(plexus_str params_json) {
  if (params_json.len == 0) return nlohmann::json();
  auto params = nlohmann::json::parse(view(params_json), nullptr, false);
  if (params.is_discarded() || !(params.is_object() || params.is_null())) return std::nullopt;
  return params;
}

plexus_status db_migrate(plexus_host* host, plexus_str migrations_json) {
  auto* generation = generation_of(host);
  if (!generation) return fail(PLEXUS_ERR_INVALID, "db_migrate without a host");
  auto* database = database_of(*generation);
  if (!database) return fail(PLEXUS_ERR_UNAVAILABLE, "this host has no database");
  try {
    store::migrate(*database, "plugin:" + generation->name(),
                   store::migration_list(view(migrations_json), database->backend()));
  } catch (const std::exception& e) {
    return fail(PLEXUS_ERR_INVALID, e.what());
  }
  return PLEXUS_OK;
}

// The database's own message: SOCI's what() adds the statement and every bound value
// ("... with :password=..."), and a plugin may log what it gets back.
std::string without_values(const soci::soci_error& error) {
  auto message = error.get_error_message();
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  return message;
}

plexus_status db_query(plexus_host* host, plexus_str sql, plexus_str params_json, uint64_t max_rows,
                       plexus_write_fn write, void* write_data) {
  auto* generation = generation_of(host);
  if (!generation || !write) return fail(PLEXUS_ERR_INVALID, "db_query needs a host and a write callback");
  auto* database = database_of(*generation);
  if (!database) return fail(PLEXUS_ERR_UNAVAILABLE, "this host has no database");
  const auto params = parameters(params_json);
  if (!params) return fail(PLEXUS_ERR_INVALID, "db_query: params_json must be a JSON object");
  const std::size_t limit = max_rows == 0 || max_rows > kMaxQueryRows ? kMaxQueryRows : max_rows;
  try {
    soci::session session(database->pool());
    const auto result = store::query_json(session, std::string(view(sql)), *params, limit);
    const std::string text =
        nlohmann::json{{"columns", result.columns}, {"rows", result.rows}, {"truncated", result.truncated}}.dump();
    write(write_data, str(text));
  } catch (const store::SqlParameterError& e) {
    return fail(PLEXUS_ERR_INVALID, std::string("db_query: ") + e.what());
  } catch (const soci::soci_error& e) {
    return fail(PLEXUS_ERR_INTERNAL, std::string("db_query: ") + without_values(e));
  } catch (const std::exception& e) {
    return fail(PLEXUS_ERR_INTERNAL, std::string("db_query: ") + e.what());
  }
  return PLEXUS_OK;
}

plexus_status db_exec(plexus_host* host, plexus_str sql, plexus_str params_json, int64_t* out_changed) {
  auto* generation = generation_of(host);
  if (!generation) return fail(PLEXUS_ERR_INVALID, "db_exec without a host");
  auto* database = database_of(*generation);
  if (!database) return fail(PLEXUS_ERR_UNAVAILABLE, "this host has no database");
  const auto params = parameters(params_json);
  if (!params) return fail(PLEXUS_ERR_INVALID, "db_exec: params_json must be a JSON object");
  try {
    soci::session session(database->pool());
    const auto changed = store::exec_json(session, std::string(view(sql)), *params);
    if (out_changed) *out_changed = changed;
  } catch (const store::SqlParameterError& e) {
    return fail(PLEXUS_ERR_INVALID, std::string("db_exec: ") + e.what());
  } catch (const soci::soci_error& e) {
    return fail(PLEXUS_ERR_INTERNAL, std::string("db_exec: ") + without_values(e));
  } catch (const std::exception& e) {
    return fail(PLEXUS_ERR_INTERNAL, std::string("db_exec: ") + e.what());
  }
  return PLEXUS_OK;
}

plexus_status db_exec_batch(plexus_host* host, plexus_str sql, plexus_str batch_json, int64_t* out_changed) {
  auto* generation = generation_of(host);
  if (!generation) return fail(PLEXUS_ERR_INVALID, "db_exec_batch without a host");
  auto* database = database_of(*generation);
  if (!database) return fail(PLEXUS_ERR_UNAVAILABLE, "this host has no database");
  try {
    soci::session session(database->pool());
    const auto changed = store::exec_json_batch(session, std::string(view(sql)), view(batch_json));
    if (out_changed) *out_changed = changed;
  } catch (const store::SqlParameterError& e) {
    return fail(PLEXUS_ERR_INVALID, std::string("db_exec_batch: ") + e.what());
  } catch (const soci::soci_error& e) {
    return fail(PLEXUS_ERR_INTERNAL, std::string("db_exec_batch: ") + without_values(e));
  } catch (const std::exception& e) {
    return fail(PLEXUS_ERR_INTERNAL, std::string("db_exec_batch: ") + e.what());
  }
  return PLEXUS_OK;
}

const plexus_host_api table = {
    sizeof(plexus_host_api),
    PLEXUS_ABI_MAJOR,
    PLEXUS_ABI_MINOR,
    &last_error,
    &log_message,
    &config_get,
    &plugin_info,
    &plugin_generation,
    &metric_register,
    &metric_add,
    &metric_set,
    &route_add,
    &response_set_status,
    &response_set_header,
    &response_set_body,
    &response_stream,
    &stream_send,
    &stream_close,
    &stream_on_close,
    &stream_release,
    &timer_start,
    &timer_cancel,
    &service_register,
    &service_call,
    &tool_register,
    &event_publish,
    &event_subscribe,
    &event_unsubscribe,
    &authz_check,
    &audit,
    &db_migrate,
    &db_query,
    &db_exec,
    &resource_kind_register,
    &resource_get,
    &resource_list,
    &driver_register,
    &datasource_query,
    &datasource_execute,
    &datasource_schema,
    &tool_call,
    &cluster_leader,
    &event_publish_keyed,
    &event_subscribe_queued,
    &job_handler_register,
    &job_progress,
    &job_info,
    &job_enqueue,
    &job_get,
    &job_cancel,
    &schedule_put,
    &schedule_remove,
    &schedule_pause,
    &schedule_resume,
    &db_exec_batch,
};

}  // namespace

const plexus_host_api* host_api() { return &table; }

}  // namespace plexus::plugins
