// Versioned schema migrations per component ("kernel.identity", "kernel.audit",
// a plugin's name). Each migration runs in its own transaction together with the
// row that records it, so a failure leaves the schema at the previous version.
// SQL is written once for SQLite and PostgreSQL: TEXT, INTEGER, BIGINT columns,
// ISO-8601 UTC times as TEXT, ids chosen by the application.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "kernel/store/database.hpp"

namespace plexus::store {

struct Migration {
  int version = 0;  // 1, 2, 3 ... without gaps
  std::string description;
  std::vector<std::string> statements;
};

class MigrationError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Brings `component` up to the last of `migrations` (sorted by version, 1..N).
// Refuses, changing nothing, when the database records a version above N: it was
// written by a newer release. On PostgreSQL an advisory lock keeps two nodes from
// migrating at once. Returns how many migrations ran.
int migrate(Database& database, std::string_view component, const std::vector<Migration>& migrations);

// The version recorded for `component`; 0 when none.
int schema_version(Database& database, std::string_view component);

}  // namespace plexus::store
