// The hash chain of the audit log, independent of where rows are stored.
//
// Each record's hash is the lowercase hex SHA-256 of the canonical JSON
// (RFC 8785, see canonical_json.hpp) of one object holding every field except
// `hash`, under exactly these names:
//   sequence, time, tenant, actor, action, target, outcome, ip, request_id,
//   before, after, details, previous_hash
// previous_hash is the hash of the record before; the first record links to
// genesis_hash, or, once retention has deleted older rows, to the anchor: the
// hash of the last deleted row, which the retention job stores separately.
//
// What the chain proves: no row within the checked range was altered, deleted,
// inserted or reordered. What it cannot prove on its own: that rows were not
// removed from the end (a truncated log is still a valid chain), nor that a
// writer with database access did not recompute the whole chain. Both need the
// head (last_hash, last sequence) kept somewhere the writer cannot rewrite:
// a separate table, an export, a signed checkpoint. Compare it with
// Verifier::last_hash() after verifying.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace plexus::audit {

inline constexpr std::string_view genesis_hash = "0000000000000000000000000000000000000000000000000000000000000000";

struct AuditRecord {
  std::int64_t sequence = 0;
  std::string time;  // ISO-8601 UTC, e.g. 2026-01-31T12:00:00.000Z; hashed as written
  std::string tenant, actor, action, target, outcome, ip, request_id;
  nlohmann::json before, after, details;
  std::string previous_hash, hash;
};

// The exact text that is hashed; throws std::invalid_argument if before, after
// or details hold NaN, infinities or malformed UTF-8.
std::string hash_input(const AuditRecord& record);
// Lowercase hex SHA-256 of hash_input(record); ignores record.hash.
std::string compute_hash(const AuditRecord& record);

// Assigns sequence, previous_hash and hash to new records. Callers must store
// records in sequence order and, if storing one fails, rebuild the Chain from
// the stored head; otherwise the next record links to a row that does not exist.
class Chain {
 public:
  // Resumes after the stored head; throws std::invalid_argument if last_hash
  // is not 64 lowercase hex digits or last_sequence is negative.
  explicit Chain(std::string last_hash = std::string(genesis_hash), std::int64_t last_sequence = 0);

  // Thread-safe. Overwrites the draft's sequence, previous_hash and hash. If
  // hashing throws, the chain is unchanged.
  AuditRecord append(AuditRecord draft);

  std::string last_hash() const;
  std::int64_t last_sequence() const;

 private:
  mutable std::mutex mutex_;
  std::string last_hash_;
  std::int64_t last_sequence_;
};

struct VerifyResult {
  bool ok = true;
  std::int64_t checked = 0;  // records that passed, all before the first break
  // The chain position where it breaks: rows up to first_bad_sequence - 1 are
  // intact. For a deleted row this is the missing sequence.
  std::optional<std::int64_t> first_bad_sequence;
  std::string reason;  // empty when ok
};

// Checks records one at a time so a database cursor can feed any number of
// rows in sequence order while only the last hash is held.
class Verifier {
 public:
  // anchor: genesis_hash for a complete log, else the hash of the last row
  // removed by retention; expected_first_sequence is that row's sequence + 1.
  explicit Verifier(std::string anchor = std::string(genesis_hash), std::int64_t expected_first_sequence = 1);

  // Returns false from the first break on; later records are ignored.
  bool add(const AuditRecord& record);
  VerifyResult result() const;
  // Hash of the last record that passed (the anchor if none did): compare with
  // the separately stored head to detect a truncated tail.
  const std::string& last_hash() const;

 private:
  std::string last_hash_;
  std::int64_t expected_sequence_;
  VerifyResult result_;
};

// Batch form of Verifier. With genesis_hash the first record must have
// sequence 1; with another anchor the first record's own sequence is accepted
// (its previous_hash must still equal the anchor).
VerifyResult verify(const std::vector<AuditRecord>& records_in_sequence_order,
                    std::string_view anchor = genesis_hash);

}  // namespace plexus::audit
