// The SQL behind AuditLog: schema, the head row, whole-record reads and
// transactions, written once for SQLite and PostgreSQL. Internal to plexus_audit_log.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kernel/audit/chain.hpp"
#include "kernel/store/migrations.hpp"

namespace soci {
class session;
}

namespace plexus::audit::tables {

inline constexpr std::string_view kComponent = "kernel.audit";
const std::vector<store::Migration>& migrations();

// The one row of audit_head.
struct Head {
  std::int64_t last_sequence = 0;
  std::string last_hash;
  std::int64_t anchor_sequence = 0;  // the last row retention deleted; 0 when none
  std::string anchor_hash;
};

// With lock: the row stays locked until the transaction ends (PostgreSQL FOR
// UPDATE; SQLite's write transaction already locks the whole database).
Head read_head(soci::session& sql, bool postgresql, bool lock);
void advance_head(soci::session& sql, std::int64_t last_sequence, const std::string& last_hash);
void move_anchor(soci::session& sql, std::int64_t anchor_sequence, const std::string& anchor_hash);

void insert(soci::session& sql, const AuditRecord& record);
// Deletes rows first..last; returns how many there were.
std::int64_t delete_range(soci::session& sql, std::int64_t first, std::int64_t last);

// SELECT of whole records with conditions and bindings chosen at run time.
class RecordSelect {
 public:
  // A condition ANDed to the others, with `:name` placeholders bound below.
  RecordSelect& where(std::string condition);
  RecordSelect& bind(std::string name, std::string value);
  RecordSelect& bind(std::string name, std::int64_t value);

  // Calls `each` with every matching row in `order` ("sequence" or "sequence DESC"),
  // at most `limit` of them; stops early when `each` returns false.
  void run(soci::session& sql, std::string_view order, int limit,
           const std::function<bool(AuditRecord&&)>& each);

 private:
  std::vector<std::string> conditions_;
  std::deque<std::pair<std::string, std::string>> texts_;  // deques: soci keeps pointers to the values
  std::deque<std::pair<std::string, long long>> numbers_;
};

}  // namespace plexus::audit::tables
