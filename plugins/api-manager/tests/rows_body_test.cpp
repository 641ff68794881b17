// rows_as_objects (rows_body.hpp): a datasource's answer as the body of a SQL API. The usual
// answer is written straight from its text; every other shape goes through a tree, and both
// ways must give the same rows (issue 7, item 2).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "rows_body.hpp"

using nlohmann::json;
using plexus::api_manager::rows_as_objects;

namespace {

// The same answer with "rows" before "columns": a shape the text writer leaves to the tree.
std::string rows_first(const json& columns, const json& rows, bool truncated) {
  return R"({"rows":)" + rows.dump() + R"(,"columns":)" + columns.dump() + R"(,"truncated":)" +
         (truncated ? "true" : "false") + "}";
}

std::string columns_first(const json& columns, const json& rows, bool truncated) {
  return R"({"columns":)" + columns.dump() + R"(,"rows":)" + rows.dump() + R"(,"truncated":)" +
         (truncated ? "true" : "false") + "}";
}

}  // namespace

TEST_CASE("datasource answers become rows of objects", "[api-manager][runtime]") {
  const auto body = rows_as_objects(
      R"({"columns":[{"name":"id","type":"integer"},{"name":"name","type":"text"}],"rows":[[1,"web-1"],[2,null]],"truncated":true})");
  CHECK(json::parse(body.text) ==
        json{{"rows", {{{"id", 1}, {"name", "web-1"}}, {{"id", 2}, {"name", nullptr}}}}, {"truncated", true}});
  CHECK(body.rows == 2);
  CHECK(body.streamed);
  const auto empty = rows_as_objects("{}");
  CHECK(empty.text == R"({"rows":[],"truncated":false})");
  CHECK(empty.rows == 0);
}

TEST_CASE("rows keep the statement's column order, not the alphabet", "[api-manager][runtime]") {
  const auto text = R"({"columns":[{"name":"zone"},{"name":"id"},{"name":"amount"}],"rows":[["eu",7,1.5]]})";
  CHECK(rows_as_objects(text).text == R"({"rows":[{"zone":"eu","id":7,"amount":1.5}],"truncated":false})");
  // The same through the tree.
  CHECK(rows_as_objects(R"({"rows":[["eu",7,1.5]],"columns":["zone","id","amount"]})").text ==
        R"({"rows":[{"zone":"eu","id":7,"amount":1.5}],"truncated":false})");
}

TEST_CASE("the text writer and the tree give the same rows", "[api-manager][runtime]") {
  const json columns = json::array({{{"name", "id"}, {"type", "integer"}, {"size", 8}},
                                    "plain name",
                                    {{"type", "json"}, {"name", "doc"}, {"extra", {{"name", "not this"}}}},
                                    {{"name", "quote\"back\\slash\n\u00e9"}}});
  const json rows = json::array({
      json::array({1, "a", {{"k", json::array({1, 2, {{"deep", nullptr}}})}, {"e", json::object()}}, -2.5e-3}),
      json::array({-9223372036854775807LL - 1, "tab\tctl\x01 \xed\x95\x9c", json::array({json::array(), "x"}), true}),
      json::array({18446744073709551615ULL}),                     // shorter than the columns
      json::array({1, 2, 3, 4, "beyond", {{"skipped", {1, 2}}}}),  // longer: the extra cells are left out
      json::array(),
  });
  for (const bool truncated : {false, true}) {
    const auto fast = rows_as_objects(columns_first(columns, rows, truncated));
    const auto slow = rows_as_objects(rows_first(columns, rows, truncated));
    CHECK(fast.streamed);
    CHECK_FALSE(slow.streamed);
    CHECK(fast.rows == 5);
    CHECK(slow.rows == 5);
    CHECK(json::parse(fast.text) == json::parse(slow.text));
    // Column order is kept on both ways, so the texts match too.
    CHECK(fast.text == slow.text);
  }
  const auto parsed = json::parse(rows_as_objects(columns_first(columns, rows, false)).text);
  CHECK(parsed["rows"][0]["doc"] == json{{"k", json::array({1, 2, {{"deep", nullptr}}})}, {"e", json::object()}});
  CHECK(parsed["rows"][1]["plain name"] == "tab\tctl\x01 \xed\x95\x9c");
  CHECK(parsed["rows"][1]["quote\"back\\slash\n\u00e9"] == true);
  CHECK(parsed["rows"][2] == json{{"id", 18446744073709551615ULL}});
  CHECK(parsed["rows"][3].size() == 4);
  CHECK(parsed["rows"][4] == json::object());
}

TEST_CASE("unusual answers take the tree's way and keep its answer", "[api-manager][runtime]") {
  // A column named twice: the later value, in the first one's place.
  const auto twice = rows_as_objects(R"({"columns":["a","b","a"],"rows":[[1,2,3]]})");
  CHECK(twice.text == R"({"rows":[{"a":3,"b":2}],"truncated":false})");
  CHECK_FALSE(twice.streamed);
  // A repeated key: the last one counts.
  const auto repeated = rows_as_objects(R"({"columns":["a"],"rows":[[1]],"rows":[[2],[3]]})");
  CHECK(repeated.rows == 2);
  CHECK_FALSE(repeated.streamed);
  // Rows without columns: empty objects, one per row.
  CHECK(rows_as_objects(R"({"rows":[[1],[2]]})").text == R"({"rows":[{},{}],"truncated":false})");
  // Keys the writer does not know are skipped wherever they are, without leaving the text's way.
  const auto extra = rows_as_objects(R"({"took_ms":[1,{"rows":[[2]]}],"columns":["a"],"notes":"x","rows":[[1]],"more":{"a":[]}})");
  CHECK(extra.text == R"({"rows":[{"a":1}],"truncated":false})");
  CHECK(extra.streamed);
}

TEST_CASE("answers that are not rows fail as before", "[api-manager][runtime]") {
  CHECK_THROWS_AS(rows_as_objects("not json"), json::parse_error);
  CHECK_THROWS_AS(rows_as_objects(R"({"columns":["a"],"rows":[[1)"), json::parse_error);
  CHECK_THROWS_AS(rows_as_objects(R"({"columns":[1],"rows":[[1]]})"), json::type_error);
  CHECK_THROWS_AS(rows_as_objects(R"({"columns":[{"name":5}],"rows":[[1]]})"), json::type_error);
  CHECK_THROWS_AS(rows_as_objects(R"({"columns":["a"],"rows":[[1]],"truncated":"yes"})"), json::type_error);
  CHECK_THROWS(rows_as_objects(R"({"columns":["a"],"rows":[7]})"));
}
