// Parameterised SQL with JSON in and out (issue 5): values are bound, never spliced;
// every placeholder needs a value and every value a placeholder; column types map
// to JSON types.
#include "kernel/store/json_sql.hpp"

#include <catch2/catch.hpp>
#include <soci/soci.h>

#include "kernel/store/database.hpp"
#include "tests/support/postgres_db.hpp"

using nlohmann::json;
using plexus::store::exec_json;
using plexus::store::exec_json_batch;
using plexus::store::query_json;
using plexus::store::SqlParameterError;

namespace {

// Every case runs on SQLite and on PostgreSQL (tests/support/postgres_db.hpp).
struct Fixture {
  Fixture() {
    soci::session sql(db.pool());
    sql << "CREATE TABLE servers (id TEXT PRIMARY KEY, cores INTEGER, load REAL, note TEXT)";
  }
  plexus::test::StoreBackend backend;
  plexus::test::TempDir dir;
  plexus::store::Database db{{.url = backend.fresh_url(dir), .pool_size = 1}};
};

}  // namespace

TEST_CASE("placeholders skip quoted text, comments and casts", "[json_sql]") {
  using plexus::store::placeholders;
  CHECK(placeholders("SELECT * FROM t WHERE a = :a AND b = :b OR a = :a") ==
        std::vector<std::string>{"a", "b"});
  CHECK(placeholders("SELECT ':not', \":nor\" FROM t -- :comment\n WHERE x = :x /* :block */").size() == 1);
  CHECK(placeholders("SELECT x::int FROM t WHERE y = :y")[0] == "y");
  CHECK(placeholders("SELECT '12:30' AS t").empty());
  CHECK(placeholders("SELECT :_under_score1").at(0) == "_under_score1");
}

TEST_CASE("values are bound by name and come back with their JSON types", "[json_sql]") {
  Fixture f;
  soci::session sql(f.db.pool());
  const auto insert = "INSERT INTO servers (id, cores, load, note) VALUES (:id, :cores, :load, :note)";
  CHECK(exec_json(sql, insert, {{"id", "web-1"}, {"cores", 8}, {"load", 0.75}, {"note", nullptr}}) == 1);
  CHECK(exec_json(sql, insert, {{"id", "db-1"}, {"cores", 32}, {"load", 1.5}, {"note", "primary"}}) == 1);
  const auto result = query_json(
      sql, "SELECT id, cores, load, note FROM servers WHERE cores >= :min ORDER BY id", {{"min", 4}}, 100);
  CHECK(result.columns == std::vector<std::string>{"id", "cores", "load", "note"});
  CHECK(result.rows == json::parse(R"([["db-1",32,1.5,"primary"],["web-1",8,0.75,null]])"));
  CHECK_FALSE(result.truncated);
}

TEST_CASE("an injection attempt stays a value", "[json_sql]") {
  Fixture f;
  soci::session sql(f.db.pool());
  exec_json(sql, "INSERT INTO servers (id, cores) VALUES (:id, 1)", {{"id", "a"}});
  const auto hostile = "a' OR '1'='1";
  CHECK(query_json(sql, "SELECT id FROM servers WHERE id = :id", {{"id", hostile}}, 10).rows.empty());
  exec_json(sql, "INSERT INTO servers (id, cores) VALUES (:id, 2)", {{"id", "x'); DROP TABLE servers; --"}});
  CHECK(query_json(sql, "SELECT COUNT(*) AS n FROM servers", nullptr, 10).rows[0][0] == 2);
}

TEST_CASE("missing and unused parameters are named", "[json_sql]") {
  Fixture f;
  soci::session sql(f.db.pool());
  CHECK_THROWS_WITH(query_json(sql, "SELECT id FROM servers WHERE id = :id", json::object(), 10),
                    Catch::Contains(":id has no value"));
  CHECK_THROWS_WITH(query_json(sql, "SELECT id FROM servers", {{"extra", 1}}, 10),
                    Catch::Contains("extra is not used"));
  CHECK_THROWS_AS(query_json(sql, "SELECT 1", json::array({1}), 10), SqlParameterError);
}

TEST_CASE("a batch runs one statement per row in one transaction", "[json_sql]") {
  Fixture f;
  soci::session sql(f.db.pool());
  const auto insert = "INSERT INTO servers (id, cores, note) VALUES (:id, :cores, :note)";
  const auto batch = json::parse(R"({"columns": ["note", "id", "cores"],
                                     "rows": [[null, "a", 1], ["x", "b", 2], ["it's", "c", 3]]})");
  CHECK(exec_json_batch(sql, insert, batch) == 3);
  CHECK(query_json(sql, "SELECT id, cores, note FROM servers ORDER BY id", nullptr, 10).rows ==
        json::parse(R"([["a",1,null],["b",2,"x"],["c",3,"it's"]])"));
  CHECK(exec_json_batch(sql, insert, {{"columns", {"id", "cores", "note"}}, {"rows", json::array()}}) == 0);

  auto count = [&] { return query_json(sql, "SELECT COUNT(*) AS n FROM servers", nullptr, 10).rows[0][0]; };
  SECTION("one refused row writes none of the batch") {
    const auto clash = json::parse(R"({"columns": ["id", "cores", "note"], "rows": [["d", 4, null], ["a", 5, null]]})");
    CHECK_THROWS(exec_json_batch(sql, insert, clash));
    CHECK(count() == 3);
  }
  SECTION("bad columns and rows are named and write nothing") {
    const auto short_row = json::parse(R"({"columns": ["id", "cores", "note"], "rows": [["e", 1, null], ["f", 1]]})");
    CHECK_THROWS_WITH(exec_json_batch(sql, insert, short_row), Catch::Contains("row 1 must be an array of 3 values"));
    const auto missing = json::parse(R"({"columns": ["id", "cores"], "rows": [["g", 1]]})");
    CHECK_THROWS_WITH(exec_json_batch(sql, insert, missing), Catch::Contains(":note has no value"));
    const auto extra = json::parse(R"({"columns": ["id", "cores", "note", "x"], "rows": [["h", 1, null, 2]]})");
    CHECK_THROWS_WITH(exec_json_batch(sql, insert, extra), Catch::Contains("x is not used"));
    CHECK_THROWS_AS(exec_json_batch(sql, insert, json::array()), SqlParameterError);
    CHECK(count() == 3);
  }
}

TEST_CASE("results stop at the row limit and say so", "[json_sql]") {
  Fixture f;
  soci::session sql(f.db.pool());
  for (int i = 0; i < 5; ++i) {
    exec_json(sql, "INSERT INTO servers (id, cores) VALUES (:id, :i)",
              {{"id", "s" + std::to_string(i)}, {"i", i}});
  }
  const auto limited = query_json(sql, "SELECT id FROM servers ORDER BY id", nullptr, 3);
  CHECK(limited.rows.size() == 3);
  CHECK(limited.truncated);
  CHECK(exec_json(sql, "UPDATE servers SET cores = cores + 1 WHERE cores >= :from", {{"from", 3}}) == 2);
}

TEST_CASE("booleans bind as 1 and 0 and structured values as JSON text", "[json_sql]") {
  Fixture f;
  soci::session sql(f.db.pool());
  exec_json(sql, "INSERT INTO servers (id, cores, note) VALUES (:id, :flag, :doc)",
            {{"id", "b"}, {"flag", true}, {"doc", {{"k", "v"}}}});
  const auto row = query_json(sql, "SELECT cores, note FROM servers WHERE id = 'b'", nullptr, 1).rows.at(0);
  CHECK(row[0] == 1);
  CHECK(json::parse(row[1].get<std::string>()) == json{{"k", "v"}});
}
