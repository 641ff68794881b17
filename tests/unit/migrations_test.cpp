// Versioned migrations per component: applied once, in order, recorded, atomic, and
// refused against a schema from a newer release. On SQLite and on PostgreSQL: each test
// with a Fixture runs once per backend (tests/support/postgres_db.hpp).
#include <catch2/catch.hpp>
#include <soci/soci.h>

#include "kernel/store/clock.hpp"
#include "kernel/store/migrations.hpp"
#include "tests/support/postgres_db.hpp"
#include "tests/support/test_support.hpp"

using plexus::store::Database;
using plexus::store::Migration;
using plexus::store::MigrationError;

namespace {

struct Fixture {
  plexus::test::StoreBackend backend;
  plexus::test::TempDir dir;
  Database db{{.url = backend.fresh_url(dir), .pool_size = 2}};
  int count(const std::string& table) {
    soci::session sql(db.pool());
    int n = 0;
    sql << "SELECT COUNT(*) FROM " + table, soci::into(n);
    return n;
  }
};

const std::vector<Migration> kNotes = {
    {1, "notes table", {"CREATE TABLE notes (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL)"}},
    {2, "note text", {"ALTER TABLE notes ADD COLUMN body TEXT", "CREATE INDEX notes_tenant ON notes (tenant_id)"}},
};

}  // namespace

TEST_CASE("migrations run once each and are recorded per component", "[migrations]") {
  Fixture f;
  CHECK(plexus::store::schema_version(f.db, "notes") == 0);
  CHECK(plexus::store::migrate(f.db, "notes", kNotes) == 2);
  CHECK(plexus::store::schema_version(f.db, "notes") == 2);
  CHECK(plexus::store::migrate(f.db, "notes", kNotes) == 0);
  CHECK(plexus::store::schema_version(f.db, "other") == 0);
  soci::session sql(f.db.pool());
  sql << "INSERT INTO notes (id, tenant_id, body) VALUES ('1', 'default', 'x')";
  CHECK(f.count("notes") == 1);
}

TEST_CASE("a later release adds its migrations on top of the recorded version", "[migrations]") {
  Fixture f;
  plexus::store::migrate(f.db, "notes", {kNotes[0]});
  CHECK(plexus::store::schema_version(f.db, "notes") == 1);
  CHECK(plexus::store::migrate(f.db, "notes", kNotes) == 1);
  CHECK(plexus::store::schema_version(f.db, "notes") == 2);
}

TEST_CASE("a failing migration leaves the schema at the previous version", "[migrations]") {
  Fixture f;
  plexus::store::migrate(f.db, "notes", {kNotes[0]});
  auto broken = kNotes;
  broken[1].statements = {"ALTER TABLE notes ADD COLUMN body TEXT", "THIS IS NOT SQL"};
  REQUIRE_THROWS_AS(plexus::store::migrate(f.db, "notes", broken), MigrationError);
  CHECK(plexus::store::schema_version(f.db, "notes") == 1);
  // The first statement of the failed migration was rolled back with it.
  CHECK(plexus::store::migrate(f.db, "notes", kNotes) == 1);
}

TEST_CASE("a database written by a newer release is refused", "[migrations]") {
  Fixture f;
  plexus::store::migrate(f.db, "notes", kNotes);
  try {
    plexus::store::migrate(f.db, "notes", {kNotes[0]});
    FAIL("an older release migrated a newer schema");
  } catch (const MigrationError& e) {
    CHECK(std::string(e.what()).find("newer than this release knows") != std::string::npos);
  }
  CHECK(plexus::store::schema_version(f.db, "notes") == 2);
}

TEST_CASE("migration numbers must run 1..N without gaps", "[migrations]") {
  Fixture f;
  std::vector<Migration> gap = {kNotes[0], {3, "skips two", {"SELECT 1"}}};
  REQUIRE_THROWS_AS(plexus::store::migrate(f.db, "notes", gap), MigrationError);
  CHECK(plexus::store::schema_version(f.db, "notes") == 0);
}

TEST_CASE("store times are ISO-8601 UTC with milliseconds and round-trip", "[migrations]") {
  using namespace std::chrono;
  const plexus::store::TimePoint t = sys_days{year{2026} / 11 / 27} + hours{9} + minutes{7} + seconds{3} +
                                     milliseconds{45};
  CHECK(plexus::store::format_time(t) == "2026-11-27T09:07:03.045Z");
  CHECK(plexus::store::parse_time("2026-11-27T09:07:03.045Z") == t);
  CHECK(plexus::store::parse_time("2026-11-27T09:07:03Z") == t - milliseconds{45});
  CHECK_FALSE(plexus::store::parse_time("2026-13-27T09:07:03Z"));
  CHECK_FALSE(plexus::store::parse_time("2026-11-27 09:07:03"));
  CHECK_FALSE(plexus::store::parse_time("2026-11-27T09:07:03.04Z"));
}
