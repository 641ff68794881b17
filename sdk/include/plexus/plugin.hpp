// Plexus plugin SDK: a header-only C++ layer over abi.h. It needs nothing but the
// C++17 standard library, so a plugin built with another compiler or standard
// library still loads: only the C ABI crosses the boundary.
//
//   class Hello : public plexus::sdk::Plugin {
//    public:
//     void start() override {
//       host().route("GET", "/api/v1/hello", plexus::sdk::kPublic,
//                    [this](const plexus::sdk::Request&, plexus::sdk::Response& res) {
//                      res.json(200, "{\"hello\":\"world\"}");
//                    });
//     }
//   };
//   PLEXUS_PLUGIN(Hello, "hello", "1.0.0", "{\"type\":\"object\"}")
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "plexus/abi.h"

#define PLEXUS_SDK_VERSION "0.6.2"

namespace plexus::sdk {

inline std::string_view view(plexus_str s) { return s.ptr ? std::string_view(s.ptr, s.len) : std::string_view(); }
inline plexus_str str(std::string_view s) { return plexus_str{s.data(), s.size()}; }

// Thrown by host wrappers when a host call fails; the message is the host's reason.
class Error : public std::runtime_error {
 public:
  Error(plexus_status status, const std::string& message) : std::runtime_error(message), status_(status) {}
  plexus_status status() const { return status_; }

 private:
  plexus_status status_;
};

namespace detail {
inline void append_to_string(void* target, plexus_str data) {
  static_cast<std::string*>(target)->append(data.ptr, data.len);
}
}  // namespace detail

// Route permissions besides permission strings such as "notes.note.write".
inline constexpr std::string_view kPublic = PLEXUS_PERMISSION_PUBLIC;
inline constexpr std::string_view kAuthenticated = PLEXUS_PERMISSION_AUTHENTICATED;
// Anyone; credentials, when sent, are checked and Request::caller() says who calls.
inline constexpr std::string_view kOptional = PLEXUS_PERMISSION_OPTIONAL;

// Who makes the request; valid during the handler call only (copy what you keep).
class Caller {
 public:
  explicit Caller(const plexus_caller* raw) : raw_(raw) {}
  // False on an ABI 1.0 host, and in a save hook when the server itself saves.
  bool known() const { return raw_ != nullptr; }
  std::string_view tenant() const { return get(&plexus_caller::tenant); }
  std::string_view user_id() const { return get(&plexus_caller::user_id); }
  std::string_view name() const { return get(&plexus_caller::name); }
  std::string_view kind() const { return get(&plexus_caller::kind); }
  bool anonymous() const { return !raw_ || kind() == "anonymous"; }
  std::vector<std::string_view> roles() const {
    std::vector<std::string_view> out;
    if (raw_) {
      for (std::size_t i = 0; i < raw_->role_count; ++i) out.push_back(view(raw_->roles[i]));
    }
    return out;
  }
  const plexus_caller* raw() const { return raw_; }

 private:
  std::string_view get(plexus_str plexus_caller::*member) const { return raw_ ? view(raw_->*member) : std::string_view(); }
  const plexus_caller* raw_;
};

class Request {
 public:
  explicit Request(const plexus_http_request* raw) : raw_(raw) {}
  std::string_view method() const { return view(raw_->method); }
  std::string_view path() const { return view(raw_->path); }
  std::string_view target() const { return view(raw_->target); }
  std::string_view body() const { return view(raw_->body); }
  std::string_view request_id() const { return view(raw_->request_id); }
  std::string_view remote_address() const { return view(raw_->remote_address); }
  // Header names compare case-insensitively; "" when absent.
  std::string_view header(std::string_view name) const { return find(raw_->headers, raw_->header_count, name, true); }
  std::string_view param(std::string_view name) const {
    return find(raw_->path_params, raw_->path_param_count, name, false);
  }
  std::string_view query(std::string_view name) const { return find(raw_->query, raw_->query_count, name, false); }
  Caller caller() const {
    return Caller(PLEXUS_HAS_MEMBER(raw_, plexus_http_request, caller) ? raw_->caller : nullptr);
  }
  const plexus_http_request& raw() const { return *raw_; }

 private:
  static bool equal(std::string_view a, std::string_view b, bool fold) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      char x = a[i], y = b[i];
      if (fold) {
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
      }
      if (x != y) return false;
    }
    return true;
  }
  static std::string_view find(const plexus_pair* pairs, std::size_t count, std::string_view name, bool fold) {
    for (std::size_t i = 0; i < count; ++i) {
      if (equal(view(pairs[i].name), name, fold)) return view(pairs[i].value);
    }
    return {};
  }
  const plexus_http_request* raw_;
};

// A live Server-Sent Events stream; copies share one handle, released with the last.
class EventStream {
 public:
  EventStream() = default;
  EventStream(const plexus_host_api* api, plexus_event_stream* stream)
      : handle_(std::shared_ptr<plexus_event_stream>(stream, [api](plexus_event_stream* s) { api->stream_release(s); })),
        api_(api) {}
  // False once the stream is closed (client gone, too slow, or closed by us).
  bool send(std::string_view event, std::string_view data, std::string_view id = {}) const {
    return handle_ && api_->stream_send(handle_.get(), str(event), str(data), str(id)) == PLEXUS_OK;
  }
  void close() const {
    if (handle_) api_->stream_close(handle_.get());
  }
  explicit operator bool() const { return static_cast<bool>(handle_); }

 private:
  std::shared_ptr<plexus_event_stream> handle_;
  const plexus_host_api* api_ = nullptr;
};

class Response {
 public:
  using StreamOpen = std::function<void(EventStream)>;
  Response(const plexus_host_api* api, plexus_http_response* raw) : api_(api), raw_(raw) {}
  Response& status(int code) {
    api_->response_set_status(raw_, code);
    return *this;
  }
  Response& header(std::string_view name, std::string_view value) {
    api_->response_set_header(raw_, str(name), str(value));
    return *this;
  }
  Response& body(std::string_view body) {
    api_->response_set_body(raw_, str(body));
    return *this;
  }
  Response& json(int code, std::string_view json_text) {
    return status(code).header("Content-Type", "application/json").body(json_text);
  }
  Response& text(int code, std::string_view text) {
    return status(code).header("Content-Type", "text/plain; charset=utf-8").body(text);
  }
  // Turns this response into an SSE stream; `open` runs (on a worker) once it is live.
  void stream(StreamOpen open);

 private:
  const plexus_host_api* api_;
  plexus_http_response* raw_;
};

// A job being run (ABI 1.4); valid during the handler call only.
class Job {
 public:
  Job(const plexus_host_api* api, plexus_job* raw) : api_(api), raw_(raw) {}
  // Records progress (0..100); true when the job should stop (cancelled): return then.
  bool progress(int percent, std::string_view message = {}) const {
    return api_->job_progress(raw_, percent, str(message)) != 0;
  }
  // {"id","tenant","kind","attempts","max_attempts","priority"} as JSON text.
  std::string info_json() const {
    std::string out;
    api_->job_info(raw_, &detail::append_to_string, &out);
    return out;
  }
  plexus_job* raw() const { return raw_; }

 private:
  const plexus_host_api* api_;
  plexus_job* raw_;
};

class Metric {
 public:
  Metric() = default;
  Metric(const plexus_host_api* api, plexus_host* host, std::uint64_t id) : api_(api), host_(host), id_(id) {}
  // Counter: increment; gauge: add; histogram: observe.
  void add(double value, const std::vector<std::string_view>& labels = {}) const {
    if (api_ == nullptr) return;  // default-constructed: not registered (yet)
    std::vector<plexus_str> values;
    for (auto label : labels) values.push_back(str(label));
    api_->metric_add(host_, id_, values.data(), values.size(), value);
  }
  void set(double value, const std::vector<std::string_view>& labels = {}) const {
    if (api_ == nullptr) return;
    std::vector<plexus_str> values;
    for (auto label : labels) values.push_back(str(label));
    api_->metric_set(host_, id_, values.data(), values.size(), value);
  }

 private:
  const plexus_host_api* api_ = nullptr;
  plexus_host* host_ = nullptr;
  std::uint64_t id_ = 0;
};

// Typed access to the host services table. Callbacks are kept here, alive for the
// plugin's lifetime; the host revokes every registration before the plugin goes.
class Host {
 public:
  using Handler = std::function<void(const Request&, Response&)>;
  using JsonFunction = std::function<std::string(std::string_view input_json)>;

  Host(const plexus_host_api* api, plexus_host* host) : api_(api), host_(host) {}
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  const plexus_host_api* api() const { return api_; }
  plexus_host* raw() const { return host_; }

  void log(int level, std::string_view message) const { api_->log(host_, level, str(message)); }
  void debug(std::string_view message) const { log(PLEXUS_LOG_DEBUG, message); }
  void info(std::string_view message) const { log(PLEXUS_LOG_INFO, message); }
  void warn(std::string_view message) const { log(PLEXUS_LOG_WARN, message); }
  void error(std::string_view message) const { log(PLEXUS_LOG_ERROR, message); }

  std::string config_json() const { return read(api_->config_get); }
  std::string info_json() const { return read(api_->plugin_info); }
  std::uint64_t generation() const { return api_->plugin_generation(host_); }

  // `permission`: kPublic, kAuthenticated or a permission string, "{name}" standing for
  // a path parameter ("notes.note.read:{id}"). `flags`: PLEXUS_ROUTE_NONBLOCKING when
  // the handler never blocks (see abi.h).
  // `summary` (ABI 1.5): one line for the kernel's OpenAPI document.
  void route(std::string_view method, std::string_view pattern, std::string_view permission, Handler handler,
             std::uint32_t flags = 0, std::string_view summary = {}) {
    auto& slot = add_slot(routes_, RouteSlot{std::move(handler), this});
    plexus_route route{sizeof(plexus_route), str(method), str(pattern), &Host::call_route, &slot, flags,
                       str(permission), str(summary)};
    check(api_->route_add(host_, &route));
  }

  // May the caller do `permission` (on `resource`, when given)? False on a host
  // older than ABI 1.1, which cannot tell.
  bool allowed(const Caller& caller, std::string_view permission, std::string_view resource = {}) const {
    if (!PLEXUS_HAS_MEMBER(api_, plexus_host_api, authz_check) || !api_->authz_check || !caller.known()) {
      return false;
    }
    return api_->authz_check(host_, caller.raw(), str(permission), str(resource)) == PLEXUS_OK;
  }
  // Appends to the audit log: {"action", "target", "outcome"?, "before"?, "after"?, "details"?}
  // as JSON text. Pass the request's caller, or Caller(nullptr) when the plugin acts on its own.
  void audit(const Caller& caller, std::string_view event_json) const {
    if (!PLEXUS_HAS_MEMBER(api_, plexus_host_api, audit) || !api_->audit) {
      throw Error(PLEXUS_ERR_UNAVAILABLE, "the host has no audit log (ABI < 1.1)");
    }
    check(api_->audit(host_, caller.raw(), str(event_json)));
  }

  // The kernel database (ABI 1.2). `migrations_json`: [{"version":1,"description":"...",
  // "statements":["CREATE TABLE notes_items (...)"]}]. Queries bind ":name" values from
  // `params_json` ({"name": value}) and answer {"columns","rows","truncated"} as JSON text.
  void db_migrate(std::string_view migrations_json) {
    require_db();
    check(api_->db_migrate(host_, str(migrations_json)));
  }
  std::string db_query(std::string_view sql, std::string_view params_json = {}, std::uint64_t max_rows = 0) {
    require_db();
    std::string out;
    check(api_->db_query(host_, str(sql), str(params_json), max_rows, &detail::append_to_string, &out));
    return out;
  }
  std::int64_t db_exec(std::string_view sql, std::string_view params_json = {}) {
    require_db();
    std::int64_t changed = 0;
    check(api_->db_exec(host_, str(sql), str(params_json), &changed));
    return changed;
  }
  // Runs `sql` once per row of `batch_json`, {"columns": ["name", ...], "rows": [[...], ...]},
  // in one transaction (ABI 1.5): every row or none, the statement prepared once. Rows
  // changed in total.
  std::int64_t db_exec_batch(std::string_view sql, std::string_view batch_json) {
    require_db();
    require(PLEXUS_HAS_MEMBER(api_, plexus_host_api, db_exec_batch) && api_->db_exec_batch, "db_exec_batch");
    std::int64_t changed = 0;
    check(api_->db_exec_batch(host_, str(sql), str(batch_json), &changed));
    return changed;
  }

  // A kind of versioned resource this plugin owns (ABI 1.3), served under
  // /api/v1/resources/<name>. Each callback takes JSON text and answers JSON text
  // (see plexus_resource_kind); leave one empty when the kind needs none.
  using SaveFunction = std::function<std::string(const Caller& caller, std::string_view input_json)>;
  struct Kind {
    std::string name;
    std::string json_schema;        // empty: any JSON
    std::string permission_prefix;  // empty: the name
    bool requires_approval = false;
    JsonFunction validate;       // content -> [{"pointer","message"}]
    JsonFunction references;     // content -> [{"kind","id"}]
    JsonFunction pre_promotion;  // {"tenant","kind","id","stage","revision","content"} -> ["problem"]
    // ABI 1.5: where the store's routes of this kind are served a second time, under the
    // plugin's route prefix ("/api/v1/my-plugin/things"); empty: /api/v1/resources/<name> only.
    std::string route_prefix;
    // ABI 1.5: runs on every save of new content, after validate, and on every delete
    // and restore, told who saves:
    // {"tenant","kind","id","operation","content","previous"} -> [{"pointer","message"}]
    // (any problem: 422). "content" is null on "delete"; "previous" is null on "restore". Throw Error(PLEXUS_ERR_DENIED, message) to refuse with 403. The
    // caller is Caller(nullptr) (known() false) when the server itself saves (bootstrap).
    SaveFunction check_save;
  };
  void resource_kind(Kind kind) {
    require(PLEXUS_HAS_MEMBER(api_, plexus_host_api, resource_kind_register), "resource kinds");
    auto hook = [this](JsonFunction fn) -> void* {
      return fn ? static_cast<void*>(&add_slot(functions_, std::move(fn))) : nullptr;
    };
    // One user_data serves three callbacks, so each gets its own slot behind a trampoline.
    auto& slots = add_slot(kind_slots_, KindSlots{hook(std::move(kind.validate)), hook(std::move(kind.references)),
                                                  hook(std::move(kind.pre_promotion))});
    plexus_resource_kind raw{sizeof(plexus_resource_kind),
                             str(kind.name),
                             str(kind.json_schema),
                             str(kind.permission_prefix),
                             kind.requires_approval ? PLEXUS_KIND_REQUIRES_APPROVAL : 0u,
                             slots.validate ? &Host::call_kind_validate : nullptr,
                             slots.references ? &Host::call_kind_references : nullptr,
                             slots.pre_promotion ? &Host::call_kind_pre_promotion : nullptr,
                             &slots};
    raw.route_prefix = str(kind.route_prefix);
    if (kind.check_save) {
      slots.check_save = &add_slot(save_functions_, std::move(kind.check_save));
      raw.check_save = &Host::call_kind_check_save;
    }
    check(api_->resource_kind_register(host_, &raw));
  }
  // A resource of one of this plugin's kinds, as JSON text; stage "" is the current
  // revision. Throws Error with PLEXUS_ERR_NOT_FOUND when there is none.
  std::string resource_get(std::string_view tenant, std::string_view kind, std::string_view id,
                           std::string_view stage = {}) const {
    require(PLEXUS_HAS_MEMBER(api_, plexus_host_api, resource_get), "resource reads");
    std::string out;
    check(api_->resource_get(host_, str(tenant), str(kind), str(id), str(stage), &detail::append_to_string, &out));
    return out;
  }
  // [{"id","revision","content"}] of every live resource `stage` points at.
  std::string resource_list(std::string_view tenant, std::string_view kind, std::string_view stage = {}) const {
    require(PLEXUS_HAS_MEMBER(api_, plexus_host_api, resource_list), "resource reads");
    std::string out;
    check(api_->resource_list(host_, str(tenant), str(kind), str(stage), &detail::append_to_string, &out));
    return out;
  }

  // Datasources (ABI 1.3): a tenant's named data sources, read through their driver.
  // ":name" placeholders bound from `params_json`; 0 limits mean the datasource's own.
  std::string datasource_query(std::string_view tenant, std::string_view name, std::string_view sql,
                               std::string_view params_json = {}, std::uint64_t max_rows = 0,
                               std::uint64_t timeout_ms = 0) const {
    require(PLEXUS_HAS_MEMBER(api_, plexus_host_api, datasource_query), "datasources");
    std::string out;
    const auto query = driver_query(sql, params_json, max_rows, timeout_ms);
    check(api_->datasource_query(host_, str(tenant), str(name), &query, &detail::append_to_string, &out));
    return out;
  }
  std::string datasource_execute(std::string_view tenant, std::string_view name, std::string_view sql,
                                 std::string_view params_json = {}, std::uint64_t timeout_ms = 0) const {
    require(PLEXUS_HAS_MEMBER(api_, plexus_host_api, datasource_execute), "datasources");
    std::string out;
    const auto query = driver_query(sql, params_json, 0, timeout_ms);
    check(api_->datasource_execute(host_, str(tenant), str(name), &query, &detail::append_to_string, &out));
    return out;
  }
  std::string datasource_schema(std::string_view tenant, std::string_view name) const {
    require(PLEXUS_HAS_MEMBER(api_, plexus_host_api, datasource_schema), "datasources");
    std::string out;
    check(api_->datasource_schema(host_, str(tenant), str(name), &detail::append_to_string, &out));
    return out;
  }

  Metric counter(std::string_view name, std::string_view help, const std::vector<std::string_view>& labels = {}) {
    return metric(PLEXUS_METRIC_COUNTER, name, help, labels);
  }
  Metric gauge(std::string_view name, std::string_view help, const std::vector<std::string_view>& labels = {}) {
    return metric(PLEXUS_METRIC_GAUGE, name, help, labels);
  }
  Metric histogram(std::string_view name, std::string_view help, const std::vector<std::string_view>& labels = {}) {
    return metric(PLEXUS_METRIC_HISTOGRAM, name, help, labels);
  }

  // Runs `fn` every `interval_ms` (or once) on a host worker; returns the timer id.
  std::uint64_t timer(std::uint64_t interval_ms, bool repeat, std::function<void()> fn) {
    auto& slot = add_slot(timers_, std::move(fn));
    std::uint64_t id = 0;
    check(api_->timer_start(host_, interval_ms, repeat ? 1 : 0, &Host::call_timer, &slot, &id));
    return id;
  }
  void cancel_timer(std::uint64_t id) { check(api_->timer_cancel(host_, id)); }

  void service(std::string_view name, JsonFunction fn) {
    auto& slot = add_slot(functions_, std::move(fn));
    check(api_->service_register(host_, str(name), &Host::call_function, &slot));
  }
  std::string call(std::string_view service, std::string_view input_json, std::uint64_t timeout_ms = 5000) {
    std::string out;
    check(api_->service_call(host_, str(service), str(input_json), timeout_ms, &detail::append_to_string, &out));
    return out;
  }

  // A tool without the caller: it needs the permission "tools.execute:<name>" (ABI 1.0 form).
  void tool(std::string_view name, std::string_view description, std::string_view input_schema_json, JsonFunction fn) {
    auto& slot = add_slot(functions_, std::move(fn));
    plexus_tool tool{sizeof(plexus_tool), str(name), str(description), str(input_schema_json), &Host::call_function,
                     &slot, plexus_str{nullptr, 0}, nullptr};
    check(api_->tool_register(host_, &tool));
  }

  // A tool that runs for a caller (ABI 1.4): the host checks `permission` (empty:
  // "tools.execute:<name>"; kAuthenticated: anyone signed in) and the input against the
  // schema before `fn` runs; `fn` sees the caller, for host().allowed(caller, ...) and its
  // tenant. Throw Error(PLEXUS_ERR_INVALID / _DENIED / _NOT_FOUND, message) to refuse: the
  // message reaches the caller (400 / 403 / 404). Any other exception is a 502.
  using ToolFunction = std::function<std::string(const Caller& caller, std::string_view input_json)>;
  void tool(std::string_view name, std::string_view description, std::string_view input_schema_json,
            std::string_view permission, ToolFunction fn) {
    require_14("tools that see the caller");
    auto& slot = add_slot(tools_, std::move(fn));
    plexus_tool tool{sizeof(plexus_tool), str(name), str(description), str(input_schema_json), nullptr,
                     &slot, str(permission), &Host::call_tool};
    check(api_->tool_register(host_, &tool));
  }
  // Calls a tool for `caller` (a caller the host handed this plugin), with that caller's
  // permissions; returns its JSON answer. timeout_ms 0: the host's tools.call_timeout.
  std::string call_tool(const Caller& caller, std::string_view name, std::string_view input_json,
                        std::uint64_t timeout_ms = 0) const {
    require_14("tool calls");
    std::string out;
    check(api_->tool_call(host_, caller.raw(), str(name), str(input_json), timeout_ms, &detail::append_to_string, &out));
    return out;
  }

  // Does this node hold the cluster's leader lease (ABI 1.4)? Ask before each run of
  // singleton work. Throws Error(PLEXUS_ERR_UNAVAILABLE) on a host without a cluster.
  bool leader() const {
    require_14("cluster leader");
    std::int32_t is_leader = 0;
    check(api_->cluster_leader(host_, &is_leader, nullptr, nullptr));
    return is_leader == 1;
  }
  // {"node_id","leader":bool,"leader_node","token"} as JSON text.
  std::string leader_json() const {
    require_14("cluster leader");
    std::int32_t is_leader = 0;
    std::string out;
    check(api_->cluster_leader(host_, &is_leader, &detail::append_to_string, &out));
    return out;
  }

  // Jobs (ABI 1.4; kinds within the manifest's permissions.jobs). `fn` returns the
  // job's result as JSON text (empty: null); a throw fails the attempt, which is
  // retried up to the job's max_attempts, the message recorded as its last error.
  using JobFunction = std::function<std::string(const Job& job, std::string_view payload_json)>;
  void job_handler(std::string_view kind, JobFunction fn) {
    require_14("jobs");
    auto& slot = add_slot(jobs_, JobSlot{std::move(fn), api_});
    check(api_->job_handler_register(host_, str(kind), &Host::call_job, &slot));
  }
  // options_json: {"priority": -1000..1000, "max_attempts": 1..100, "delay_ms": n}.
  std::int64_t enqueue_job(std::string_view tenant, std::string_view kind, std::string_view payload_json = "{}",
                           std::string_view options_json = {}) {
    require_14("jobs");
    std::int64_t id = 0;
    check(api_->job_enqueue(host_, str(tenant), str(kind), str(payload_json), str(options_json), &id));
    return id;
  }
  // The job as JSON text; Error(PLEXUS_ERR_NOT_FOUND) when there is none.
  std::string job(std::string_view tenant, std::int64_t id) const {
    require_14("jobs");
    std::string out;
    check(api_->job_get(host_, str(tenant), id, &detail::append_to_string, &out));
    return out;
  }
  void cancel_job(std::string_view tenant, std::int64_t id) {
    require_14("jobs");
    check(api_->job_cancel(host_, str(tenant), id));
  }
  // Schedules this plugin owns (ABI 1.4): spec_json as PUT /api/v1/schedules/{name}
  // takes it ({"expression","job_kind",...}); returns the schedule as JSON text.
  std::string schedule(std::string_view tenant, std::string_view name, std::string_view spec_json) {
    require_14("schedules");
    std::string out;
    check(api_->schedule_put(host_, str(tenant), str(name), str(spec_json), &detail::append_to_string, &out));
    return out;
  }
  void remove_schedule(std::string_view tenant, std::string_view name) {
    require_14("schedules");
    check(api_->schedule_remove(host_, str(tenant), str(name)));
  }
  void pause_schedule(std::string_view tenant, std::string_view name) {
    require_14("schedules");
    check(api_->schedule_pause(host_, str(tenant), str(name)));
  }
  void resume_schedule(std::string_view tenant, std::string_view name) {
    require_14("schedules");
    check(api_->schedule_resume(host_, str(tenant), str(name)));
  }

  void publish(std::string_view topic, std::string_view payload_json) {
    check(api_->event_publish(host_, str(topic), str(payload_json)));
  }
  std::uint64_t subscribe(std::string_view pattern, std::function<void(std::string_view, std::string_view)> fn) {
    auto& slot = add_slot(subscribers_, std::move(fn));
    std::uint64_t id = 0;
    check(api_->event_subscribe(host_, str(pattern), &Host::call_subscriber, &slot, &id));
    return id;
  }
  void unsubscribe(std::uint64_t id) { check(api_->event_unsubscribe(host_, id)); }
  // ABI 1.4: events with the same key reach a queued subscriber's lane in order.
  void publish(std::string_view topic, std::string_view key, std::string_view payload_json) {
    require_14("keyed events");
    check(api_->event_publish_keyed(host_, str(topic), str(key), str(payload_json)));
  }
  // ABI 1.4: `fn` runs on the subscription's own threads, from a queue per lane.
  // options_json: {"capacity": n, "overflow": "block"|"drop_oldest"|"drop_newest", "lanes": n}.
  std::uint64_t subscribe_queued(std::string_view pattern, std::string_view options_json,
                                 std::function<void(std::string_view, std::string_view)> fn) {
    require_14("queued subscriptions");
    auto& slot = add_slot(subscribers_, std::move(fn));
    std::uint64_t id = 0;
    check(api_->event_subscribe_queued(host_, str(pattern), str(options_json), &Host::call_subscriber, &slot, &id));
    return id;
  }

 private:
  struct RouteSlot {
    Handler handler;
    Host* host;
  };
  using Reader = plexus_status (*)(plexus_host*, plexus_write_fn, void*);

  // Handlers run concurrently on worker threads and may register too (e.g. start a
  // timer), so appending is locked; a slot itself never changes once appended.
  template <class Slot, class Value>
  Slot& add_slot(std::list<Slot>& slots, Value&& value) {
    std::lock_guard<std::mutex> lock(slots_mutex_);
    return slots.emplace_back(std::forward<Value>(value));
  }

  std::string read(Reader reader) const {
    std::string out;
    check(reader(host_, &detail::append_to_string, &out));
    return out;
  }
  void require(bool present, const char* what) const {
    if (!present) {
      throw Error(PLEXUS_ERR_UNAVAILABLE, std::string("the host has no ") + what + " (its ABI is older)");
    }
  }
  static plexus_driver_query driver_query(std::string_view sql, std::string_view params_json, std::uint64_t max_rows,
                                          std::uint64_t timeout_ms) {
    return plexus_driver_query{sizeof(plexus_driver_query), str(sql), str(params_json), max_rows, timeout_ms};
  }
  struct KindSlots {
    void* validate;
    void* references;
    void* pre_promotion;
    SaveFunction* check_save = nullptr;
  };
  static plexus_status call_kind_validate(void* user_data, plexus_str input, plexus_write_fn write, void* data) {
    return call_function(static_cast<KindSlots*>(user_data)->validate, input, write, data);
  }
  static plexus_status call_kind_references(void* user_data, plexus_str input, plexus_write_fn write, void* data) {
    return call_function(static_cast<KindSlots*>(user_data)->references, input, write, data);
  }
  static plexus_status call_kind_pre_promotion(void* user_data, plexus_str input, plexus_write_fn write, void* data) {
    return call_function(static_cast<KindSlots*>(user_data)->pre_promotion, input, write, data);
  }
  static plexus_status call_kind_check_save(void* user_data, const plexus_caller* caller, plexus_str input,
                                            plexus_write_fn write, void* write_data) {
    try {
      const std::string out = (*static_cast<KindSlots*>(user_data)->check_save)(Caller(caller), view(input));
      write(write_data, str(out));
      return PLEXUS_OK;
    } catch (const Error& e) {
      write(write_data, str(e.what()));  // a denial's message reaches the caller; others are logged
      return e.status() == PLEXUS_OK ? PLEXUS_ERR_INTERNAL : e.status();
    } catch (const std::exception& e) {
      write(write_data, str(e.what()));  // logged by the host, never shown to the caller
      return PLEXUS_ERR_INTERNAL;
    } catch (...) {
      return PLEXUS_ERR_INTERNAL;
    }
  }
  void require_14(const char* what) const {
    if (!PLEXUS_HAS_MEMBER(api_, plexus_host_api, schedule_resume)) {
      throw Error(PLEXUS_ERR_UNAVAILABLE, std::string("the host has no ") + what + " (ABI < 1.4)");
    }
  }
  void require_db() const {
    if (!PLEXUS_HAS_MEMBER(api_, plexus_host_api, db_exec) || !api_->db_exec) {
      throw Error(PLEXUS_ERR_UNAVAILABLE, "the host has no database calls (ABI < 1.2)");
    }
  }
  void check(plexus_status status) const {
    if (status != PLEXUS_OK) throw Error(status, std::string(view(api_->last_error(host_))));
  }
  Metric metric(int kind, std::string_view name, std::string_view help, const std::vector<std::string_view>& labels) {
    std::vector<plexus_str> names;
    for (auto label : labels) names.push_back(str(label));
    std::uint64_t id = 0;
    check(api_->metric_register(host_, kind, str(name), str(help), names.data(), names.size(), &id));
    return Metric(api_, host_, id);
  }

  // The exception barrier: nothing thrown by plugin code crosses into the host.
  template <class Fn>
  plexus_status guarded(Fn&& fn) const noexcept {
    try {
      fn();
      return PLEXUS_OK;
    } catch (const std::exception& e) {
      try {
        error(std::string("unhandled exception: ") + e.what());
      } catch (...) {
      }
      return PLEXUS_ERR_INTERNAL;
    } catch (...) {
      try {
        error("unhandled non-standard exception");
      } catch (...) {
      }
      return PLEXUS_ERR_INTERNAL;
    }
  }

  static plexus_status call_route(void* user_data, const plexus_http_request* request, plexus_http_response* response) {
    auto* slot = static_cast<RouteSlot*>(user_data);
    return slot->host->guarded([&] {
      Request req(request);
      Response res(slot->host->api_, response);
      slot->handler(req, res);
    });
  }
  static void call_timer(void* user_data) {
    try {
      (*static_cast<std::function<void()>*>(user_data))();
    } catch (...) {
    }
  }
  static plexus_status call_function(void* user_data, plexus_str input, plexus_write_fn write, void* write_data) {
    try {
      const std::string out = (*static_cast<JsonFunction*>(user_data))(view(input));
      write(write_data, str(out));
      return PLEXUS_OK;
    } catch (const Error& e) {
      return e.status();
    } catch (...) {
      return PLEXUS_ERR_INTERNAL;
    }
  }
  static plexus_status call_tool(void* user_data, const plexus_caller* caller, plexus_str input, plexus_write_fn write,
                                 void* write_data) {
    try {
      const std::string out = (*static_cast<ToolFunction*>(user_data))(Caller(caller), view(input));
      write(write_data, str(out));
      return PLEXUS_OK;
    } catch (const Error& e) {
      write(write_data, str(e.what()));  // the refusal's message, for the caller
      return e.status() == PLEXUS_OK ? PLEXUS_ERR_INTERNAL : e.status();
    } catch (const std::exception& e) {
      write(write_data, str(e.what()));  // logged by the host, never shown to the caller
      return PLEXUS_ERR_INTERNAL;
    } catch (...) {
      return PLEXUS_ERR_INTERNAL;
    }
  }
  struct JobSlot {
    JobFunction fn;
    const plexus_host_api* api;
  };
  static plexus_status call_job(void* user_data, plexus_job* job, plexus_str payload, plexus_write_fn write,
                                void* write_data) {
    auto* slot = static_cast<JobSlot*>(user_data);
    try {
      const std::string out = slot->fn(Job(slot->api, job), view(payload));
      write(write_data, str(out));
      return PLEXUS_OK;
    } catch (const Error& e) {
      write(write_data, str(e.what()));  // recorded as the job's last error
      return e.status() == PLEXUS_OK ? PLEXUS_ERR_INTERNAL : e.status();
    } catch (const std::exception& e) {
      write(write_data, str(e.what()));
      return PLEXUS_ERR_INTERNAL;
    } catch (...) {
      return PLEXUS_ERR_INTERNAL;
    }
  }
  static void call_subscriber(void* user_data, plexus_str topic, plexus_str payload) {
    try {
      (*static_cast<std::function<void(std::string_view, std::string_view)>*>(user_data))(view(topic), view(payload));
    } catch (...) {
    }
  }

  const plexus_host_api* api_;
  plexus_host* host_;
  // std::list: registered addresses must never move.
  std::mutex slots_mutex_;
  std::list<RouteSlot> routes_;
  std::list<std::function<void()>> timers_;
  std::list<JsonFunction> functions_;
  std::list<ToolFunction> tools_;
  std::list<JobSlot> jobs_;
  std::list<KindSlots> kind_slots_;
  std::list<SaveFunction> save_functions_;
  std::list<std::function<void(std::string_view, std::string_view)>> subscribers_;
};

namespace detail {
struct StreamOpenSlot {
  const plexus_host_api* api;
  Response::StreamOpen open;
};
inline void call_stream_open(void* user_data, plexus_event_stream* stream) noexcept {
  std::unique_ptr<StreamOpenSlot> slot(static_cast<StreamOpenSlot*>(user_data));
  try {
    EventStream handle(slot->api, stream);  // on bad_alloc, shared_ptr still releases the stream
    try {
      slot->open(handle);
    } catch (...) {
      handle.close();
    }
  } catch (...) {
  }
}
}  // namespace detail

inline void Response::stream(StreamOpen open) {
  // The slot is freed by call_stream_open, which the host calls exactly once...
  auto slot = std::make_unique<detail::StreamOpenSlot>(detail::StreamOpenSlot{api_, std::move(open)});
  if (api_->response_stream(raw_, &detail::call_stream_open, slot.get()) != PLEXUS_OK) {
    throw Error(PLEXUS_ERR_UNAVAILABLE, "cannot start an event stream");
  }
  slot.release();  // ...now that the host has accepted it.
}

// Base class of every plugin. start() registers what the plugin offers; stop()
// lets it finish work of its own (the host revokes registrations afterwards).
class Plugin {
 public:
  virtual ~Plugin() = default;
  virtual void start() {}
  virtual void stop() {}
  Host& host() { return *host_; }

  void attach(Host* host) { host_ = host; }

 private:
  Host* host_ = nullptr;
};

namespace detail {

template <class P>
struct Instance {
  Instance(const plexus_host_api* api, plexus_host* raw) : host(api, raw) { plugin.attach(&host); }
  Host host;
  P plugin;
};

template <class P>
plexus_status create(const plexus_host_api* api, plexus_host* host, void** out) noexcept {
  if (api == nullptr || out == nullptr || api->abi_major != PLEXUS_ABI_MAJOR) return PLEXUS_ERR_INVALID;
  // This layer calls every member of the table it was compiled against without
  // checking each: refuse an older host (lower minor, shorter table) up front.
  constexpr std::uint32_t plugin_minor = PLEXUS_ABI_MINOR;  // a variable: no -Wtype-limits while it is 0
  if (api->abi_minor < plugin_minor || api->struct_size < sizeof(plexus_host_api)) {
    if (PLEXUS_HAS_MEMBER(api, plexus_host_api, log) && api->log != nullptr) {
      api->log(host, PLEXUS_LOG_ERROR, str("create failed: the host's ABI minor is older than the plugin's"));
    }
    return PLEXUS_ERR_INVALID;
  }
  try {
    *out = new Instance<P>(api, host);
    return PLEXUS_OK;
  } catch (const std::exception& e) {
    api->log(host, PLEXUS_LOG_ERROR, str(std::string("create failed: ") + e.what()));
  } catch (...) {
    api->log(host, PLEXUS_LOG_ERROR, str("create failed: non-standard exception"));
  }
  return PLEXUS_ERR_INTERNAL;
}

template <class P>
plexus_status start(void* instance) noexcept {
  auto* self = static_cast<Instance<P>*>(instance);
  try {
    self->plugin.start();
    return PLEXUS_OK;
  } catch (const Error& e) {
    self->host.error(std::string("start failed: ") + e.what());
    return e.status();
  } catch (const std::exception& e) {
    self->host.error(std::string("start failed: ") + e.what());
  } catch (...) {
    self->host.error("start failed: non-standard exception");
  }
  return PLEXUS_ERR_INTERNAL;
}

template <class P>
void stop(void* instance) noexcept {
  auto* self = static_cast<Instance<P>*>(instance);
  try {
    self->plugin.stop();
  } catch (...) {
    self->host.error("stop threw; ignored");
  }
}

template <class P>
void destroy(void* instance) noexcept {
  delete static_cast<Instance<P>*>(instance);
}

}  // namespace detail
}  // namespace plexus::sdk

#define PLEXUS_STRINGIFY_(x) #x
#define PLEXUS_STRINGIFY(x) PLEXUS_STRINGIFY_(x)

// One line per plugin: the descriptor, the exception barrier, the exported entry
// symbol and the metadata section the kernel reads before loading the library.
// NAME and VERSION are string literals; CONFIG_SCHEMA a string literal of JSON Schema.
#define PLEXUS_PLUGIN(PluginClass, NAME, VERSION, CONFIG_SCHEMA) \
  PLEXUS_PLUGIN_WITH_PERMISSIONS(PluginClass, NAME, VERSION, CONFIG_SCHEMA, "[]")

// The same, for a plugin that checks permissions of its own beyond its routes' (SDK 0.6.2):
// PERMISSIONS a string literal of JSON, [{"permission":"notes.publish","description":"..."}].
// The kernel's permission catalogue lists them while the plugin runs, so operators can
// grant them in custom roles.
#define PLEXUS_PLUGIN_WITH_PERMISSIONS(PluginClass, NAME, VERSION, CONFIG_SCHEMA, PERMISSIONS)                  \
  __attribute__((section(PLEXUS_METADATA_SECTION), used)) static const char plexus_plugin_metadata[] =          \
      "{\"name\":\"" NAME "\",\"version\":\"" VERSION "\",\"abi_major\":" PLEXUS_STRINGIFY(PLEXUS_ABI_MAJOR)    \
      ",\"abi_minor\":" PLEXUS_STRINGIFY(PLEXUS_ABI_MINOR) ",\"sdk_version\":\"" PLEXUS_SDK_VERSION             \
      "\",\"compiler\":\"" __VERSION__ "\",\"config_schema\":" CONFIG_SCHEMA                                    \
      ",\"permissions\":" PERMISSIONS "}";                                                                      \
  extern "C" __attribute__((visibility("default"))) const plexus_plugin_descriptor* plexus_plugin_v1(void) {   \
    static const plexus_plugin_descriptor descriptor = {sizeof(plexus_plugin_descriptor),                      \
                                                        PLEXUS_ABI_MAJOR,                                      \
                                                        PLEXUS_ABI_MINOR,                                      \
                                                        PLEXUS_PLUGIN_FLAG_NONE,                               \
                                                        NAME,                                                  \
                                                        VERSION,                                               \
                                                        plexus_plugin_metadata,                                \
                                                        &::plexus::sdk::detail::create<PluginClass>,           \
                                                        &::plexus::sdk::detail::start<PluginClass>,            \
                                                        &::plexus::sdk::detail::stop<PluginClass>,             \
                                                        &::plexus::sdk::detail::destroy<PluginClass>};         \
    return &descriptor;                                                                                        \
  }
