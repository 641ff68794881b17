/*
 * Plexus plugin ABI: the stable C contract between the plexusd kernel and plugins.
 *
 * Rules (see docs/plugin-authors.md):
 *  - Every struct starts with `struct_size` and only ever grows at the end. Members
 *    are never removed, reordered or changed; a changed meaning gets a new name.
 *  - A reader checks `struct_size` (PLEXUS_HAS_MEMBER) and non-NULL before using a
 *    member, so an older plugin works with a newer kernel and the other way round.
 *  - ABI major must match exactly; the host's minor must be >= the plugin's minor.
 *  - Strings are `plexus_str`: UTF-8, not necessarily NUL-terminated, BORROWED for
 *    the duration of the call that passes them. Copy what you keep.
 *  - Data the host hands back (config, service results) arrives through a
 *    `plexus_write_fn` callback: the host writes, the plugin copies. Nothing is ever
 *    freed across the boundary.
 *  - Host functions return a plexus_status; on failure `last_error` tells why (a
 *    host-owned message valid until the next host call on the same thread).
 *  - No C++ type, exception or allocation crosses this boundary.
 *
 * Names: `plexus_*_fn` are callbacks implemented by the plugin and called by the
 * host; members of `plexus_host_api` are implemented by the host.
 */
#ifndef PLEXUS_ABI_H
#define PLEXUS_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PLEXUS_ABI_MAJOR 1
#define PLEXUS_ABI_MINOR 5

/* The one exported symbol of a plugin library. */
#define PLEXUS_PLUGIN_ENTRY_SYMBOL "plexus_plugin_v1"
/* The ELF section holding the plugin's metadata JSON, read before dlopen. */
#define PLEXUS_METADATA_SECTION ".plexus_metadata"

/* True when a struct of the given size contains `member` of `type`. */
#define PLEXUS_HAS_MEMBER(ptr, type, member) \
  ((ptr) != NULL && (ptr)->struct_size >= offsetof(type, member) + sizeof(((type*)0)->member))

typedef int32_t plexus_status;
#define PLEXUS_OK 0
#define PLEXUS_ERR_INVALID 1     /* bad argument or input */
#define PLEXUS_ERR_NOT_FOUND 2   /* no such service, tool, timer, ... */
#define PLEXUS_ERR_DENIED 3      /* outside what the manifest permits */
#define PLEXUS_ERR_UNAVAILABLE 4 /* closed stream, stopping plugin, circuit open */
#define PLEXUS_ERR_TIMEOUT 5
#define PLEXUS_ERR_CONFLICT 6    /* already registered */
#define PLEXUS_ERR_INTERNAL 7

#define PLEXUS_LOG_TRACE 0
#define PLEXUS_LOG_DEBUG 1
#define PLEXUS_LOG_INFO 2
#define PLEXUS_LOG_WARN 3
#define PLEXUS_LOG_ERROR 4

typedef struct plexus_str {
  const char* ptr;
  size_t len;
} plexus_str;

typedef struct plexus_pair {
  plexus_str name;
  plexus_str value;
} plexus_pair;

/* Opaque handles owned by the host. */
typedef struct plexus_host plexus_host;                   /* one per loaded plugin generation */
typedef struct plexus_http_response plexus_http_response; /* valid during the handler call */
typedef struct plexus_event_stream plexus_event_stream;   /* valid until stream_release */

/* Receives data from the host; `data` is borrowed for the call. */
typedef void (*plexus_write_fn)(void* user_data, plexus_str data);

/* ---- callers (ABI 1.1) --------------------------------------------------------- */

/* Who makes a request: set by the host after authentication, valid (with every
 * string in it) for the duration of the handler call only. Copy what you keep. */
typedef struct plexus_caller {
  size_t struct_size;
  plexus_str tenant;  /* tenant id: keep every tenant's data apart */
  plexus_str user_id; /* empty for anonymous callers */
  plexus_str name;    /* user name, API key name or share link id */
  plexus_str kind;    /* "anonymous", "user", "api_key", "share_link", "oidc" */
  const plexus_str* roles;
  size_t role_count;
  plexus_str request_id;
  plexus_str ip;
  const void* host_ref; /* the host's own record of the caller, for authz_check and audit */
} plexus_caller;

/* Route permission values besides permission strings such as "cep.rule.write". */
#define PLEXUS_PERMISSION_PUBLIC "public"               /* anyone, no credentials needed */
#define PLEXUS_PERMISSION_AUTHENTICATED "authenticated" /* any caller with valid credentials */
/* Anyone; credentials, when sent, are checked (401 when not valid) and the handler sees
 * the caller, anonymous or not, and decides itself. A host that predates this value
 * takes it for a permission string nobody holds: the route is denied, never opened. */
#define PLEXUS_PERMISSION_OPTIONAL "optional"

/* ---- HTTP ------------------------------------------------------------------ */

typedef struct plexus_http_request {
  size_t struct_size;
  plexus_str method;
  plexus_str path; /* percent-decoded, without the query */
  plexus_str target; /* as sent by the client */
  plexus_str body;
  plexus_str request_id;
  plexus_str remote_address;
  const plexus_pair* headers;
  size_t header_count;
  const plexus_pair* path_params;
  size_t path_param_count;
  const plexus_pair* query;
  size_t query_count;
  const plexus_caller* caller; /* ABI 1.1; never NULL when present */
} plexus_http_request;

/* Fills `response` through the host's response_* functions. A non-OK return, like
 * an escaped exception, becomes a JSON 500 and counts towards the circuit breaker. */
typedef plexus_status (*plexus_http_handler_fn)(void* user_data, const plexus_http_request* request,
                                                plexus_http_response* response);

/* Called once the stream's headers are sent; keep `stream` until stream_release. */
typedef void (*plexus_stream_open_fn)(void* user_data, plexus_event_stream* stream);

/* The handler never blocks (no I/O waits, no locks held long): the host may run it
 * on an I/O thread and save the hand-off to its worker pool. Without the flag the
 * handler runs on a worker thread and may block. */
#define PLEXUS_ROUTE_NONBLOCKING 1u

typedef struct plexus_route {
  size_t struct_size;
  plexus_str method;  /* "GET", "POST", ... */
  plexus_str pattern; /* "/api/v1/hello/{name}"; must lie under the manifest's route prefix */
  plexus_http_handler_fn handler;
  void* user_data;
  uint32_t flags; /* PLEXUS_ROUTE_* */
  /* ABI 1.1: who may call the route: PLEXUS_PERMISSION_PUBLIC, _AUTHENTICATED or a
   * permission string, where "{name}" stands for a path parameter
   * ("notes.note.read:{id}"). A route without one is denied to every caller. */
  plexus_str permission;
  /* ABI 1.5: one line saying what the route does, shown in the kernel's OpenAPI
   * document (/api/v1/openapi.json); empty: none. */
  plexus_str summary;
} plexus_route;

/* ---- timers, services, tools, events ----------------------------------------- */

typedef void (*plexus_timer_fn)(void* user_data);
typedef void (*plexus_callback_fn)(void* user_data);

/* JSON in, JSON out: write the result with `write(write_data, ...)`. */
typedef plexus_status (*plexus_service_fn)(void* user_data, plexus_str input_json, plexus_write_fn write,
                                           void* write_data);

/* ABI 1.4: a tool handler that is told who it runs for. `caller` is the user the
 * call is made for (valid for the call only): check finer permissions with
 * authz_check(caller, ...) and keep that tenant's data apart. */
typedef plexus_status (*plexus_tool_call_fn)(void* user_data, const plexus_caller* caller, plexus_str input_json,
                                             plexus_write_fn write, void* write_data);

/* A tool: the host validates the input against `input_schema_json` and checks the
 * caller's permission before the handler runs (docs/tools.md). */
typedef struct plexus_tool {
  size_t struct_size;
  plexus_str name;
  plexus_str description;
  plexus_str input_schema_json; /* JSON Schema of the input object */
  plexus_service_fn handler;    /* ABI 1.0 handler without the caller; NULL when `call` is set */
  void* user_data;
  /* ABI 1.4: what a caller needs to call the tool ("cmdb.ci.read",
   * PLEXUS_PERMISSION_AUTHENTICATED); empty: "tools.execute:<name>". */
  plexus_str permission;
  plexus_tool_call_fn call; /* ABI 1.4: used instead of `handler` when set */
} plexus_tool;

typedef void (*plexus_event_fn)(void* user_data, plexus_str topic, plexus_str payload_json);

/* ---- jobs (ABI 1.4) ----------------------------------------------------------------- */

/* A job being run: valid during the handler call only. */
typedef struct plexus_job plexus_job;

/* Runs one attempt of a job (docs/jobs.md): the payload in, the result JSON out through
 * `write`. Non-OK fails the attempt (retried with backoff up to its max_attempts);
 * what was written is then the error recorded with the job. Call job_progress now and
 * then: it records progress and says when to stop (cancelled). */
typedef plexus_status (*plexus_job_fn)(void* user_data, plexus_job* job, plexus_str payload_json,
                                       plexus_write_fn write, void* write_data);

#define PLEXUS_METRIC_COUNTER 0
#define PLEXUS_METRIC_GAUGE 1
#define PLEXUS_METRIC_HISTOGRAM 2

/* ---- resource kinds and data-source drivers (ABI 1.3) ------------------------- */

/* A content callback: reads `input_json`, writes its JSON answer through `write`.
 * Runs on request threads, concurrently; a non-OK return fails the request. */
typedef plexus_status (*plexus_content_fn)(void* user_data, plexus_str input_json, plexus_write_fn write,
                                           void* write_data);

/* Promotion to production waits for a second person holding "<prefix>.approve". */
#define PLEXUS_KIND_REQUIRES_APPROVAL 1u

/* ABI 1.5: a save hook that is told who saves. `caller` is NULL when the server itself
 * saves (bootstrap bundles at start); otherwise valid for the call only. */
typedef plexus_status (*plexus_resource_save_fn)(void* user_data, const plexus_caller* caller, plexus_str input_json,
                                                 plexus_write_fn write, void* write_data);

/* A kind of versioned resource a plugin owns (docs/resources.md). Every callback
 * may be NULL. */
typedef struct plexus_resource_kind {
  size_t struct_size;
  plexus_str name;              /* [a-z][a-z0-9-]{0,63}; also the URL segment */
  plexus_str json_schema;       /* JSON Schema of the content; empty accepts any JSON */
  plexus_str permission_prefix; /* "<prefix>.read|write|approve"; empty: the name */
  uint32_t flags;               /* PLEXUS_KIND_* */
  /* content -> [{"pointer": "/sql", "message": "..."}]: checks a schema cannot express */
  plexus_content_fn validate;
  /* content -> [{"kind": "datasource", "id": "ops"}]: what deleting would break */
  plexus_content_fn references;
  /* {"tenant","kind","id","stage","revision","content"} -> ["problem", ...]; any blocks it */
  plexus_content_fn pre_promotion;
  void* user_data;
  /* ABI 1.5: runs on every save of new content (create, update, rollback, undo, import),
   * after the schema and `validate`, and on every soft delete and restore (undo too), with
   * {"tenant","kind","id","operation": "create"|"update"|"rollback"|"import"|"delete"|
   *  "restore","content": the new content, null on delete, the content coming back on
   *  restore, "previous": the live content, null for a new resource and on restore}.
   * Writes [{"pointer","message"}] as validate does: any problem refuses the operation
   * with 422. PLEXUS_ERR_DENIED refuses it with 403, the written text being the message. */
  plexus_resource_save_fn check_save;
  /* ABI 1.5: a second home for the store's routes of this kind, under the plugin's route
   * prefix: "/api/v1/api-manager/apis" serves GET .../apis/{id}/revisions, POST
   * .../apis/{id}/promote and the rest as /api/v1/resources/<name>/... does, with the
   * same permissions. Empty: only /api/v1/resources/<name>. A literal path under the
   * manifest's permissions.routes, else PLEXUS_ERR_INVALID / PLEXUS_ERR_DENIED. */
  plexus_str route_prefix;
} plexus_resource_kind;

/* One statement for a driver. Values are bound, never spliced. */
typedef struct plexus_driver_query {
  size_t struct_size;
  plexus_str sql;         /* ":name" placeholders */
  plexus_str params_json; /* {"name": value, ...} */
  uint64_t max_rows;      /* rows beyond it are dropped and "truncated" set */
  uint64_t timeout_ms;    /* the statement is cancelled after it: PLEXUS_ERR_TIMEOUT */
} plexus_driver_query;

/* A data-source driver ("sqlite", "postgres", ...). The host pools connections: one
 * connection serves one call at a time, different connections run concurrently.
 * Every function writes its JSON answer through `write` on PLEXUS_OK and a message
 * (naming what failed, never a secret) on failure, returning
 * PLEXUS_ERR_INVALID (bad SQL or parameters), PLEXUS_ERR_DENIED (a write on a
 * read-only connection), PLEXUS_ERR_TIMEOUT or PLEXUS_ERR_UNAVAILABLE (cannot reach
 * the database). */
typedef struct plexus_driver {
  size_t struct_size;
  plexus_str name;
  plexus_str options_schema;       /* JSON Schema of the datasource's options */
  const plexus_str* secret_fields; /* option names sealed at rest and never shown */
  size_t secret_field_count;
  void* user_data;
  /* options_json: the datasource's content with secrets opened, always with a boolean
   * "read_only" the driver enforces through the database itself. */
  plexus_status (*open)(void* user_data, plexus_str options_json, void** out_connection, plexus_write_fn write,
                        void* write_data);
  void (*close)(void* user_data, void* connection);
  /* -> {"columns":[{"name","type"}],"rows":[[...],...],"truncated":bool} */
  plexus_status (*query)(void* user_data, void* connection, const plexus_driver_query* query, plexus_write_fn write,
                         void* write_data);
  /* -> {"changed": n} */
  plexus_status (*execute)(void* user_data, void* connection, const plexus_driver_query* query,
                           plexus_write_fn write, void* write_data);
  /* -> {"tables":[{"name","type":"table"|"view","columns":[{"name","type","nullable","primary_key"}],
   *      "foreign_keys":[{"columns":[...],"table":"...","references":[...]}]}]} */
  plexus_status (*schema)(void* user_data, void* connection, plexus_write_fn write, void* write_data);
  /* -> {"ok": true, ...driver details such as the server version} */
  plexus_status (*ping)(void* user_data, void* connection, plexus_write_fn write, void* write_data);
} plexus_driver;

/* ---- the host services table ------------------------------------------------- */

typedef struct plexus_host_api {
  size_t struct_size;
  uint32_t abi_major;
  uint32_t abi_minor;

  /* Why the last host call on this thread failed. */
  plexus_str (*last_error)(plexus_host* host);
  void (*log)(plexus_host* host, int32_t level, plexus_str message);
  /* The plugin's configuration section from its manifest, validated, as JSON. */
  plexus_status (*config_get)(plexus_host* host, plexus_write_fn write, void* write_data);
  /* The plugin's name, version and load generation as JSON. */
  plexus_status (*plugin_info)(plexus_host* host, plexus_write_fn write, void* write_data);
  /* Counts loads of this plugin in this process: 1, 2, ... (a reload makes a new one). */
  uint64_t (*plugin_generation)(plexus_host* host);

  /* Metrics: register a family once, then update children by label values. */
  plexus_status (*metric_register)(plexus_host* host, int32_t kind, plexus_str name, plexus_str help,
                                   const plexus_str* label_names, size_t label_count, uint64_t* out_metric);
  plexus_status (*metric_add)(plexus_host* host, uint64_t metric, const plexus_str* label_values,
                              size_t label_count, double value); /* counter inc, gauge add, histogram observe */
  plexus_status (*metric_set)(plexus_host* host, uint64_t metric, const plexus_str* label_values,
                              size_t label_count, double value); /* gauges only */

  /* HTTP routes, only under the manifest's route prefix. */
  plexus_status (*route_add)(plexus_host* host, const plexus_route* route);
  void (*response_set_status)(plexus_http_response* response, int32_t status);
  void (*response_set_header)(plexus_http_response* response, plexus_str name, plexus_str value);
  void (*response_set_body)(plexus_http_response* response, plexus_str body); /* copied */
  /* Turns the response into a Server-Sent Events stream; `open` runs once it is live. */
  plexus_status (*response_stream)(plexus_http_response* response, plexus_stream_open_fn open, void* user_data);

  /* Event streams: thread-safe; a closed stream answers PLEXUS_ERR_UNAVAILABLE. */
  plexus_status (*stream_send)(plexus_event_stream* stream, plexus_str event, plexus_str data, plexus_str id);
  void (*stream_close)(plexus_event_stream* stream);
  /* `callback` runs once when the stream ends, for whatever reason. */
  void (*stream_on_close)(plexus_event_stream* stream, plexus_callback_fn callback, void* user_data);
  /* The plugin is done with the handle; it must not be used afterwards. */
  void (*stream_release)(plexus_event_stream* stream);

  /* Timers run on the host's worker pool; none fires after the plugin stops.
   * timer_cancel stops future runs but does not wait for a run already in
   * progress: keep what the callback uses alive until the plugin stops. */
  plexus_status (*timer_start)(plexus_host* host, uint64_t interval_ms, int32_t repeat, plexus_timer_fn fn,
                               void* user_data, uint64_t* out_timer);
  plexus_status (*timer_cancel)(plexus_host* host, uint64_t timer);

  /* Services: named JSON functions other plugins call. */
  plexus_status (*service_register)(plexus_host* host, plexus_str name, plexus_service_fn fn, void* user_data);
  plexus_status (*service_call)(plexus_host* host, plexus_str name, plexus_str input_json, uint64_t timeout_ms,
                                plexus_write_fn write, void* write_data);

  /* Tools: the registry the assistant and MCP serve. */
  plexus_status (*tool_register)(plexus_host* host, const plexus_tool* tool);

  /* Events: in-process publish/subscribe on topics the manifest permits.
   * Patterns: "cmdb.ci.changed", "cmdb.*" (one level), "cmdb.>" (any depth). */
  plexus_status (*event_publish)(plexus_host* host, plexus_str topic, plexus_str payload_json);
  plexus_status (*event_subscribe)(plexus_host* host, plexus_str pattern, plexus_event_fn fn, void* user_data,
                                   uint64_t* out_subscription);
  plexus_status (*event_unsubscribe)(plexus_host* host, uint64_t subscription);

  /* ---- ABI 1.1 ---- */

  /* May `caller` do `permission` ("notes.note.write") on `resource` ("42"; empty for
   * none)? With a resource the check is for "permission:resource". PLEXUS_OK when
   * allowed, PLEXUS_ERR_DENIED when not (last_error says which permission). */
  plexus_status (*authz_check)(plexus_host* host, const plexus_caller* caller, plexus_str permission,
                               plexus_str resource);
  /* Appends a row to the audit log. `caller` is the request's caller, or NULL when the
   * plugin acts on its own. event_json: {"action", "target", "outcome"?, "before"?,
   * "after"?, "details"?}; the action is prefixed with the plugin's name unless it
   * starts with it. Never put secrets in it. */
  plexus_status (*audit)(plexus_host* host, const plexus_caller* caller, plexus_str event_json);

  /* ---- ABI 1.2: the kernel database ---- */

  /* Brings the plugin's schema up to date: migrations_json is
   * [{"version":1,"description":"...","statements":["CREATE TABLE ...", ...]}, ...]
   * numbered 1..N; each runs once, in a transaction, recorded as component
   * "plugin:<name>". SQL must run on SQLite and PostgreSQL; name your tables with
   * your plugin's name as prefix and give every tenant-owned table a tenant_id.
   * A migration may give "sqlite" and "postgresql" lists, used on that database
   * instead of "statements"; one without "statements" needs both. Hosts before
   * SDK 0.6.2 refuse such a migration (PLEXUS_ERR_INVALID). */
  plexus_status (*db_migrate)(plexus_host* host, plexus_str migrations_json);
  /* Runs a query. Values are bound, never spliced: ":name" in `sql`, params_json
   * {"name": value}. Writes {"columns":[...],"rows":[[...],...],"truncated":bool},
   * at most max_rows rows (0: the host's limit, 10000). */
  plexus_status (*db_query)(plexus_host* host, plexus_str sql, plexus_str params_json, uint64_t max_rows,
                            plexus_write_fn write, void* write_data);
  /* Runs a statement that returns no rows; out_changed (may be NULL) receives how
   * many rows it changed. */
  plexus_status (*db_exec)(plexus_host* host, plexus_str sql, plexus_str params_json, int64_t* out_changed);

  /* ---- ABI 1.3: resource kinds, datasources, drivers ---- */

  /* Registers a resource kind served under /api/v1/resources/<name>; it goes away
   * with the plugin (its resources stay in the store). */
  plexus_status (*resource_kind_register)(plexus_host* host, const plexus_resource_kind* kind);
  /* A resource of `tenant`: its current revision (stage "") or the revision a stage
   * ("staging", "production") points at, as {"kind","id","revision","content",...}.
   * PLEXUS_ERR_NOT_FOUND when there is none. Only kinds the plugin registered. */
  plexus_status (*resource_get)(plexus_host* host, plexus_str tenant, plexus_str kind, plexus_str id,
                                plexus_str stage, plexus_write_fn write, void* write_data);
  /* Every live resource of `kind` in `tenant` that `stage` points at (stage "": the
   * current revision), as [{"id","revision","content"}, ...]. */
  plexus_status (*resource_list)(plexus_host* host, plexus_str tenant, plexus_str kind, plexus_str stage,
                                 plexus_write_fn write, void* write_data);

  /* Makes a data-source driver available to every datasource naming it. */
  plexus_status (*driver_register)(plexus_host* host, const plexus_driver* driver);
  /* Runs a query on `tenant`'s datasource `name` (the kernel's "datasource" resources),
   * answering as plexus_driver.query does. max_rows/timeout_ms 0: the datasource's
   * limits. Failures name the datasource (last_error), never a secret. */
  plexus_status (*datasource_query)(plexus_host* host, plexus_str tenant, plexus_str name,
                                    const plexus_driver_query* query, plexus_write_fn write, void* write_data);
  /* As datasource_query for statements without rows: {"changed": n}. */
  plexus_status (*datasource_execute)(plexus_host* host, plexus_str tenant, plexus_str name,
                                      const plexus_driver_query* query, plexus_write_fn write, void* write_data);
  /* Tables, columns, types and keys, as plexus_driver.schema answers. */
  plexus_status (*datasource_schema)(plexus_host* host, plexus_str tenant, plexus_str name, plexus_write_fn write,
                                     void* write_data);

  /* ---- ABI 1.4: tools for a caller, the cluster leader, keyed and queued events, jobs
   * and schedules ---- */

  /* Calls tool `name` for `caller` (a caller the host passed to this plugin), with
   * that caller's permissions: the input is checked against the tool's schema
   * (PLEXUS_ERR_INVALID, last_error names the field), the tool's permission is
   * checked (PLEXUS_ERR_DENIED), and the call is audited. timeout_ms 0: the host's
   * tools.call_timeout. The result is written through `write`. */
  plexus_status (*tool_call)(plexus_host* host, const plexus_caller* caller, plexus_str name, plexus_str input_json,
                             uint64_t timeout_ms, plexus_write_fn write, void* write_data);
  /* Does this node hold the cluster's leader lease? Run singleton work only when
   * *out_is_leader is 1; ask again before each run, leadership moves. `write` (may be
   * NULL) receives {"node_id","leader":bool,"leader_node","token"}, token being the
   * lease's fencing token. PLEXUS_ERR_UNAVAILABLE on a host without a cluster. */
  plexus_status (*cluster_leader)(plexus_host* host, int32_t* out_is_leader, plexus_write_fn write,
                                  void* write_data);
  /* As event_publish, with a key: events with the same key reach a queued
   * subscriber's lanes in order (one lane per key). */
  plexus_status (*event_publish_keyed)(plexus_host* host, plexus_str topic, plexus_str key, plexus_str payload_json);
  /* As event_subscribe, delivered from a queue of the subscriber's own instead of on
   * the publisher's thread. options_json (every key optional): {"capacity": events queued per lane, 1..1000000
   * (default 1000), "overflow": "block" (default: the publisher waits) | "drop_oldest" |
   * "drop_newest", "lanes": delivery threads 1..64 (default 1)}. An unknown key or a bad
   * value is PLEXUS_ERR_INVALID naming it. */
  plexus_status (*event_subscribe_queued)(plexus_host* host, plexus_str pattern, plexus_str options_json,
                                          plexus_event_fn fn, void* user_data, uint64_t* out_subscription);

  /* Jobs: the persistent queue (docs/jobs.md). Kinds must lie within the manifest's
   * permissions.jobs patterns, for handlers, enqueues, reads and cancels alike. */
  /* Runs jobs of `kind` on this node while the plugin is loaded; a reload hands the kind
   * to the new generation, an unload waits for running jobs and removes the handler
   * (waiting jobs stay queued). PLEXUS_ERR_CONFLICT when another plugin handles it. */
  plexus_status (*job_handler_register)(plexus_host* host, plexus_str kind, plexus_job_fn fn, void* user_data);
  /* Records the running job's progress (0..100) and message. Returns 1 when the job
   * should stop (cancel requested or its claim lost): return from the handler then. */
  int32_t (*job_progress)(plexus_job* job, int32_t percent, plexus_str message);
  /* The running job as {"id","tenant","kind","attempts","max_attempts","priority"}. */
  plexus_status (*job_info)(plexus_job* job, plexus_write_fn write, void* write_data);
  /* Enqueues a job for `tenant`. options_json (may be empty): {"priority": -1000..1000,
   * "max_attempts": 1..100, "delay_ms": n}. */
  plexus_status (*job_enqueue)(plexus_host* host, plexus_str tenant, plexus_str kind, plexus_str payload_json,
                               plexus_str options_json, int64_t* out_id);
  /* A job of `tenant` as JSON (as GET /api/v1/jobs/{id} shows it); PLEXUS_ERR_NOT_FOUND. */
  plexus_status (*job_get)(plexus_host* host, plexus_str tenant, int64_t id, plexus_write_fn write,
                           void* write_data);
  /* Cancels a waiting job, or asks a running one to stop. PLEXUS_ERR_NOT_FOUND;
   * PLEXUS_ERR_CONFLICT when it already finished. */
  plexus_status (*job_cancel)(plexus_host* host, plexus_str tenant, int64_t id);
  /* Creates or replaces schedule `name` of `tenant`, owned by the plugin. spec_json as
   * PUT /api/v1/schedules/{name} takes it: {"expression","job_kind","time_zone"?,
   * "missed_runs"?,"catch_up_cap"?,"singleton"?,"payload"?,"priority"?}. Writes the
   * schedule as JSON. PLEXUS_ERR_INVALID names the bad field. */
  plexus_status (*schedule_put)(plexus_host* host, plexus_str tenant, plexus_str name, plexus_str spec_json,
                                plexus_write_fn write, void* write_data);
  /* Only schedules this plugin made; PLEXUS_ERR_NOT_FOUND otherwise. */
  plexus_status (*schedule_remove)(plexus_host* host, plexus_str tenant, plexus_str name);
  plexus_status (*schedule_pause)(plexus_host* host, plexus_str tenant, plexus_str name);
  plexus_status (*schedule_resume)(plexus_host* host, plexus_str tenant, plexus_str name);

  /* ---- ABI 1.5: many rows in one statement's transaction ---- */

  /* Runs `sql` once per row of batch_json, {"columns": ["name", ...], "rows": [[value,
   * ...], ...]} (the shape db_query answers with): each row's values are bound to the
   * columns' ":name" placeholders as db_exec binds them, all in one transaction: every
   * row or none. The statement is prepared once, which makes this the cheap way to write
   * many rows. out_changed (may be NULL) receives the rows changed in total.
   * PLEXUS_ERR_INVALID names the column or row at fault. */
  plexus_status (*db_exec_batch)(plexus_host* host, plexus_str sql, plexus_str batch_json, int64_t* out_changed);

  /* New members are appended here, with a minor version bump. */
} plexus_host_api;

/* ---- the plugin descriptor ------------------------------------------------------ */

#define PLEXUS_PLUGIN_FLAG_NONE 0u

typedef struct plexus_plugin_descriptor {
  size_t struct_size;
  uint32_t abi_major;
  uint32_t abi_minor;
  uint64_t flags;
  const char* name;          /* NUL-terminated, static */
  const char* version;       /* semantic version, static */
  const char* metadata_json; /* the same JSON as the metadata section, static */

  /* Builds the instance; register routes, services, ... in start, not here. */
  plexus_status (*create)(const plexus_host_api* api, plexus_host* host, void** out_instance);
  plexus_status (*start)(void* instance);
  void (*stop)(void* instance);
  void (*destroy)(void* instance);
} plexus_plugin_descriptor;

typedef const plexus_plugin_descriptor* (*plexus_plugin_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* PLEXUS_ABI_H */
