// Prepared statements of one SQLite connection, kept by their SQL text: a runtime API
// runs the same statement on every call, and preparing it again each time costs more
// than running it. The least recently used one goes when the cache is full.
#pragma once

#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace plexus::connectors {

// A statement lent for one call: reset and stripped of its bindings when the call ends
// (a statement left mid-step would hold the database's read lock), or finalized when it
// was never cached.
class StatementLease {
 public:
  StatementLease(sqlite3_stmt* statement, bool cached) : statement_(statement), cached_(cached) {}
  ~StatementLease();
  StatementLease(StatementLease&& other) noexcept
      : statement_(std::exchange(other.statement_, nullptr)), cached_(other.cached_) {}
  StatementLease(const StatementLease&) = delete;
  StatementLease& operator=(const StatementLease&) = delete;
  StatementLease& operator=(StatementLease&&) = delete;

  sqlite3_stmt* get() const { return statement_; }

 private:
  sqlite3_stmt* statement_;
  bool cached_;
};

class StatementCache {
 public:
  explicit StatementCache(std::size_t capacity) : capacity_(capacity) {}
  ~StatementCache();
  StatementCache(const StatementCache&) = delete;
  StatementCache& operator=(const StatementCache&) = delete;

  // The cached statement for `sql`, ready to bind; nullptr when there is none.
  sqlite3_stmt* find(std::string_view sql);
  // Takes `statement` (prepared from `sql` and found fit to run) into the cache; a
  // capacity of 0 keeps nothing and returns false, the caller keeping ownership.
  bool keep(std::string_view sql, sqlite3_stmt* statement);
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::string sql;
    sqlite3_stmt* statement;
    std::uint64_t used;
  };
  std::size_t capacity_;
  std::uint64_t clock_ = 0;
  std::vector<Entry> entries_;
};

}  // namespace plexus::connectors
