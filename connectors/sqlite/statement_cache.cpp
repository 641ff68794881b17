#include "connectors/sqlite/statement_cache.hpp"

#include <algorithm>

namespace plexus::connectors {

StatementLease::~StatementLease() {
  if (statement_ == nullptr) return;
  if (cached_) {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
  } else {
    sqlite3_finalize(statement_);
  }
}

StatementCache::~StatementCache() {
  for (const auto& entry : entries_) sqlite3_finalize(entry.statement);
}

sqlite3_stmt* StatementCache::find(std::string_view sql) {
  for (auto& entry : entries_) {
    if (entry.sql == sql) {
      entry.used = ++clock_;
      return entry.statement;
    }
  }
  return nullptr;
}

bool StatementCache::keep(std::string_view sql, sqlite3_stmt* statement) {
  if (capacity_ == 0) return false;
  if (entries_.size() == capacity_) {
    const auto oldest = std::min_element(entries_.begin(), entries_.end(),
                                         [](const Entry& a, const Entry& b) { return a.used < b.used; });
    sqlite3_finalize(oldest->statement);
    entries_.erase(oldest);
  }
  entries_.push_back({std::string(sql), statement, ++clock_});
  return true;
}

}  // namespace plexus::connectors
