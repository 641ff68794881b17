// connectors/common/result_json: the query result every driver answers.
#include "connectors/common/result_json.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

namespace plexus::connectors {

TEST_CASE("ResultBuilder writes columns, rows of every value kind, and truncated") {
  ResultBuilder out;
  out.add_column("id", "integer");
  out.add_column("value", "null");
  out.set_column_type(1, "real");
  out.begin_row();
  out.value_int(-7);
  out.value_double(0.1);
  out.begin_row();
  out.value_number_text("1234.5000");
  out.value_number_text("NaN");
  out.begin_row();
  out.value_json(R"({"a":[1,true]})");
  out.value_double(1.0 / 0.0);
  out.begin_row();
  out.value_bool(true);
  out.value_null();
  const std::string text = out.finish(true);
  CHECK(text ==
        R"({"columns":[{"name":"id","type":"integer"},{"name":"value","type":"real"}],)"
        R"("rows":[[-7,0.1],[1234.5000,"NaN"],[{"a":[1,true]},"Infinity"],[true,null]],"truncated":true})");
  CHECK_NOTHROW(nlohmann::json::parse(text));
}

TEST_CASE("ResultBuilder without rows or columns is still a whole answer") {
  CHECK(ResultBuilder().finish(false) == R"({"columns":[],"rows":[],"truncated":false})");
}

TEST_CASE("append_json_string escapes and replaces bytes that are not UTF-8") {
  std::string out;
  // A Korean syllable and an emoji pass; a stray byte, an overlong NUL and a surrogate do not.
  append_json_string(out, "q\"b\\n\n\x01 \xea\xb0\x80 \xff \xc0\x80 \xed\xa0\x80 \xf0\x9f\x98\x80");
  CHECK(out ==
        "\"q\\\"b\\\\n\\n\\u0001 \xea\xb0\x80 \xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd "
        "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd \xf0\x9f\x98\x80\"");
  CHECK_NOTHROW(nlohmann::json::parse(out));
}

TEST_CASE("is_json_number accepts JSON's numbers only") {
  for (const char* yes : {"0", "-0", "12", "1.5", "-0.25", "1e10", "1E+2", "2.5e-3"}) {
    CHECK(is_json_number(yes));
  }
  for (const char* no :
       {"", "-", "01", "1.", ".5", "1e", "NaN", "Infinity", "-Infinity", "+1", "0x10", "1 "}) {
    INFO(no);
    CHECK_FALSE(is_json_number(no));
  }
}

}  // namespace plexus::connectors
