// connectors/common/sql_text: what the drivers read in SQL text before the database does.
#include "connectors/common/sql_text.hpp"

#include <catch2/catch.hpp>
#include <plexus/plugin.hpp>

namespace plexus::connectors {

TEST_CASE("to_positional numbers :name placeholders, one number per name") {
  const auto out = to_positional("SELECT * FROM t WHERE a = :a AND (b = :b OR c = :a) LIMIT :limit_1");
  CHECK(out.sql == "SELECT * FROM t WHERE a = $1 AND (b = $2 OR c = $1) LIMIT $3");
  CHECK(out.names == std::vector<std::string>{"a", "b", "limit_1"});
}

TEST_CASE("to_positional leaves casts, named arguments, literals, identifiers and comments alone") {
  const auto check = [](const std::string& sql, const std::string& expected,
                        const std::vector<std::string>& names) {
    INFO(sql);
    const auto out = to_positional(sql);
    CHECK(out.sql == expected);
    CHECK(out.names == names);
  };
  check("SELECT :n::int, x::text", "SELECT $1::int, x::text", {"n"});
  check("SELECT f(a := :v)", "SELECT f(a := $1)", {"v"});
  check("SELECT ':a', 'it''s :b', :c", "SELECT ':a', 'it''s :b', $1", {"c"});
  check(R"(SELECT E'\' :a', :b)", R"(SELECT E'\' :a', $1)", {"b"});
  check(R"(SELECT '\', :b)", R"(SELECT '\', $1)", {"b"});  // standard strings: a backslash is a character
  check(R"(SELECT "col:a", ":b""c", :d)", R"(SELECT "col:a", ":b""c", $1)", {"d"});
  check("SELECT 1 -- :a\n, :b", "SELECT 1 -- :a\n, $1", {"b"});
  check("SELECT /* :a /* nested :b */ :c */ :d", "SELECT /* :a /* nested :b */ :c */ $1", {"d"});
  check("SELECT $$ :a $$, $fn$ :b $x$ :c $fn$, :d", "SELECT $$ :a $$, $fn$ :b $x$ :c $fn$, $1", {"d"});
  check("SELECT a$b, :c", "SELECT a$b, $1", {"c"});
  check("SELECT arr[1:2], :x", "SELECT arr[1:2], $1", {"x"});
  check("SELECT 'unterminated :a", "SELECT 'unterminated :a", {});
}

TEST_CASE("to_positional refuses numbered placeholders, which would clash") {
  try {
    to_positional("SELECT * FROM t WHERE a = $1 AND b = :b");
    FAIL("no error");
  } catch (const sdk::Error& e) {
    CHECK(e.status() == PLEXUS_ERR_INVALID);
    CHECK(std::string(e.what()).find("write :name") != std::string::npos);
  }
  CHECK(to_positional("SELECT '$1', \"$2\"").names.empty());
}

TEST_CASE("first_keyword skips blanks and comments and upper-cases the word") {
  CHECK(first_keyword("  insert into t values (1)") == "INSERT");
  CHECK(first_keyword("-- a comment\n/* another */ Vacuum") == "VACUUM");
  CHECK(first_keyword("WITH x AS (SELECT 1) DELETE FROM t") == "WITH");
  CHECK(first_keyword("  ").empty());
  CHECK(first_keyword("(SELECT 1)").empty());
}

}  // namespace plexus::connectors
