// The execution log of runtime APIs (issue 7 item 3; the original MVP's tb_api_exec_log
// and tb_api_exec_step_log): one row per run and one per workflow step, in the kernel
// database through the SDK (tables api_manager_exec_log, api_manager_exec_step_log),
// browsable over REST and pruned after a retention period. docs/api-manager.md is the
// user's view.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <plexus/plugin.hpp>

namespace plexus::api_manager {

struct StepRecord {
  std::string name;
  std::string status;  // "ok" | "error" | "skipped" ...
  double duration_ms = 0;
  std::int64_t rows = -1;  // -1: not a row-producing step
  std::string error;
};

struct ExecRecord {
  std::string tenant, api_id;
  std::int64_t revision = 0;
  std::string stage;   // "production" | "staging"
  std::string caller;  // "user:alice", "anonymous", "api-key:..."
  std::string request_id, method, path;
  nlohmann::json params;  // the validated parameters (stored with long values cut, see kMaxParamText)
  int status = 200;       // HTTP status answered
  std::string
      error_class;    // "" | "validation" | "permission" | "datasource" | "timeout" | "script" | "internal"
  std::string error;  // the message the caller saw
  double duration_ms = 0;
  std::int64_t rows = -1;
  std::chrono::system_clock::time_point started_at;
  std::vector<StepRecord> steps;
};

struct ExecFilter {
  std::string api_id;
  std::string status;  // "ok" (HTTP status < 400) | "error" | "" (both)
  std::string error_class;
  std::optional<std::chrono::system_clock::time_point> since, until;  // on started_at; until exclusive
  int limit = 50;                                                     // 1..kMaxBrowseLimit
  std::optional<std::int64_t> cursor;                                 // the next_cursor of the previous page
};

inline constexpr int kMaxBrowseLimit = 500;
// Runs waiting for a flush at most, and runs per transaction when flushing
// (db_exec_batch: one prepared INSERT run per row).
inline constexpr std::size_t kMaxPending = 20000;
inline constexpr std::size_t kRunsPerWrite = 500;
// Stored strings are cut to this many bytes (at a UTF-8 boundary) and marked as cut.
inline constexpr std::size_t kMaxParamText = 1024;
inline constexpr std::size_t kMaxErrorText = 2000;
// The stored parameters as a whole: beyond this, {"_truncated": true, "bytes": n}.
inline constexpr std::size_t kMaxParamsBytes = 16 * 1024;

// The plugin's schema as db_migrate takes it (every table of the plugin, versions 1..N),
// for tests that start from an older version.
std::string_view schema_migrations();

class ExecLog {
 public:
  // Brings the tables up to date (db_migrate); throws sdk::Error when that fails.
  explicit ExecLog(sdk::Host& host);

  // One INSERT (and one batch for the steps when there are any). Never throws:
  // a failed write is logged without the parameters and counted (write_failures()).
  // Returns the id the run was recorded with, or nullopt when the write failed.
  std::optional<std::int64_t> record(const ExecRecord& record) noexcept;

  // Buffered (the runtime's hot path): the run gets its id now and is written with others
  // by the next flush(), many rows per transaction. Beyond kMaxPending waiting runs, a run is
  // counted as a write failure instead of growing memory. Never throws.
  void enqueue(ExecRecord record) noexcept;
  // Writes every waiting run; browse(), get() and slow_runs() flush first, so a node's own
  // runs are visible to its readers at once. The plugin flushes on a timer and on stop.
  void flush() noexcept;
  std::size_t pending() const;

  // {"items": [...newest first...], "next_cursor": "<id>" | null}; each item as get()
  // shows it, without the steps ("step_count" says how many there are).
  nlohmann::json browse(const std::string& tenant, const ExecFilter& filter);
  // A run of `tenant` with its "steps"; nullopt when there is none (or it is another tenant's).
  std::optional<nlohmann::json> get(const std::string& tenant, std::int64_t id);
  // Runs of one API since `since`, and those that took at least `threshold_ms`.
  struct SlowRuns {
    std::int64_t runs = 0, slow_runs = 0;
    double max_ms = 0;
    std::string last_slow_at;  // "" when none was slow
  };
  SlowRuns slow_runs(const std::string& tenant, const std::string& api_id, double threshold_ms,
                     std::chrono::system_clock::time_point since);
  // Removes runs (and their steps) recorded before `older_than`; returns the runs removed.
  // Works in batches so a large backlog never holds the database for long.
  std::int64_t prune(std::chrono::system_clock::time_point older_than);

  std::int64_t write_failures() const { return write_failures_.load(std::memory_order_relaxed); }

 private:
  // Ids are the microseconds since the epoch at recording, made unique and increasing
  // within the process, so newest-first is id order and retention can cut by id.
  std::int64_t next_id();
  struct Pending {
    ExecRecord record;
    std::int64_t id;
  };
  // Runs [first, last) and their steps, each table in one transaction (db_exec_batch);
  // throws when the runs cannot be written, counts the runs whose steps could not.
  void write(const std::vector<Pending>& runs, std::size_t first, std::size_t last);
  void count_failure(const ExecRecord& record, const std::string& why) noexcept;

  mutable std::mutex pending_mutex_;
  std::vector<Pending> pending_;
  std::mutex flush_mutex_;

  sdk::Host& host_;
  sdk::Metric failures_metric_;
  std::atomic<std::int64_t> last_id_{0};
  std::atomic<std::int64_t> write_failures_{0};
};

// GET <prefix>/executions?api=&status=&error_class=&since=&until=&limit=&cursor= and
// GET <prefix>/executions/{id}; permission "api.read", tenant from the caller; 400 naming
// a bad filter field, 404 for an unknown id.
void register_exec_log_routes(sdk::Host& host, ExecLog& log, const std::string& prefix);

// The plugin configuration key holding the retention ("30d", "12h", "90m", "45s",
// "500ms") and its default.
inline constexpr std::string_view kRetentionConfigKey = "exec_log_retention";
inline constexpr std::string_view kDefaultRetention = "30d";

// "30d" -> 30 days; nullopt for anything else than digits and one of ms, s, m, h, d.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);
// The retention from the plugin's config JSON (config_get): kRetentionConfigKey, or the
// default when absent. Throws std::invalid_argument naming the key on a bad value.
std::chrono::milliseconds exec_log_retention(const nlohmann::json& config);

// Prunes runs older than `keep` once soon after start and then every `interval`, on host
// timers; returns the repeating timer's id. The timers go with the plugin; keep `log`
// alive until the plugin stops. Every node prunes: deleting what is gone is harmless.
std::uint64_t start_exec_log_retention(sdk::Host& host, ExecLog& log, std::chrono::milliseconds keep,
                                       std::chrono::milliseconds interval = std::chrono::hours(1));

// Times as the kernel stores them: "2026-11-27T09:07:03.123Z" (sorts as text).
std::string format_utc(std::chrono::system_clock::time_point time);
// Accepts "YYYY-MM-DDTHH:MM:SS[.fff...]Z"; nullopt otherwise. Times beyond what
// system_clock holds (after 2262) are clamped to its end.
std::optional<std::chrono::system_clock::time_point> parse_utc(std::string_view text);

}  // namespace plexus::api_manager
