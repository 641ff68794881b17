// Parameterised SQL with JSON in and out (issue 5): values are bound, never spliced;
// every placeholder needs a value and every value a placeholder; column types map
// to JSON types.
#include "kernel/store/json_sql.hpp"

#include <catch2/catch.hpp>
#include <soci/soci.h>

#include "kernel/store/database.hpp"
#include "kernel/store/json_batch.hpp"
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
  const auto batch = R"({"columns": ["note", "id", "cores"],
                         "rows": [[null, "a", 1], ["x", "b", 2], ["it's", "c", 3]]})";
  CHECK(exec_json_batch(sql, insert, batch) == 3);
  CHECK(query_json(sql, "SELECT id, cores, note FROM servers ORDER BY id", nullptr, 10).rows ==
        json::parse(R"([["a",1,null],["b",2,"x"],["c",3,"it's"]])"));
  CHECK(exec_json_batch(sql, insert, R"({"columns": ["id", "cores", "note"], "rows": []})") == 0);

  auto count = [&] { return query_json(sql, "SELECT COUNT(*) AS n FROM servers", nullptr, 10).rows[0][0]; };
  SECTION("one refused row writes none of the batch") {
    CHECK_THROWS(exec_json_batch(sql, insert, R"({"columns": ["id", "cores", "note"], "rows": [["d", 4, null], ["a", 5, null]]})"));
    CHECK(count() == 3);
  }
  SECTION("bad columns and rows are named and write nothing") {
    // Each as it is parsed ("columns" first) and through a tree ("rows" first), with the same words.
    for (const bool columns_first : {true, false}) {
      auto batch_of = [&](const std::string& columns, const std::string& rows) {
        return columns_first ? R"({"columns": )" + columns + R"(, "rows": )" + rows + "}"
                             : R"({"rows": )" + rows + R"(, "columns": )" + columns + "}";
      };
      const auto names = R"(["id", "cores", "note"])";
      CHECK_THROWS_WITH(exec_json_batch(sql, insert, batch_of(names, R"([["e", 1, null], ["f", 1]])")),
                        Catch::Contains("row 1 must be an array of 3 values"));
      CHECK_THROWS_WITH(exec_json_batch(sql, insert, batch_of(names, R"([["e", 1, null], {"id": "f"}])")),
                        Catch::Contains("row 1 must be an array of 3 values"));
      CHECK_THROWS_WITH(exec_json_batch(sql, insert, batch_of(R"(["id", "cores"])", R"([["g", 1]])")),
                        Catch::Contains(":note has no value"));
      CHECK_THROWS_WITH(exec_json_batch(sql, insert, batch_of(R"(["id", "cores", "note", "x"])", R"([["h", 1, null, 2]])")),
                        Catch::Contains("x is not used"));
      CHECK_THROWS_WITH(exec_json_batch(sql, insert, batch_of(R"(["id", "cores", "id"])", R"([["h", 1, "i"]])")),
                        Catch::Contains("column id is named twice"));
      CHECK_THROWS_WITH(exec_json_batch(sql, insert, batch_of(R"(["id", 2, "note"])", R"([["h", 1, null]])")),
                        Catch::Contains("columns must be parameter names"));
      CHECK_THROWS_WITH(exec_json_batch(sql, insert, batch_of(R"("id")", "[]")), Catch::Contains("the batch must be"));
      CHECK_THROWS_WITH(exec_json_batch(sql, insert, batch_of(names, "{}")), Catch::Contains("the batch must be"));
    }
    CHECK_THROWS_WITH(exec_json_batch(sql, insert, R"([{"columns": [], "rows": []}])"), Catch::Contains("the batch must be"));
    CHECK_THROWS_WITH(exec_json_batch(sql, insert, R"({"columns": ["id", "cores", "note"]})"),
                      Catch::Contains("the batch must be"));
    CHECK_THROWS_WITH(exec_json_batch(sql, insert, R"({"columns": ["id", "cores", "note"], "rows": [["j", 1, null]], "rows": []})"),
                      Catch::Contains(R"(the batch has "rows" twice)"));
    CHECK_THROWS_WITH(exec_json_batch(sql, insert, R"({"columns": ["id", "cores", "note"], "columns": ["id"], "rows": []})"),
                      Catch::Contains(R"(the batch has "columns" twice)"));
    CHECK(count() == 3);
  }
  SECTION("text that is not JSON writes nothing, even after rows that ran") {
    CHECK_THROWS_WITH(exec_json_batch(sql, insert, R"({"columns": ["id", "cores", "note"], "rows": [["k", 1, null], ["l", 1)"),
                      Catch::Contains("not JSON"));
    CHECK_THROWS_WITH(exec_json_batch(sql, insert, "columns"), Catch::Contains("not JSON"));
    CHECK(count() == 3);
  }
  SECTION("rows run as they are parsed: a refused row stops the batch before the text's end") {
    // The row clashing with "a" fails before the broken end is reached; a tree would have
    // found the broken text first.
    CHECK_THROWS_AS(exec_json_batch(sql, insert, R"({"columns": ["id", "cores", "note"], "rows": [["a", 1, null], ["m")"),
                    soci::soci_error);
    CHECK(count() == 3);
  }
}

TEST_CASE("batch values of every JSON type are bound the same as parsed or as a tree", "[json_sql]") {
  Fixture f;
  soci::session sql(f.db.pool());
  const auto insert = "INSERT INTO servers (id, cores, load, note) VALUES (:id, :cores, :load, :note)";
  const auto rows = R"([["n1", 2, 0.25, {"tags": ["a", {"b": null}], "n": -1}],
                        ["n2", true, 1e3, [1, [2, []], {}]],
                        ["n3", null, -7, "line\nbreak \"quoted\" \u00e9"]])";
  const auto columns = R"(["id", "cores", "load", "note"])";
  CHECK(exec_json_batch(sql, insert, std::string(R"({"skipped": {"rows": [[1]]}, "columns": )") + columns +
                                         R"(, "rows": )" + rows + R"(, "after": [1, {"x": 2}]})") == 3);
  const auto parsed = query_json(sql, "SELECT cores, load, note FROM servers ORDER BY id", nullptr, 10).rows;
  sql << "DELETE FROM servers";
  CHECK(exec_json_batch(sql, insert, std::string(R"({"rows": )") + rows + R"(, "columns": )" + columns + "}") == 3);
  const auto tree = query_json(sql, "SELECT cores, load, note FROM servers ORDER BY id", nullptr, 10).rows;
  CHECK(parsed == tree);
  CHECK(json::parse(parsed[0][2].get<std::string>()) == json::parse(R"({"tags": ["a", {"b": null}], "n": -1})"));
  CHECK(json::parse(parsed[1][2].get<std::string>()) == json::parse("[1, [2, []], {}]"));
  CHECK(parsed[1][0] == 1);
  CHECK(parsed[1][1] == 1000.0);
  CHECK(parsed[2][0].is_null());
  CHECK(parsed[2][2] == "line\nbreak \"quoted\" \u00e9");
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
