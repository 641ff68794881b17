// Applying RFC 6902 patches: the public json-patch-test-suite (npm), then the cases it
// leaves out, where nlohmann::json::patch deviates from the RFC, and the error contract.
#include "kernel/json/json_patch.hpp"

#include <filesystem>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "kernel/json/json_equal.hpp"
#include "tests/support/test_support.hpp"

using Catch::Matchers::Contains;
using nlohmann::json;
using plexus::jsonpatch::apply_operation;
using plexus::jsonpatch::apply_patch;
using plexus::jsonpatch::equal_json;
using plexus::jsonpatch::JsonPatchError;

namespace {

// Runs every record of one suite file: disabled ones are skipped and counted, the others
// must give "expected", throw when they carry "error", and at least apply otherwise.
void run_suite(const std::string& name) {
  const auto file =
      plexus::test::source_dir() / "tests" / "js" / "node_modules" / "json-patch-test-suite" / name;
  if (!std::filesystem::exists(file)) {
    FAIL(file.string() << " is missing: run `npm ci --prefix tests/js` (tools/test does)");
  }
  const json cases = json::parse(plexus::test::read_file(file));
  REQUIRE(cases.is_array());
  REQUIRE(cases.size() > 10);

  std::size_t passed = 0;
  std::size_t disabled = 0;
  std::size_t comments_only = 0;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const json& record = cases[i];
    if (record.value("disabled", false)) {
      ++disabled;
      continue;
    }
    if (!record.contains("doc") && !record.contains("patch")) {  // the format allows bare comments
      ++comments_only;
      continue;
    }
    INFO(name << " #" << i << ": " << record.value("comment", "(no comment)"));
    INFO("doc: " << record.at("doc").dump());
    INFO("patch: " << record.at("patch").dump());
    try {
      const json result = apply_patch(record.at("doc"), record.at("patch"));
      if (record.contains("error")) {
        FAIL_CHECK("applied, giving " << result.dump() << ", but should fail: " << record["error"]);
      } else if (record.contains("expected") && !equal_json(result, record["expected"])) {
        FAIL_CHECK("gave " << result.dump() << ", expected " << record["expected"].dump());
      } else {
        ++passed;
      }
    } catch (const JsonPatchError& e) {
      if (record.contains("error")) {
        ++passed;
      } else {
        FAIL_CHECK("threw: " << e.what());
      }
    } catch (const std::exception& e) {
      FAIL_CHECK("threw something other than JsonPatchError: " << e.what());
    }
  }
  WARN(name << ": " << passed << " passed, " << disabled << " disabled (skipped), " << comments_only
            << " comment-only, of " << cases.size());
  CHECK(passed + disabled + comments_only == cases.size());
}

json apply(const char* document, const char* patch) {
  return apply_patch(json::parse(document), json::parse(patch));
}

// The JsonPatchError applying `patch` to `document` throws; fails the test if none.
JsonPatchError error_of(const char* document, const char* patch) {
  try {
    const json result = apply(document, patch);
    FAIL("applied, giving " << result.dump());
  } catch (const JsonPatchError& e) {
    return e;
  }
  throw std::logic_error("unreachable");
}

std::string reason_of(const char* document, const char* patch) { return error_of(document, patch).reason(); }

}  // namespace

TEST_CASE("json-patch-test-suite tests.json passes", "[json_patch]") { run_suite("tests.json"); }

TEST_CASE("json-patch-test-suite spec_tests.json passes", "[json_patch]") { run_suite("spec_tests.json"); }

TEST_CASE("the cases the suite disables work too", "[json_patch]") {
  CHECK(apply(R"("foo")", R"([{"op":"replace","path":"","value":"bar"}])") == "bar");  // top-level scalar
  CHECK(apply(R"({"foo":1})", R"([{"op":"test","path":"","value":{"foo":1}}])") ==
        json::parse(R"({"foo":1})"));
}

TEST_CASE("add and remove refuse a parent that is not a container where nlohmann::json::patch does not",
          "[json_patch]") {
  // nlohmann turns the null into {"b":1}; the RFC requires the parent to exist as a container.
  CHECK_THAT(reason_of(R"({"a":null})", R"([{"op":"add","path":"/a/b","value":1}])"),
             Contains(R"(cannot add to "/a": it is a null, not an object or array)"));
  // nlohmann silently does nothing for these two in a Release build.
  CHECK_THAT(reason_of(R"({"a":"s"})", R"([{"op":"add","path":"/a/b","value":1}])"),
             Contains("it is a string"));
  CHECK_THAT(reason_of(R"({"a":5})", R"([{"op":"remove","path":"/a/b"}])"), Contains(R"("/a" is a number)"));
  CHECK_THAT(reason_of(R"({"a":true})", R"([{"op":"copy","from":"/a","path":"/a/x"}])"),
             Contains("it is a boolean"));
}

TEST_CASE("move refuses to move a location into its own child", "[json_patch]") {
  CHECK_THAT(reason_of(R"({"a":{"b":1}})", R"([{"op":"move","from":"/a","path":"/a/c"}])"),
             Contains(R"(cannot move "/a" into its own child "/a/c")"));
  CHECK_THAT(reason_of(R"({"a":1})", R"([{"op":"move","from":"","path":"/b"}])"),
             Contains("into its own child"));
  // Not a proper prefix: "/a" vs "/ab", and a location onto itself (a no-op that must exist).
  CHECK(apply(R"({"a":1})", R"([{"op":"move","from":"/a","path":"/ab"}])") == json::parse(R"({"ab":1})"));
  CHECK(apply(R"({"a":1})", R"([{"op":"move","from":"/a","path":"/a"}])") == json::parse(R"({"a":1})"));
  CHECK_THAT(reason_of(R"({})", R"([{"op":"move","from":"/a","path":"/a"}])"),
             Contains(R"("/a" does not exist)"));
  // The whole document can be copied below itself: the copy is taken first.
  CHECK(apply(R"({"a":1})", R"([{"op":"copy","from":"","path":"/b"}])") ==
        json::parse(R"({"a":1,"b":{"a":1}})"));
}

TEST_CASE("test compares numbers exactly by value", "[json_patch]") {
  CHECK_NOTHROW(apply(R"({"a":1})", R"([{"op":"test","path":"/a","value":1.0}])"));
  CHECK_NOTHROW(apply(R"({"a":[1,{"b":2.0}]})", R"([{"op":"test","path":"/a","value":[1.0,{"b":2}]}])"));
  // nlohmann's operator== passes both of these.
  CHECK_THAT(reason_of(R"({"a":18446744073709551615})", R"([{"op":"test","path":"/a","value":-1}])"),
             Contains(R"(test failed: "/a" is 18446744073709551615, not -1)"));
  CHECK_THAT(
      reason_of(R"({"a":9007199254740993})", R"([{"op":"test","path":"/a","value":9007199254740992.0}])"),
      Contains("test failed"));
  CHECK_THAT(reason_of(R"({"a":"1"})", R"([{"op":"test","path":"/a","value":1}])"), Contains("test failed"));
  CHECK_THAT(reason_of(R"({"a":null})", R"([{"op":"test","path":"/a","value":false}])"),
             Contains("test failed"));
  CHECK_THAT(reason_of(R"({})", R"([{"op":"test","path":"/a","value":null}])"),
             Contains(R"("/a" does not exist)"));
}

TEST_CASE("an error names the failing operation by index and op and path", "[json_patch]") {
  const JsonPatchError e = error_of(R"({"a":1,"b":[1,2]})", R"([{"op":"replace","path":"/a","value":2},
      {"op":"add","path":"/b/-","value":3},{"op":"remove","path":"/b/7"}])");
  REQUIRE(e.index() == 2u);
  CHECK(e.operation() == R"(remove "/b/7")");
  CHECK(e.reason() == R"(index 7 is out of range for the array at "/b", which has 3 elements)");
  CHECK(
      std::string(e.what()) ==
      R"(operation 2 (remove "/b/7"): index 7 is out of range for the array at "/b", which has 3 elements)");

  const JsonPatchError move = error_of(R"({"a":1})", R"([{"op":"move","from":"/x","path":"/y"}])");
  CHECK(std::string(move.what()) ==
        R"(operation 0 (move "/x" to "/y"): "/x" does not exist: the document has no member "x")");

  const JsonPatchError whole = error_of(R"({})", R"({"op":"add","path":"/a","value":1})");
  CHECK_FALSE(whole.index().has_value());
  CHECK(std::string(whole.what()) == "patch: a JSON Patch must be an array of operations, not object");
}

TEST_CASE("a failing patch changes nothing", "[json_patch]") {
  const json document = json::parse(R"({"a":[1,2,3],"b":{"c":true}})");
  const json patch = json::parse(R"([{"op":"remove","path":"/a/0"},{"op":"add","path":"/b/d","value":1},
      {"op":"test","path":"/b/c","value":false}])");
  // apply_patch works on a copy; the third operation's failure discards the first two.
  CHECK_THROWS_AS(apply_patch(document, patch), JsonPatchError);

  // One operation in place: a move whose add fails puts the value back where it was.
  json working = document;
  CHECK_THROWS_AS(apply_operation(working, json::parse(R"({"op":"move","from":"/a/0","path":"/a/3"})"), 0),
                  JsonPatchError);
  CHECK(working == document);
  CHECK_THROWS_AS(apply_operation(working, json::parse(R"({"op":"move","from":"/b","path":"/a/x/y"})"), 0),
                  JsonPatchError);
  CHECK(working == document);
}

TEST_CASE("malformed operations are refused with the reason", "[json_patch]") {
  CHECK_THAT(reason_of("{}", R"([1])"), Contains("an operation must be an object, not number"));
  CHECK_THAT(reason_of("{}", R"([{"path":"/a"}])"), Contains(R"(missing member "op")"));
  CHECK_THAT(reason_of("{}", R"([{"op":1,"path":"/a"}])"),
             Contains(R"(member "op" must be a string, not number)"));
  CHECK_THAT(reason_of("{}", R"([{"op":"delete","path":"/a"}])"), Contains(R"(unknown op "delete")"));
  CHECK_THAT(reason_of("{}", R"([{"op":"add","value":1}])"), Contains(R"(missing member "path")"));
  CHECK_THAT(reason_of("{}", R"([{"op":"add","path":null,"value":1}])"),
             Contains(R"(member "path" must be a string, not null)"));
  CHECK_THAT(reason_of("{}", R"([{"op":"add","path":"/a"}])"), Contains(R"(missing member "value")"));
  CHECK_THAT(reason_of(R"({"a":1})", R"([{"op":"replace","path":"/a"}])"),
             Contains(R"(missing member "value")"));
  CHECK_THAT(reason_of(R"({"a":1})", R"([{"op":"test","path":"/a"}])"),
             Contains(R"(missing member "value")"));
  CHECK_THAT(reason_of(R"({"a":1})", R"([{"op":"move","path":"/b"}])"), Contains(R"(missing member "from")"));
  CHECK_THAT(reason_of(R"({"a":1})", R"([{"op":"copy","from":7,"path":"/b"}])"),
             Contains(R"(member "from" must be a string)"));
  CHECK_THAT(reason_of("{}", R"([{"op":"add","path":"a","value":1}])"),
             Contains(R"(member "path" is not a JSON Pointer)"));
  CHECK_THAT(reason_of(R"({"a":1})", R"([{"op":"remove","path":"/a~2"}])"), Contains("escape character '~'"));
  CHECK_THAT(reason_of(R"({"a":1})", R"([{"op":"remove","path":"/a~"}])"), Contains("escape character '~'"));
  CHECK_THAT(reason_of(R"({"a":1})", R"([{"op":"copy","from":"a","path":"/b"}])"),
             Contains(R"(member "from" is not a JSON Pointer)"));
  // Members other than the ones an op uses are ignored (RFC 6902 section 4).
  CHECK(apply(R"({})", R"([{"op":"add","path":"/a","value":1,"from":"/zz","extra":true}])") ==
        json::parse(R"({"a":1})"));
}

TEST_CASE("array indices follow RFC 6901", "[json_patch]") {
  const char* doc = R"({"a":[10,20,30]})";
  CHECK(apply(doc, R"([{"op":"add","path":"/a/3","value":40}])") == json::parse(R"({"a":[10,20,30,40]})"));
  CHECK(apply(doc, R"([{"op":"add","path":"/a/-","value":40}])") == json::parse(R"({"a":[10,20,30,40]})"));
  CHECK(apply(doc, R"([{"op":"add","path":"/a/0","value":0}])") == json::parse(R"({"a":[0,10,20,30]})"));
  CHECK(apply(doc, R"([{"op":"remove","path":"/a/2"}])") == json::parse(R"({"a":[10,20]})"));
  CHECK_THAT(reason_of(doc, R"([{"op":"add","path":"/a/4","value":1}])"),
             Contains("index 4 is out of range"));
  CHECK_THAT(reason_of(doc, R"([{"op":"remove","path":"/a/3"}])"), Contains("index 3 is out of range"));
  CHECK_THAT(reason_of(doc, R"([{"op":"replace","path":"/a/3","value":1}])"),
             Contains("index 3 is out of range"));
  CHECK_THAT(reason_of(R"({"a":[]})", R"([{"op":"remove","path":"/a/0"}])"),
             Contains("which has 0 elements"));
  for (const char* bad : {"01", "00", "+1", "-1", "1e0", " 1", "1 ", "0x1", "", "99999999999999999999999"}) {
    INFO("token " << bad);
    const std::string patch = std::string(R"([{"op":"replace","path":"/a/)") + bad + R"(","value":1}])";
    CHECK_THAT(reason_of(doc, patch.c_str()), Contains("is not an array index"));
  }
  // "-" is only the position after the end for "add"; nowhere else does it name an element.
  CHECK_THAT(reason_of(doc, R"([{"op":"remove","path":"/a/-"}])"),
             Contains(R"("-" names the position after)"));
  CHECK_THAT(reason_of(doc, R"([{"op":"replace","path":"/a/-","value":1}])"),
             Contains(R"("-" names the position after)"));
  CHECK_THAT(reason_of(doc, R"([{"op":"test","path":"/a/-","value":1}])"),
             Contains(R"("-" names the position after)"));
  CHECK_THAT(reason_of(doc, R"([{"op":"copy","from":"/a/-","path":"/b"}])"),
             Contains(R"("-" names the position after)"));
  CHECK_THAT(reason_of(R"({"a":[{}]})", R"([{"op":"add","path":"/a/-/x","value":1}])"),
             Contains(R"("-" names the position after)"));
  // On an object "-" and "01" are ordinary member names.
  CHECK(apply(R"({"a":{}})",
              R"([{"op":"add","path":"/a/-","value":1},{"op":"add","path":"/a/01","value":2}])") ==
        json::parse(R"({"a":{"-":1,"01":2}})"));
}

TEST_CASE("pointers unescape ~1 then ~0", "[json_patch]") {
  const char* doc = R"({"a/b":1,"m~n":2,"~1":3,"":4,"x":{"":5}})";
  CHECK(apply(doc, R"([{"op":"test","path":"/a~1b","value":1}])").is_object());
  CHECK(apply(doc, R"([{"op":"test","path":"/m~0n","value":2}])").is_object());
  CHECK(apply(doc, R"([{"op":"test","path":"/~01","value":3}])").is_object());  // "~01" is "~1", not "/"
  CHECK(apply(doc, R"([{"op":"test","path":"/","value":4}])").is_object());
  CHECK(apply(doc, R"([{"op":"test","path":"/x/","value":5}])").is_object());
  CHECK(apply(doc, R"([{"op":"remove","path":"/a~1b"},{"op":"add","path":"/~0~1","value":0}])") ==
        json::parse(R"({"m~n":2,"~1":3,"":4,"x":{"":5},"~/":0})"));
  CHECK_THAT(reason_of(doc, R"([{"op":"remove","path":"/a~1c"}])"),
             Contains(R"(the document has no member "a/c")"));
}

TEST_CASE("the whole document is addressed by the empty path", "[json_patch]") {
  CHECK(apply(R"({"a":1})", R"([{"op":"replace","path":"","value":[1]}])") == json::parse("[1]"));
  CHECK(apply(R"({"a":1})", R"([{"op":"add","path":"","value":null}])").is_null());
  CHECK(apply(R"(3)", R"([{"op":"test","path":"","value":3.0}])") == 3);
  CHECK_THAT(reason_of(R"({"a":1})", R"([{"op":"remove","path":""}])"),
             Contains("cannot remove the whole document"));
  CHECK_THAT(reason_of(R"(3)", R"([{"op":"add","path":"/a","value":1}])"),
             Contains("cannot add to the document: it is a number"));
  CHECK(apply(R"({"a":1})", R"([])") == json::parse(R"({"a":1})"));
}

TEST_CASE("values quoted in errors are shortened", "[json_patch]") {
  const std::string big(5000, 'x');
  const json document = {{"a", big}};
  try {
    apply_patch(document, json::array({{{"op", "test"}, {"path", "/a"}, {"value", "y"}}}));
    FAIL("the test passed");
  } catch (const JsonPatchError& e) {
    CHECK(std::string(e.what()).size() < 400);
    CHECK(e.reason().find("...") != std::string::npos);
  }
}
