#include "kernel/store/migrations.hpp"

#include <soci/soci.h>

#include "kernel/store/clock.hpp"
#include "kernel/store/transaction.hpp"

namespace plexus::store {
namespace {

void ensure_table(soci::session& sql) {
  sql << "CREATE TABLE IF NOT EXISTS plexus_migrations ("
         "component TEXT NOT NULL, version INTEGER NOT NULL, description TEXT NOT NULL, "
         "applied_at TEXT NOT NULL, PRIMARY KEY (component, version))";
}

int recorded_version(soci::session& sql, std::string_view component) {
  int version = 0;
  soci::indicator ind = soci::i_ok;
  const std::string name(component);
  sql << "SELECT MAX(version) FROM plexus_migrations WHERE component = :c", soci::into(version, ind),
      soci::use(name);
  return ind == soci::i_ok ? version : 0;
}

void check_sequence(std::string_view component, const std::vector<Migration>& migrations) {
  for (std::size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i) + 1) {
      throw MigrationError("migrations of " + std::string(component) + " must be numbered 1.." +
                           std::to_string(migrations.size()) + " without gaps; found " +
                           std::to_string(migrations[i].version) + " at position " + std::to_string(i + 1));
    }
  }
}

}  // namespace

int schema_version(Database& database, std::string_view component) {
  soci::session sql(database.pool());
  ensure_table(sql);
  return recorded_version(sql, component);
}

int migrate(Database& database, std::string_view component, const std::vector<Migration>& migrations) {
  check_sequence(component, migrations);
  soci::session sql(database.pool());
  ensure_table(sql);
  const std::string name(component);
  const int known = static_cast<int>(migrations.size());
  int applied = 0;
  for (;;) {
    // A write transaction from the start (BEGIN IMMEDIATE on SQLite): a deferred one that
    // reads the version first could not upgrade to writing while another thread of this
    // process writes (SQLITE_BUSY at once, no busy wait), e.g. the cluster heartbeat
    // while a component or plugin migrates after startup.
    Transaction tx(sql);
    if (database.backend() == "postgresql") {
      sql << "SELECT pg_advisory_xact_lock(hashtext('plexus_migrations:' || :c))", soci::use(name);
    }
    const int current = recorded_version(sql, component);
    if (current > known) {
      throw MigrationError("the database holds schema version " + std::to_string(current) + " of " + name +
                           ", newer than this release knows (" + std::to_string(known) +
                           "); run the release that wrote it or restore a backup");
    }
    if (current == known) {
      tx.commit();
      return applied;
    }
    const auto& next = migrations[static_cast<std::size_t>(current)];
    try {
      for (const auto& statement : next.statements) sql << statement;
      const std::string now = utc_now();
      sql << "INSERT INTO plexus_migrations (component, version, description, applied_at) "
             "VALUES (:c, :v, :d, :t)",
          soci::use(name), soci::use(next.version), soci::use(next.description), soci::use(now);
      tx.commit();
    } catch (const soci::soci_error& e) {
      throw MigrationError("migration " + std::to_string(next.version) + " of " + name + " (" + next.description +
                           ") failed: " + e.get_error_message());
    }
    ++applied;
  }
}

}  // namespace plexus::store
