/* A stand-in for plexusd's plugin host, in C against nothing but the installed abi.h:
 * loads a plugin built from the SDK example (hello, or one `plexus new-plugin` made),
 * drives its whole lifecycle on one thread, and checks what it does across the ABI.
 *
 *   fake_host LIBRARY NAME
 *
 * Checks: descriptor and metadata; create/start/stop/destroy; the routes
 * /api/v1/NAME and /api/v1/NAME/stream; the JSON answer with the configured greeting;
 * the counter plexus_<NAME>_requests_total; SSE ticks from a timer; a closed stream is
 * released exactly once and never used afterwards; stop() closes and releases the
 * rest and cancels the timer (quietly when the host revoked it first, as plexusd
 * does); an older (shorter) host table and a failing host call are refused with a
 * status, never a crash; after dlclose the library is really gone. Exit 0 when every
 * check passes. */
#define _POSIX_C_SOURCE 200809L
#include <dlfcn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <plexus/abi.h>

static int failures = 0;

static void check(int ok, const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  printf("%s - ", ok ? "ok" : "FAIL");
  vprintf(fmt, args);
  printf("\n");
  va_end(args);
  if (!ok) ++failures;
}

static int str_eq(plexus_str s, const char* c) { return s.len == strlen(c) && memcmp(s.ptr, c, s.len) == 0; }

static char* str_dup(plexus_str s) {
  char* out = malloc(s.len + 1);
  if (s.len) memcpy(out, s.ptr, s.len);
  out[s.len] = '\0';
  return out;
}

/* ---- the host's state ---------------------------------------------------------- */

#define MAX_ITEMS 16

struct route {
  char* method;
  char* pattern;
  plexus_http_handler_fn handler;
  void* user_data;
  char* permission;
};
struct timer {
  plexus_timer_fn fn;
  void* user_data;
  uint64_t interval_ms;
  int repeat;
  int active;
};
struct metric {
  char* name;
  int32_t kind;
  size_t label_count;
  double total;
  char* last_label;
};

struct plexus_host {
  const char* config_json;
  int fail_config; /* config_get answers PLEXUS_ERR_INTERNAL */
  struct route routes[MAX_ITEMS];
  size_t route_count;
  struct timer timers[MAX_ITEMS];
  size_t timer_count;
  struct metric metrics[MAX_ITEMS];
  size_t metric_count;
  char last_error[256];
  int errors_logged;
};

struct plexus_event_stream {
  int open; /* the client is still there */
  int closed_by_plugin;
  int released; /* stream_release calls */
  int used_after_release;
  int events;
  char last_data[128];
  char last_id[32];
};

struct plexus_http_response {
  int32_t status;
  char content_type[64];
  char* body;
  plexus_stream_open_fn stream_open;
  void* stream_user_data;
};

static plexus_status fail(plexus_host* host, plexus_status status, const char* message) {
  snprintf(host->last_error, sizeof host->last_error, "%s", message);
  return status;
}

/* ---- the host services table ------------------------------------------------ */

static plexus_str h_last_error(plexus_host* host) {
  plexus_str s = {host->last_error, strlen(host->last_error)};
  return s;
}
static void h_log(plexus_host* host, int32_t level, plexus_str message) {
  if (level >= PLEXUS_LOG_ERROR) host->errors_logged++;
  printf("# plugin log %d: %.*s\n", (int)level, (int)message.len, message.ptr);
}
static plexus_status h_config_get(plexus_host* host, plexus_write_fn write, void* data) {
  if (host->fail_config) return fail(host, PLEXUS_ERR_INTERNAL, "config store unavailable");
  plexus_str s = {host->config_json, strlen(host->config_json)};
  write(data, s);
  return PLEXUS_OK;
}
static plexus_status h_plugin_info(plexus_host* host, plexus_write_fn write, void* data) {
  (void)host;
  plexus_str s = {"{}", 2};
  write(data, s);
  return PLEXUS_OK;
}
static uint64_t h_generation(plexus_host* host) {
  (void)host;
  return 7;
}
static plexus_status h_metric_register(plexus_host* host, int32_t kind, plexus_str name, plexus_str help,
                                       const plexus_str* labels, size_t label_count, uint64_t* out) {
  (void)help;
  (void)labels;
  if (host->metric_count == MAX_ITEMS) return fail(host, PLEXUS_ERR_INTERNAL, "too many metrics");
  struct metric* m = &host->metrics[host->metric_count];
  m->name = str_dup(name);
  m->kind = kind;
  m->label_count = label_count;
  *out = ++host->metric_count;
  return PLEXUS_OK;
}
static plexus_status h_metric_add(plexus_host* host, uint64_t id, const plexus_str* values, size_t count,
                                  double value) {
  if (id == 0 || id > host->metric_count) return fail(host, PLEXUS_ERR_NOT_FOUND, "no such metric");
  struct metric* m = &host->metrics[id - 1];
  if (count != m->label_count) return fail(host, PLEXUS_ERR_INVALID, "label count");
  m->total += value;
  free(m->last_label);
  m->last_label = count ? str_dup(values[0]) : NULL;
  return PLEXUS_OK;
}
static plexus_status h_metric_set(plexus_host* host, uint64_t id, const plexus_str* values, size_t count,
                                  double value) {
  (void)values;
  (void)count;
  (void)value;
  if (id == 0 || id > host->metric_count) return fail(host, PLEXUS_ERR_NOT_FOUND, "no such metric");
  return PLEXUS_OK;
}
static plexus_status h_route_add(plexus_host* host, const plexus_route* route) {
  if (!PLEXUS_HAS_MEMBER(route, plexus_route, user_data))
    return fail(host, PLEXUS_ERR_INVALID, "short route");
  if (host->route_count == MAX_ITEMS) return fail(host, PLEXUS_ERR_INTERNAL, "too many routes");
  struct route* r = &host->routes[host->route_count++];
  r->method = str_dup(route->method);
  r->pattern = str_dup(route->pattern);
  r->handler = route->handler;
  r->user_data = route->user_data;
  r->permission = PLEXUS_HAS_MEMBER(route, plexus_route, permission) ? str_dup(route->permission) : NULL;
  return PLEXUS_OK;
}
static void h_set_status(plexus_http_response* res, int32_t status) { res->status = status; }
static void h_set_header(plexus_http_response* res, plexus_str name, plexus_str value) {
  if (str_eq(name, "Content-Type"))
    snprintf(res->content_type, sizeof res->content_type, "%.*s", (int)value.len, value.ptr);
}
static void h_set_body(plexus_http_response* res, plexus_str body) {
  free(res->body);
  res->body = str_dup(body);
}
static plexus_status h_response_stream(plexus_http_response* res, plexus_stream_open_fn open,
                                       void* user_data) {
  res->stream_open = open;
  res->stream_user_data = user_data;
  return PLEXUS_OK;
}
static plexus_status h_stream_send(plexus_event_stream* s, plexus_str event, plexus_str data, plexus_str id) {
  if (s->released) {
    s->used_after_release = 1;
    return PLEXUS_ERR_UNAVAILABLE;
  }
  if (!s->open) return PLEXUS_ERR_UNAVAILABLE;
  if (!str_eq(event, "tick")) return PLEXUS_ERR_INVALID;
  s->events++;
  snprintf(s->last_data, sizeof s->last_data, "%.*s", (int)data.len, data.ptr);
  snprintf(s->last_id, sizeof s->last_id, "%.*s", (int)id.len, id.ptr);
  return PLEXUS_OK;
}
static void h_stream_close(plexus_event_stream* s) {
  if (s->released) s->used_after_release = 1;
  s->open = 0;
  s->closed_by_plugin = 1;
}
static void h_stream_on_close(plexus_event_stream* s, plexus_callback_fn fn, void* user_data) {
  (void)s;
  (void)fn;
  (void)user_data;
}
static void h_stream_release(plexus_event_stream* s) {
  if (s->released) s->used_after_release = 1;
  s->released++;
}
static plexus_status h_timer_start(plexus_host* host, uint64_t interval_ms, int32_t repeat,
                                   plexus_timer_fn fn, void* user_data, uint64_t* out) {
  if (host->timer_count == MAX_ITEMS) return fail(host, PLEXUS_ERR_INTERNAL, "too many timers");
  struct timer* t = &host->timers[host->timer_count];
  t->fn = fn;
  t->user_data = user_data;
  t->interval_ms = interval_ms;
  t->repeat = repeat;
  t->active = 1;
  *out = ++host->timer_count;
  return PLEXUS_OK;
}
static plexus_status h_timer_cancel(plexus_host* host, uint64_t id) {
  if (id == 0 || id > host->timer_count || !host->timers[id - 1].active) {
    return fail(host, PLEXUS_ERR_NOT_FOUND, "no such timer");
  }
  host->timers[id - 1].active = 0;
  return PLEXUS_OK;
}
static plexus_status h_service_register(plexus_host* host, plexus_str name, plexus_service_fn fn,
                                        void* user_data) {
  (void)name;
  (void)fn;
  (void)user_data;
  return fail(host, PLEXUS_ERR_DENIED, "not in this test");
}
static plexus_status h_service_call(plexus_host* host, plexus_str name, plexus_str input, uint64_t timeout_ms,
                                    plexus_write_fn write, void* data) {
  (void)name;
  (void)input;
  (void)timeout_ms;
  (void)write;
  (void)data;
  return fail(host, PLEXUS_ERR_NOT_FOUND, "no such service");
}
static plexus_status h_tool_register(plexus_host* host, const plexus_tool* tool) {
  (void)tool;
  return fail(host, PLEXUS_ERR_DENIED, "not in this test");
}
static plexus_status h_event_publish(plexus_host* host, plexus_str topic, plexus_str payload) {
  (void)topic;
  (void)payload;
  return fail(host, PLEXUS_ERR_DENIED, "not in this test");
}
static plexus_status h_event_subscribe(plexus_host* host, plexus_str pattern, plexus_event_fn fn,
                                       void* user_data, uint64_t* out) {
  (void)pattern;
  (void)fn;
  (void)user_data;
  (void)out;
  return fail(host, PLEXUS_ERR_DENIED, "not in this test");
}
static plexus_status h_event_unsubscribe(plexus_host* host, uint64_t id) {
  (void)id;
  return fail(host, PLEXUS_ERR_NOT_FOUND, "no such subscription");
}

static plexus_status h_authz_check(plexus_host* host, const plexus_caller* caller, plexus_str permission,
                                   plexus_str resource) {
  (void)caller;
  (void)permission;
  (void)resource;
  return fail(host, PLEXUS_ERR_DENIED, "the fake host grants nothing");
}
static plexus_status h_audit(plexus_host* host, const plexus_caller* caller, plexus_str event_json) {
  (void)caller;
  (void)event_json;
  return fail(host, PLEXUS_ERR_UNAVAILABLE, "the fake host keeps no audit log");
}

static plexus_status h_db_migrate(plexus_host* host, plexus_str migrations) {
  (void)migrations;
  return fail(host, PLEXUS_ERR_UNAVAILABLE, "the fake host has no database");
}
static plexus_status h_db_query(plexus_host* host, plexus_str sql, plexus_str params, uint64_t max_rows,
                                plexus_write_fn write, void* write_data) {
  (void)sql;
  (void)params;
  (void)max_rows;
  (void)write;
  (void)write_data;
  return fail(host, PLEXUS_ERR_UNAVAILABLE, "the fake host has no database");
}
static plexus_status h_db_exec(plexus_host* host, plexus_str sql, plexus_str params, int64_t* changed) {
  (void)sql;
  (void)params;
  (void)changed;
  return fail(host, PLEXUS_ERR_UNAVAILABLE, "the fake host has no database");
}

static plexus_status h_db_exec_batch(plexus_host* host, plexus_str sql, plexus_str batch, int64_t* changed) {
  (void)sql;
  (void)batch;
  (void)changed;
  return fail(host, PLEXUS_ERR_UNAVAILABLE, "the fake host has no database");
}

static plexus_status h_resource_kind_register(plexus_host* host, const plexus_resource_kind* kind) {
  (void)kind;
  return fail(host, PLEXUS_ERR_UNAVAILABLE, "the fake host keeps no resources");
}
static plexus_status h_resource_get(plexus_host* host, plexus_str tenant, plexus_str kind, plexus_str id,
                                    plexus_str stage, plexus_write_fn write, void* write_data) {
  (void)tenant;
  (void)kind;
  (void)id;
  (void)stage;
  (void)write;
  (void)write_data;
  return fail(host, PLEXUS_ERR_UNAVAILABLE, "the fake host keeps no resources");
}
static plexus_status h_resource_list(plexus_host* host, plexus_str tenant, plexus_str kind, plexus_str stage,
                                     plexus_write_fn write, void* write_data) {
  (void)tenant;
  (void)kind;
  (void)stage;
  (void)write;
  (void)write_data;
  return fail(host, PLEXUS_ERR_UNAVAILABLE, "the fake host keeps no resources");
}
static plexus_status h_driver_register(plexus_host* host, const plexus_driver* driver) {
  (void)driver;
  return fail(host, PLEXUS_ERR_UNAVAILABLE, "the fake host has no datasources");
}
static plexus_status h_datasource_run(plexus_host* host, plexus_str tenant, plexus_str name,
                                      const plexus_driver_query* query, plexus_write_fn write, void* write_data) {
  (void)tenant;
  (void)name;
  (void)query;
  (void)write;
  (void)write_data;
  return fail(host, PLEXUS_ERR_UNAVAILABLE, "the fake host has no datasources");
}
static plexus_status h_datasource_schema(plexus_host* host, plexus_str tenant, plexus_str name,
                                         plexus_write_fn write, void* write_data) {
  (void)tenant;
  (void)name;
  (void)write;
  (void)write_data;
  return fail(host, PLEXUS_ERR_UNAVAILABLE, "the fake host has no datasources");
}

/* ABI 1.4: a single node that always leads; no tools, no queued events, no jobs. */
static plexus_status h_tool_call(plexus_host* host, const plexus_caller* caller, plexus_str name, plexus_str input,
                                 uint64_t timeout_ms, plexus_write_fn write, void* write_data) {
  (void)caller;
  (void)name;
  (void)input;
  (void)timeout_ms;
  (void)write;
  (void)write_data;
  return fail(host, PLEXUS_ERR_NOT_FOUND, "the fake host has no tools");
}
static plexus_status h_cluster_leader(plexus_host* host, int32_t* out_is_leader, plexus_write_fn write,
                                      void* write_data) {
  (void)host;
  *out_is_leader = 1;
  if (write) {
    static const char status[] = "{\"node_id\":\"fake\",\"leader\":true,\"leader_node\":\"fake\",\"token\":1}";
    plexus_str text = {status, sizeof status - 1};
    write(write_data, text);
  }
  return PLEXUS_OK;
}
static plexus_status h_event_publish_keyed(plexus_host* host, plexus_str topic, plexus_str key, plexus_str payload) {
  (void)topic;
  (void)key;
  (void)payload;
  return fail(host, PLEXUS_ERR_DENIED, "not in this test");
}
static plexus_status h_event_subscribe_queued(plexus_host* host, plexus_str pattern, plexus_str options,
                                              plexus_event_fn fn, void* user_data, uint64_t* out) {
  (void)pattern;
  (void)options;
  (void)fn;
  (void)user_data;
  (void)out;
  return fail(host, PLEXUS_ERR_DENIED, "not in this test");
}
static plexus_status h_job_handler_register(plexus_host* host, plexus_str kind, plexus_job_fn fn, void* user_data) {
  (void)kind;
  (void)fn;
  (void)user_data;
  return fail(host, PLEXUS_ERR_UNAVAILABLE, "the fake host runs no jobs");
}
static int32_t h_job_progress(plexus_job* job, int32_t percent, plexus_str message) {
  (void)job;
  (void)percent;
  (void)message;
  return 1;
}
static plexus_status h_job_info(plexus_job* job, plexus_write_fn write, void* write_data) {
  (void)job;
  (void)write;
  (void)write_data;
  return PLEXUS_ERR_UNAVAILABLE;
}
static plexus_status h_job_enqueue(plexus_host* host, plexus_str tenant, plexus_str kind, plexus_str payload,
                                   plexus_str options, int64_t* out_id) {
  (void)tenant;
  (void)kind;
  (void)payload;
  (void)options;
  (void)out_id;
  return fail(host, PLEXUS_ERR_UNAVAILABLE, "the fake host runs no jobs");
}
static plexus_status h_job_get(plexus_host* host, plexus_str tenant, int64_t id, plexus_write_fn write,
                               void* write_data) {
  (void)tenant;
  (void)id;
  (void)write;
  (void)write_data;
  return fail(host, PLEXUS_ERR_UNAVAILABLE, "the fake host runs no jobs");
}
static plexus_status h_job_cancel(plexus_host* host, plexus_str tenant, int64_t id) {
  (void)tenant;
  (void)id;
  return fail(host, PLEXUS_ERR_UNAVAILABLE, "the fake host runs no jobs");
}
static plexus_status h_schedule_put(plexus_host* host, plexus_str tenant, plexus_str name, plexus_str spec,
                                    plexus_write_fn write, void* write_data) {
  (void)tenant;
  (void)name;
  (void)spec;
  (void)write;
  (void)write_data;
  return fail(host, PLEXUS_ERR_UNAVAILABLE, "the fake host runs no schedules");
}
static plexus_status h_schedule_change(plexus_host* host, plexus_str tenant, plexus_str name) {
  (void)tenant;
  (void)name;
  return fail(host, PLEXUS_ERR_UNAVAILABLE, "the fake host runs no schedules");
}

static const plexus_host_api host_api = {sizeof(plexus_host_api),
                                         PLEXUS_ABI_MAJOR,
                                         PLEXUS_ABI_MINOR,
                                         h_last_error,
                                         h_log,
                                         h_config_get,
                                         h_plugin_info,
                                         h_generation,
                                         h_metric_register,
                                         h_metric_add,
                                         h_metric_set,
                                         h_route_add,
                                         h_set_status,
                                         h_set_header,
                                         h_set_body,
                                         h_response_stream,
                                         h_stream_send,
                                         h_stream_close,
                                         h_stream_on_close,
                                         h_stream_release,
                                         h_timer_start,
                                         h_timer_cancel,
                                         h_service_register,
                                         h_service_call,
                                         h_tool_register,
                                         h_event_publish,
                                         h_event_subscribe,
                                         h_event_unsubscribe,
                                         h_authz_check,
                                         h_audit,
                                         h_db_migrate,
                                         h_db_query,
                                         h_db_exec,
                                         h_resource_kind_register,
                                         h_resource_get,
                                         h_resource_list,
                                         h_driver_register,
                                         h_datasource_run,
                                         h_datasource_run,
                                         h_datasource_schema,
                                         h_tool_call,
                                         h_cluster_leader,
                                         h_event_publish_keyed,
                                         h_event_subscribe_queued,
                                         h_job_handler_register,
                                         h_job_progress,
                                         h_job_info,
                                         h_job_enqueue,
                                         h_job_get,
                                         h_job_cancel,
                                         h_schedule_put,
                                         h_schedule_change,
                                         h_schedule_change,
                                         h_schedule_change,
                                         h_db_exec_batch};

/* ---- helpers ------------------------------------------------------------------ */

static struct route* find_route(plexus_host* host, const char* method, const char* pattern) {
  for (size_t i = 0; i < host->route_count; ++i) {
    if (strcmp(host->routes[i].method, method) == 0 && strcmp(host->routes[i].pattern, pattern) == 0) {
      return &host->routes[i];
    }
  }
  return NULL;
}

static plexus_status call_get(struct route* route, const char* path, plexus_http_response* res) {
  plexus_http_request req;
  memset(&req, 0, sizeof req);
  req.struct_size = sizeof req;
  req.method.ptr = "GET";
  req.method.len = 3;
  req.path.ptr = path;
  req.path.len = strlen(path);
  req.target = req.path;
  req.request_id.ptr = "req-1";
  req.request_id.len = 5;
  memset(res, 0, sizeof *res);
  return route->handler(route->user_data, &req, res);
}

static void fire_timers(plexus_host* host) {
  for (size_t i = 0; i < host->timer_count; ++i) {
    if (host->timers[i].active) host->timers[i].fn(host->timers[i].user_data);
  }
}

static void free_host(plexus_host* host) {
  for (size_t i = 0; i < host->route_count; ++i) {
    free(host->routes[i].method);
    free(host->routes[i].pattern);
    free(host->routes[i].permission);
  }
  for (size_t i = 0; i < host->metric_count; ++i) {
    free(host->metrics[i].name);
    free(host->metrics[i].last_label);
  }
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s LIBRARY NAME\n", argv[0]);
    return 2;
  }
  const char* library = argv[1];
  const char* name = argv[2];
  char snake[128], route_path[160], stream_path[176], metric_name[192], expected[512], needle[160];
  snprintf(snake, sizeof snake, "%s", name);
  for (char* c = snake; *c; ++c) {
    if (*c == '-') *c = '_';
  }
  snprintf(route_path, sizeof route_path, "/api/v1/%s", name);
  snprintf(stream_path, sizeof stream_path, "/api/v1/%s/stream", name);
  snprintf(metric_name, sizeof metric_name, "plexus_%s_requests_total", snake);

  void* dl = dlopen(library, RTLD_NOW | RTLD_LOCAL);
  if (!dl) {
    printf("FAIL - dlopen: %s\n", dlerror());
    return 1;
  }
  plexus_plugin_entry_fn entry;
  *(void**)&entry = dlsym(dl, PLEXUS_PLUGIN_ENTRY_SYMBOL);
  check(entry != NULL, "exports %s", PLEXUS_PLUGIN_ENTRY_SYMBOL);
  if (!entry) return 1;
  const plexus_plugin_descriptor* d = entry();
  check(PLEXUS_HAS_MEMBER(d, plexus_plugin_descriptor, destroy), "descriptor struct_size %zu covers destroy",
        d ? d->struct_size : 0);
  if (!PLEXUS_HAS_MEMBER(d, plexus_plugin_descriptor, destroy)) return 1;
  check(d->abi_major == PLEXUS_ABI_MAJOR && d->abi_minor <= PLEXUS_ABI_MINOR, "ABI %u.%u", d->abi_major,
        d->abi_minor);
  check(strcmp(d->name, name) == 0, "descriptor name '%s'", d->name);
  check(strcmp(d->version, "0.1.0") == 0, "descriptor version '%s'", d->version);
  snprintf(needle, sizeof needle, "{\"name\":\"%s\",", name);
  check(strncmp(d->metadata_json, needle, strlen(needle)) == 0, "metadata JSON starts with %s", needle);
  check(strstr(d->metadata_json, "\"config_schema\":{") != NULL, "metadata JSON has the config schema");

  /* An older host: a table shorter than the plugin was compiled against is refused. */
  {
    plexus_host old_host;
    memset(&old_host, 0, sizeof old_host);
    old_host.config_json = "{}";
    plexus_host_api old_api = host_api;
    old_api.struct_size = offsetof(plexus_host_api, event_subscribe);
    void* instance = NULL;
    check(d->create(&old_api, &old_host, &instance) == PLEXUS_ERR_INVALID && instance == NULL,
          "create refuses a host table shorter than the plugin's");
    plexus_host_api wrong_major = host_api;
    wrong_major.abi_major = PLEXUS_ABI_MAJOR + 1;
    check(d->create(&wrong_major, &old_host, &instance) == PLEXUS_ERR_INVALID && instance == NULL,
          "create refuses another ABI major");
  }

  /* A host call failing inside start() becomes a status, not an escaped exception. */
  {
    plexus_host broken;
    memset(&broken, 0, sizeof broken);
    broken.fail_config = 1;
    void* instance = NULL;
    check(d->create(&host_api, &broken, &instance) == PLEXUS_OK && instance != NULL, "create (failing host)");
    plexus_status status = d->start(instance);
    check(status != PLEXUS_OK, "start answers status %d when a host call fails", (int)status);
    check(broken.errors_logged > 0, "and logs why");
    d->stop(instance);
    d->destroy(instance);
    free_host(&broken);
  }

  /* The real run. */
  plexus_host host;
  memset(&host, 0, sizeof host);
  host.config_json = "{\"greeting\": \"Hi \\\"there\\\" \\u00e9\"}";
  void* instance = NULL;
  check(d->create(&host_api, &host, &instance) == PLEXUS_OK && instance != NULL, "create");
  check(host.route_count == 0 && host.timer_count == 0, "create registers nothing");
  check(d->start(instance) == PLEXUS_OK, "start");

  struct route* hello = find_route(&host, "GET", route_path);
  struct route* stream = find_route(&host, "GET", stream_path);
  check(hello != NULL, "route GET %s", route_path);
  check(stream != NULL, "route GET %s", stream_path);
  check(hello && hello->permission && strcmp(hello->permission, "public") == 0, "GET %s is declared public",
        route_path);
  check(host.metric_count == 1 && strcmp(host.metrics[0].name, metric_name) == 0 &&
            host.metrics[0].kind == PLEXUS_METRIC_COUNTER,
        "counter %s", metric_name);
  check(host.timer_count == 1 && host.timers[0].repeat && host.timers[0].interval_ms == 1000,
        "one repeating 1 s timer");
  if (!hello || !stream || host.metric_count != 1 || host.timer_count != 1) return 1;

  plexus_http_response res;
  check(call_get(hello, route_path, &res) == PLEXUS_OK, "GET %s answers OK", route_path);
  snprintf(
      expected, sizeof expected,
      "{\"name\":\"%s\",\"version\":\"0.1.0\",\"generation\":7,\"greeting\":\"Hi \\\"there\\\" \\u00e9\"}",
      name);
  check(res.status == 200, "status %d", res.status);
  check(strcmp(res.content_type, "application/json") == 0, "Content-Type %s", res.content_type);
  check(res.body && strcmp(res.body, expected) == 0, "body %s", res.body ? res.body : "(none)");
  check(host.metrics[0].total == 1 && host.metrics[0].last_label &&
            strcmp(host.metrics[0].last_label, route_path) == 0,
        "counter counted the request with route=%s", route_path);
  free(res.body);

  /* Without a configured greeting the default applies. */
  {
    plexus_host plain;
    memset(&plain, 0, sizeof plain);
    plain.config_json = "{}";
    void* other = NULL;
    check(d->create(&host_api, &plain, &other) == PLEXUS_OK && d->start(other) == PLEXUS_OK,
          "start without config");
    struct route* r = find_route(&plain, "GET", route_path);
    if (r) {
      call_get(r, route_path, &res);
      check(res.body && strstr(res.body, "\"greeting\":\"Hello\"}") != NULL, "default greeting: %s",
            res.body ? res.body : "(none)");
      free(res.body);
    }
    d->stop(other);
    check(plain.timer_count == 1 && !plain.timers[0].active, "stop cancels the timer");
    check(plain.errors_logged == 0, "and logs no error");
    d->destroy(other);
    free_host(&plain);
  }

  /* Two SSE clients. */
  struct plexus_event_stream s1, s2;
  memset(&s1, 0, sizeof s1);
  memset(&s2, 0, sizeof s2);
  s1.open = s2.open = 1;
  plexus_http_response r1, r2;
  check(call_get(stream, stream_path, &r1) == PLEXUS_OK && r1.stream_open != NULL, "GET %s becomes a stream",
        stream_path);
  check(call_get(stream, stream_path, &r2) == PLEXUS_OK && r2.stream_open != NULL, "a second stream");
  if (!r1.stream_open || !r2.stream_open) return 1;
  r1.stream_open(r1.stream_user_data, &s1);
  r2.stream_open(r2.stream_user_data, &s2);
  check(host.metrics[0].total == 3, "counter counted the stream requests");

  fire_timers(&host);
  check(s1.events == 1 && s2.events == 1, "first tick reaches both streams");
  check(strcmp(s1.last_data, "{\"count\":1}") == 0 && strcmp(s1.last_id, "1") == 0, "tick data %s id %s",
        s1.last_data, s1.last_id);

  s1.open = 0; /* the first client goes away */
  fire_timers(&host);
  check(s2.events == 2 && strcmp(s2.last_data, "{\"count\":2}") == 0,
        "second tick reaches the open stream: %s", s2.last_data);
  check(s1.released == 1, "the closed stream is released (%d)", s1.released);
  fire_timers(&host);
  check(s1.released == 1 && !s1.used_after_release, "and never used afterwards");
  check(s2.events == 3 && s2.released == 0, "the open stream keeps ticking");

  /* plexusd's order when unloading: revoke timers, drain, then stop() and destroy(). */
  host.timers[0].active = 0;
  const int errors_before_stop = host.errors_logged;
  d->stop(instance);
  check(s2.closed_by_plugin && s2.released == 1 && !s2.used_after_release,
        "stop closes and releases the open stream");
  check(host.errors_logged == errors_before_stop, "stop after the host revoked the timer logs no error");
  d->destroy(instance);
  check(s1.released == 1 && s2.released == 1, "destroy releases nothing twice");
  free_host(&host);

  /* Unloadable: nothing pins the library (a unique symbol, a thread_local destructor). */
  check(dlclose(dl) == 0, "dlclose");
  void* still = dlopen(library, RTLD_NOW | RTLD_NOLOAD);
  check(still == NULL, "the library is really unloaded after dlclose");
  if (still) dlclose(still);

  if (failures) {
    printf("%d check(s) failed\n", failures);
    return 1;
  }
  printf("all checks passed\n");
  return 0;
}
