// The keys plexusd reads. config/plexus.yaml and docs/configuration.md list the
// same keys; config_test fails when they drift apart.
#include "kernel/config/config.hpp"

namespace plexus::config {
namespace {

constexpr std::int64_t kKiB = 1024;
const std::vector<std::string> kLogLevels = {"trace", "debug", "info", "warn", "error", "critical", "off"};

Schema build_kernel_schema() {
  Schema schema;
  schema.add({.path = "data_dir", .type = Type::string, .default_value = "./data",
              .description = "Directory for the embedded database, logs and other state"});

  schema
      .add({.path = "http.address", .type = Type::string, .default_value = "127.0.0.1",
            .description = "Address the HTTP server listens on; 0.0.0.0 listens on every interface"})
      .add({.path = "http.port", .type = Type::integer, .default_value = "8080",
            .description = "TCP port of the HTTP server; 0 picks a free port", .min = 0, .max = 65535})
      .add({.path = "http.io_threads", .type = Type::integer, .default_value = "2",
            .description = "Threads that accept connections and move bytes", .min = 1, .max = 64})
      .add({.path = "http.workers", .type = Type::integer, .default_value = "8",
            .description = "Threads that run request handlers, so slow handlers never block I/O", .min = 1,
            .max = 1024})
      .add({.path = "http.max_header_size", .type = Type::size, .default_value = "16KiB",
            .description = "Largest request line plus headers a client may send", .min = kKiB})
      .add({.path = "http.max_body_size", .type = Type::size, .default_value = "8MiB",
            .description = "Largest request body a client may send"})
      .add({.path = "http.header_timeout", .type = Type::duration, .default_value = "10s",
            .description = "Time a client has to send the request headers", .min = 1})
      .add({.path = "http.body_timeout", .type = Type::duration, .default_value = "60s",
            .description = "Time a client has to send the request body", .min = 1})
      .add({.path = "http.idle_timeout", .type = Type::duration, .default_value = "60s",
            .description = "How long an idle keep-alive connection stays open", .min = 1})
      .add({.path = "http.write_timeout", .type = Type::duration, .default_value = "30s",
            .description = "Time a client has to read a response before the connection is closed", .min = 1})
      .add({.path = "http.shutdown_timeout", .type = Type::duration, .default_value = "15s",
            .description = "On shutdown, how long in-flight requests may finish before connections are closed"})
      .add({.path = "http.max_connections", .type = Type::integer, .default_value = "10000",
            .description = "Connections open at the same time, at most", .min = 1})
      .add({.path = "http.tls.cert", .type = Type::string, .default_value = "",
            .description = "PEM certificate chain file; HTTPS is on when cert and key are both set"})
      .add({.path = "http.tls.key", .type = Type::string, .default_value = "",
            .description = "PEM private key file (a path, not the key itself)"})
      .add({.path = "http.console.address", .type = Type::string, .default_value = "",
            .description = "Address of a separate listener for the web console; empty = same as http.address"})
      .add({.path = "http.console.port", .type = Type::integer, .default_value = "0",
            .description = "Port of a separate listener for the web console; 0 = served by the main listener",
            .min = 0, .max = 65535})
      .add({.path = "http.sse.max_queued", .type = Type::integer, .default_value = "1024",
            .description = "Events queued per server-sent-event stream before a slow client is dropped",
            .min = 1})
      .add({.path = "http.sse.heartbeat", .type = Type::duration, .default_value = "15s",
            .description = "Interval of keep-alive comments on idle server-sent-event streams", .min = 1})
      .add({.path = "http.cors.origins", .type = Type::string_list, .default_value = "",
            .description = "Origins allowed to call the API from a browser (CORS), e.g. [https://ops.example.com]; * for any; empty = none"})
      .add({.path = "http.hsts_max_age", .type = Type::duration, .default_value = "365d",
            .description = "Strict-Transport-Security max-age sent on HTTPS listeners; 0 = no header"});

  schema
      .add({.path = "log.level", .type = Type::string, .default_value = "info",
            .description = "Level of every logger not listed in log.loggers", .choices = kLogLevels})
      .add({.path = "log.format", .type = Type::string, .default_value = "text",
            .description = "text for people, json for one JSON object per line", .choices = {"text", "json"}})
      .add({.path = "log.console", .type = Type::boolean, .default_value = "true",
            .description = "Write log lines to standard error"})
      .add({.path = "log.file", .type = Type::string, .default_value = "",
            .description = "Log file; empty = <data_dir>/logs/plexus.log, off = no file"})
      .add({.path = "log.file_max_size", .type = Type::size, .default_value = "20MiB",
            .description = "Size at which the log file is rotated", .min = kKiB})
      .add({.path = "log.file_max_files", .type = Type::integer, .default_value = "5",
            .description = "Rotated log files kept besides the current one", .min = 1})
      .add({.path = "log.loggers", .type = Type::string_map, .default_value = "",
            .description = "Level per logger, e.g. {http.access: warn}", .choices = kLogLevels})
      .add({.path = "log.debug", .type = Type::boolean, .default_value = "false",
            .description = "Debug mode, for troubleshooting"});

  schema
      .add({.path = "store.url", .type = Type::string, .default_value = "",
            .description = "Database URL, sqlite:FILE or postgresql://...; empty = sqlite:<data_dir>/plexus.db",
            .secret = true})
      .add({.path = "store.pool_size", .type = Type::integer, .default_value = "4",
            .description = "Database connections in the pool", .min = 1, .max = 256})
      .add({.path = "store.busy_timeout", .type = Type::duration, .default_value = "5s",
            .description = "How long a statement waits for a locked database before failing"})
      .add({.path = "store.secret_key", .type = Type::string, .default_value = "",
            .description = "Key that seals stored credentials (data-source passwords), at least 32 bytes; empty = generated once into <data_dir>/secrets/store-key", .secret = true});

  schema
      .add({.path = "datasources.max_rows", .type = Type::integer, .default_value = "10000",
            .description = "Most rows a datasource query returns; a datasource's max_rows may lower it", .min = 1,
            .max = 1000000})
      .add({.path = "datasources.timeout", .type = Type::duration, .default_value = "30s",
            .description = "Statement timeout for datasource calls unless the datasource sets timeout_ms"})
      .add({.path = "datasources.idle_connections", .type = Type::integer, .default_value = "8",
            .description = "Idle connections kept per datasource for reuse", .min = 0, .max = 64});

  schema
      .add({.path = "cluster.node_id", .type = Type::string, .default_value = "",
            .description = "This node's name in the cluster; empty = <hostname>-<8 random characters>, made once into <data_dir>/node-id"})
      .add({.path = "cluster.lease_ttl", .type = Type::duration, .default_value = "15s",
            .description = "Leader lease time: a node that stops renewing is replaced after it; renewed every third of it"});

  schema
      .add({.path = "jobs.concurrency", .type = Type::integer, .default_value = "4",
            .description = "Jobs this node runs at once", .min = 1, .max = 256})
      .add({.path = "jobs.poll_interval", .type = Type::duration, .default_value = "1s",
            .description = "How often an idle worker looks for due jobs", .min = 1})
      .add({.path = "jobs.claim_duration", .type = Type::duration, .default_value = "60s",
            .description = "How long a job stays claimed without renewal: the time until another node retries the jobs of a node that died; renewed every third of it", .min = 3})
      .add({.path = "jobs.max_attempts", .type = Type::integer, .default_value = "5",
            .description = "Attempts of a job enqueued by a schedule (or a plugin that names none); 1 = no retry", .min = 1,
            .max = 100});

  schema
      .add({.path = "schedules.tick", .type = Type::duration, .default_value = "1s",
            .description = "How often each node looks for due schedules", .min = 1})
      .add({.path = "schedules.missed_runs", .type = Type::string, .default_value = "run_once",
            .description = "What a schedule without its own policy does with fire times missed while no node ran it: skip, run_once or run_all",
            .choices = {"skip", "run_once", "run_all"}})
      .add({.path = "schedules.catch_up_cap", .type = Type::integer, .default_value = "100",
            .description = "Most missed fire times run_all catches up at once, unless the schedule sets its own", .min = 1,
            .max = 1000})
      .add({.path = "schedules.misfire_threshold", .type = Type::duration, .default_value = "10s",
            .description = "A fire time later than this counts as missed and follows the missed-runs policy; earlier ones just run", .min = 0});

  schema
      .add({.path = "events.redis.url", .type = Type::string, .default_value = "",
            .description = "Redis that carries events between nodes, redis://[[user]:password@]host[:port][/db]; empty = events stay on this node",
            .secret = true})
      .add({.path = "events.redis.stream", .type = Type::string, .default_value = "plexus:events",
            .description = "Key of the Redis stream every node of the cluster shares"})
      .add({.path = "events.redis.max_length", .type = Type::integer, .default_value = "100000",
            .description = "Entries the stream keeps, roughly (XADD MAXLEN ~); 0 = never trimmed", .min = 0})
      .add({.path = "events.stream_queue", .type = Type::integer, .default_value = "256",
            .description = "Events queued per client of /api/v1/admin/events/stream before the oldest are dropped",
            .min = 1, .max = 100000});

  schema.add({.path = "metrics.enabled", .type = Type::boolean, .default_value = "true",
              .description = "Serve Prometheus metrics at /metrics"});

  schema
      .add({.path = "plugins.dir", .type = Type::string, .default_value = "",
            .description = "Directory of plugin libraries; empty = lib/plexus beside the plexusd binary's bin/"})
      .add({.path = "plugins.manifests", .type = Type::string, .default_value = "manifests",
            .description = "Directory of plugin manifests (*.yaml), watched for changes"})
      .add({.path = "plugins.watch", .type = Type::boolean, .default_value = "true",
            .description = "Load, reload and unload plugins when their manifests or libraries change"})
      .add({.path = "plugins.drain_timeout", .type = Type::duration, .default_value = "10s",
            .description = "How long a reload waits for in-flight calls of the old generation", .min = 1})
      .add({.path = "plugins.breaker_failures", .type = Type::integer, .default_value = "5",
            .description = "Consecutive plugin failures that open its circuit breaker", .min = 1, .max = 1000})
      .add({.path = "plugins.breaker_cooldown", .type = Type::duration, .default_value = "30s",
            .description = "How long an open circuit rejects calls before one trial call", .min = 1})
      .add({.path = "plugins.tool_call_timeout", .type = Type::duration, .default_value = "30s",
            .description = "How long a tool call may run before its caller gets 504 (docs/tools.md)", .min = 1});
  schema
      .add({.path = "auth.jwt_secret", .type = Type::string, .default_value = "",
            .description = "HS256 key for access tokens, at least 32 bytes; empty = generated once into <data_dir>/secrets/jwt-secret", .secret = true})
      .add({.path = "auth.issuer", .type = Type::string, .default_value = "plexus",
            .description = "iss claim of the access tokens this server issues"})
      .add({.path = "auth.audience", .type = Type::string, .default_value = "plexus",
            .description = "aud claim of the access tokens this server issues and accepts"})
      .add({.path = "auth.access_ttl", .type = Type::duration, .default_value = "15m",
            .description = "Lifetime of an access token", .min = 1000})
      .add({.path = "auth.refresh_ttl", .type = Type::duration, .default_value = "7d",
            .description = "Idle lifetime of a session: each refresh extends it by this much", .min = 1000})
      .add({.path = "auth.session_max_age", .type = Type::duration, .default_value = "30d",
            .description = "Absolute lifetime of a session, however often it is refreshed", .min = 1000})
      .add({.path = "auth.lockout.max_failures", .type = Type::integer, .default_value = "5",
            .description = "Failed logins within auth.lockout.window that lock the account", .min = 1, .max = 1000})
      .add({.path = "auth.lockout.window", .type = Type::duration, .default_value = "15m",
            .description = "Period over which failed logins are counted", .min = 1000})
      .add({.path = "auth.lockout.duration", .type = Type::duration, .default_value = "15m",
            .description = "How long a locked account refuses logins", .min = 1000})
      .add({.path = "auth.password.min_length", .type = Type::integer, .default_value = "12",
            .description = "Shortest password accepted, in characters", .min = 8, .max = 256})
      .add({.path = "auth.share.max_ttl", .type = Type::duration, .default_value = "30d",
            .description = "Longest lifetime a share link may be given", .min = 1000})
      .add({.path = "auth.oidc.issuer", .type = Type::string, .default_value = "",
            .description = "OIDC issuer whose RS256 tokens are accepted (its iss claim); empty = SSO off"})
      .add({.path = "auth.oidc.audience", .type = Type::string, .default_value = "",
            .description = "aud claim required in OIDC tokens; empty = not checked"})
      .add({.path = "auth.oidc.jwks", .type = Type::string, .default_value = "",
            .description = "The issuer's signing keys: a JWKS file path or an https:// URL"})
      .add({.path = "auth.oidc.jwks_refresh", .type = Type::duration, .default_value = "1h",
            .description = "How often a JWKS URL is fetched again (a file is re-read when it changes)", .min = 1000})
      .add({.path = "auth.oidc.username_claim", .type = Type::string, .default_value = "preferred_username",
            .description = "Claim holding the user name"})
      .add({.path = "auth.oidc.roles_claim", .type = Type::string, .default_value = "roles",
            .description = "Claim holding the roles (an array of strings)"})
      .add({.path = "auth.oidc.tenant_claim", .type = Type::string, .default_value = "tenant",
            .description = "Claim holding the tenant id; absent = auth.oidc.default_tenant"})
      .add({.path = "auth.oidc.default_tenant", .type = Type::string, .default_value = "default",
            .description = "Tenant of OIDC users whose token names none"})
      .add({.path = "auth.oidc.role_map", .type = Type::string_map, .default_value = "",
            .description = "Issuer role -> Plexus role, e.g. {ops-admins: admin}; unmapped roles are kept only if they exist in Plexus"})
      .add({.path = "audit.retention", .type = Type::duration, .default_value = "365d",
            .description = "Age after which audit rows are exported, then deleted; 0 = keep forever"})
      .add({.path = "audit.export_dir", .type = Type::string, .default_value = "",
            .description = "Where rows are exported before deletion; empty = <data_dir>/audit-export"});

  schema
      .add({.path = "resources.retention.keep_last", .type = Type::integer, .default_value = "20",
            .description = "Revisions kept per resource, counting back from the current one (besides staged, pending and young ones)",
            .min = 1})
      .add({.path = "resources.retention.keep_younger_than", .type = Type::duration, .default_value = "30d",
            .description = "Revisions younger than this are kept, however many there are"})
      .add({.path = "resources.retention.interval", .type = Type::duration, .default_value = "1h",
            .description = "How often old revisions are pruned; 0 = never"})
      .add({.path = "resources.bootstrap", .type = Type::string, .default_value = "",
            .description = "Bundle file, or directory of *.yaml, *.yml and *.json bundles, imported into tenant default on start, creating only missing resources; empty = none"});
  return schema;
}

}  // namespace

const Schema& kernel_schema() {
  static const Schema schema = build_kernel_schema();
  return schema;
}

}  // namespace plexus::config
