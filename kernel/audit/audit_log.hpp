// The audit log (COM-2): one append-only, hash-chained row per change and per
// sensitive read, kept in the kernel database (component "kernel.audit").
//
// Storage: table audit_log (one row per record, columns as AuditRecord, JSON as
// text) and the one-row table audit_head holding the chain's head (last sequence
// and hash, updated with every append) and the retention anchor (sequence and
// hash of the last row deleted by retention). verify() needs both: the chain
// proves the rows link up, the head proves none was cut off the end.
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernel/audit/chain.hpp"
#include "kernel/auth/caller.hpp"
#include "kernel/store/clock.hpp"
#include "kernel/store/database.hpp"

namespace plexus::audit {

// What happened; time, sequence and hashes are filled in by AuditLog::record.
struct AuditEvent {
  std::string tenant = "default";
  std::string actor;   // Caller::actor(): "user:admin", "apikey:ci", "system"
  std::string action;  // "<area>.<verb>": "user.create", "auth.login", "audit.read"
  std::string target;  // what it happened to: "user/3f2a...", "role/ops"
  std::string outcome = "success";  // success | failure | denied
  std::string ip, request_id;
  nlohmann::json before, after;  // the object before and after a change; null when none
  nlohmann::json details;        // anything else worth keeping (never secrets)
};

// An event of `caller`, filling tenant, actor, ip and request id from it.
AuditEvent event_of(const auth::Caller& caller, std::string action, std::string target);

inline constexpr int kMaxQueryLimit = 1000;

struct AuditQuery {
  std::optional<std::string> tenant;  // nullopt: every tenant (system administrators only)
  std::string actor, action_prefix, target, outcome;  // empty: any
  std::string from, to;                               // ISO-8601 UTC, inclusive; empty: open
  int limit = 50;                                     // 1..kMaxQueryLimit
  std::optional<std::int64_t> before_sequence;        // paging cursor: rows older than this
};

struct AuditPage {
  std::vector<AuditRecord> items;  // newest first
  std::optional<std::int64_t> next_cursor;  // before_sequence of the next page; nullopt on the last
};

// What verify() found; the base part as audit::Verifier reports it.
struct AuditVerifyResult : VerifyResult {
  std::int64_t head_sequence = 0;    // the last sequence the head records
  std::int64_t anchor_sequence = 0;  // rows up to this one were removed by retention
};

struct RetentionResult {
  std::int64_t exported = 0;  // rows written to the export file, then deleted
  std::filesystem::path file;  // empty when nothing was old enough
  std::int64_t first_sequence = 0, last_sequence = 0;  // the exported range; 0 when none
};

class AuditLog {
 public:
  enum class SchemaPolicy {
    migrate,        // apply the "kernel.audit" migrations (the server)
    existing_only,  // change nothing; refuse unless the schema is exactly this release's (offline tools)
  };

  // Throws store::MigrationError when the database holds a newer (or, with
  // existing_only, any other) schema version than this release knows.
  explicit AuditLog(store::Database& database, SchemaPolicy schema = SchemaPolicy::migrate);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Appends one row; safe from many threads and from several nodes sharing one
  // PostgreSQL database. Malformed UTF-8 becomes U+FFFD and NaN or infinite
  // numbers become null, so every event can be hashed. Throws
  // std::runtime_error when the row cannot be stored.
  AuditRecord record(AuditEvent event);

  // The same inside the caller's open transaction on `sql`, so a change and its
  // audit row commit or roll back together. The transaction must already hold the
  // write lock: it has written, or (SQLite) began with BEGIN IMMEDIATE. Calling
  // record() instead while holding a SQLite write transaction would wait for it.
  AuditRecord record_within(soci::session& sql, AuditEvent event);

  // Throws std::invalid_argument naming the field for a limit out of range or
  // a from/to that is not an ISO-8601 UTC time.
  AuditPage query(const AuditQuery& query);

  // Walks the whole log in sequence order from the retention anchor and compares
  // the end with the separately stored head. Names the first bad row. Reads one
  // consistent snapshot, so concurrent appends and retention cause no false alarm.
  AuditVerifyResult verify();

  // Exports rows older than `cutoff` (JSON lines, one file per run, fsynced) and only
  // then deletes them, moving the anchor to the last deleted row. Only a prefix of
  // the log is removed: the first row at or after the cutoff stops the export.
  // Refuses (std::runtime_error, nothing deleted) when the rows to export do not
  // verify, so retention never destroys the evidence of tampering.
  RetentionResult apply_retention(store::TimePoint cutoff, const std::filesystem::path& export_dir);

 private:
  AuditRecord append(soci::session& sql, AuditRecord draft);

  store::Database& database_;
  // Appends and the final step of retention, one at a time within this process;
  // across processes the head row's lock (BEGIN IMMEDIATE, FOR UPDATE) does it.
  std::mutex write_mutex_;
};

}  // namespace plexus::audit
