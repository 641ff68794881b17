// Diffs between revisions: exact patches for hand-written cases, a property check over
// generated documents (fixed seed), and the readable form people see.
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "kernel/json/json_equal.hpp"
#include "kernel/json/json_patch.hpp"
#include "kernel/json/readable_diff.hpp"
#include "kernel/text/utf8.hpp"

using nlohmann::json;
using plexus::jsonpatch::apply_patch;
using plexus::jsonpatch::diff;
using plexus::jsonpatch::identical_json;
using plexus::jsonpatch::JsonPatchError;
using plexus::jsonpatch::readable_diff;
using plexus::jsonpatch::readable_diff_text;

namespace {

json diff_of(const char* from, const char* to) { return diff(json::parse(from), json::parse(to)); }

// Random documents and edits of them. std::mt19937 is specified bit for bit and only
// its raw output is used (no std:: distributions), so every platform sees the same cases.
class Generator {
 public:
  explicit Generator(std::uint32_t seed) : random_(seed) {}

  std::size_t below(std::size_t n) { return random_() % n; }

  json scalar() {
    switch (below(12)) {
      case 0: return nullptr;
      case 1: return below(2) == 0;
      case 2: return static_cast<std::int64_t>(below(4)) - 2;  // small values repeat, as in real lists
      case 3: return std::numeric_limits<std::uint64_t>::max();
      case 4: return std::numeric_limits<std::int64_t>::min();
      case 5: return -1;
      case 6: return std::vector<double>{0.5, 1.0, -0.0, 0.0, 1e300}[below(5)];
      case 7: return 9007199254740993u;
      case 8: return 9007199254740992.0;
      default: return key();
    }
  }

  // Member names and strings, including the ones pointers must escape.
  std::string key() {
    static const std::vector<std::string> keys = {"a",  "b", "c", "id", "",  "a/b", "m~n", "~1",
                                                  "~0", "/", "~", "-",  "0", "01",  "x y", "\u00e9t\u00e9",
                                                  "\n"};
    return keys[below(keys.size())];
  }

  json value(int depth) {
    if (depth <= 0 || below(3) == 0) return scalar();
    json result = below(2) == 0 ? json::array() : json::object();
    const std::size_t count = below(below(8) == 0 ? 30 : 6);
    for (std::size_t i = 0; i < count; ++i) {
      if (result.is_array()) {
        result.push_back(value(depth - 1));
      } else {
        result[key()] = value(depth - 1);
      }
    }
    return result;
  }

  // `original` with random edits: what a revision usually is relative to the last.
  json edit(const json& original, int depth) {
    if (below(8) == 0) return value(depth);
    json result = original;
    if (result.is_object()) {
      for (const auto& [name, member] : original.items()) {
        const std::size_t choice = below(6);
        if (choice == 0) result.erase(name);
        if (choice == 1) result[name] = edit(member, depth - 1);
      }
      for (std::size_t n = below(3); n > 0; --n) result[key()] = value(depth - 1);
    } else if (result.is_array()) {
      for (std::size_t n = below(5); n > 0; --n) {
        const std::size_t size = result.size();
        switch (below(4)) {
          case 0:
            result.insert(result.begin() + static_cast<std::ptrdiff_t>(below(size + 1)), value(depth - 1));
            break;
          case 1:
            if (size > 0) result.erase(below(size));
            break;
          case 2:
            if (size > 0) {
              const std::size_t at = below(size);
              result[at] = edit(result[at], depth - 1);
            }
            break;
          default:
            if (size > 0) result.push_back(result[below(size)]);  // a duplicate elsewhere
        }
      }
    } else if (below(2) == 0) {
      result = scalar();
    }
    return result;
  }

 private:
  std::mt19937 random_;
};

}  // namespace

TEST_CASE("diff of nested objects touches only what changed", "[json_diff]") {
  CHECK(diff_of(R"({"a":{"b":{"c":1,"d":2}},"e":3})", R"({"a":{"b":{"c":1,"d":5}},"e":3})") ==
        json::parse(R"([{"op":"replace","path":"/a/b/d","value":5}])"));
  CHECK(diff_of(R"({"a":{"b":1}})", R"({"a":{"b":1,"c":{"d":[]}}})") ==
        json::parse(R"([{"op":"add","path":"/a/c","value":{"d":[]}}])"));
  CHECK(diff_of(R"({"a":{"b":1},"z":0})", R"({"z":0})") == json::parse(R"([{"op":"remove","path":"/a"}])"));
  CHECK(diff_of(R"({"a":[1,{"b":2}]})", R"({"a":[1,{"b":2}]})") == json::array());
  CHECK(diff_of("{}", "{}") == json::array());
}

TEST_CASE("diff aligns arrays so insertions and removals stay single operations", "[json_diff]") {
  // nlohmann::json::diff gives replace /0, /1, /2 and add /- for the first one.
  CHECK(diff_of("[1,2,3]", "[0,1,2,3]") == json::parse(R"([{"op":"add","path":"/0","value":0}])"));
  CHECK(diff_of("[1,2,3]", "[1,2,9,3]") == json::parse(R"([{"op":"add","path":"/2","value":9}])"));
  CHECK(diff_of("[1,2,3]", "[1,2,3,4]") == json::parse(R"([{"op":"add","path":"/3","value":4}])"));
  CHECK(diff_of("[1,2,3,4]", "[1,3,4]") == json::parse(R"([{"op":"remove","path":"/1"}])"));
  CHECK(diff_of("[1,2,3,4,5]", "[1,5]") ==
        json::parse(
            R"([{"op":"remove","path":"/1"},{"op":"remove","path":"/1"},{"op":"remove","path":"/1"}])"));
  CHECK(diff_of(R"(["a","b","c","d"])", R"(["x","a","c","d","y"])") ==
        json::parse(R"([{"op":"add","path":"/0","value":"x"},{"op":"remove","path":"/2"},
                        {"op":"add","path":"/4","value":"y"}])"));
  // A changed element between unchanged ones is diffed inside, not replaced whole.
  CHECK(diff_of(R"([{"id":1,"v":"a"},{"id":2,"v":"b"},{"id":3}])",
                R"([{"id":1,"v":"a"},{"id":2,"v":"B"},{"id":3}])") ==
        json::parse(R"([{"op":"replace","path":"/1/v","value":"B"}])"));
  CHECK(diff_of("[]", "[1,2]") ==
        json::parse(R"([{"op":"add","path":"/0","value":1},{"op":"add","path":"/1","value":2}])"));
  CHECK(diff_of("[1,2]", "[]") ==
        json::parse(R"([{"op":"remove","path":"/0"},{"op":"remove","path":"/0"}])"));
}

TEST_CASE("diff escapes member names in paths", "[json_diff]") {
  CHECK(diff_of(R"({"a/b":1,"m~n":2,"~1":3,"":4})", R"({"a/b":5,"m~n":6,"~1":7,"":8})") ==
        json::parse(R"([{"op":"replace","path":"/","value":8},{"op":"replace","path":"/a~1b","value":5},
                        {"op":"replace","path":"/m~0n","value":6},{"op":"replace","path":"/~01","value":7}])"));
  CHECK(diff_of(R"({})", R"({"~/":{"/~":1}})") ==
        json::parse(R"([{"op":"add","path":"/~0~1","value":{"/~":1}}])"));
  CHECK(diff_of(R"({"x":{"~":[1]}})", R"({"x":{"~":[1,2]}})") ==
        json::parse(R"([{"op":"add","path":"/x/~0/1","value":2}])"));
}

TEST_CASE("diff replaces a value whose type changes", "[json_diff]") {
  CHECK(diff_of(R"({"a":{"b":1}})", R"({"a":[1]})") ==
        json::parse(R"([{"op":"replace","path":"/a","value":[1]}])"));
  CHECK(diff_of(R"({"a":"1"})", R"({"a":1})") == json::parse(R"([{"op":"replace","path":"/a","value":1}])"));
  CHECK(diff_of(R"({"a":true})", R"({"a":"true"})") ==
        json::parse(R"([{"op":"replace","path":"/a","value":"true"}])"));
  CHECK(diff_of(R"([1])", R"({"0":1})") == json::parse(R"([{"op":"replace","path":"","value":{"0":1}}])"));
  CHECK(diff_of("1", R"("x")") == json::parse(R"([{"op":"replace","path":"","value":"x"}])"));
  // Numbers: exact, however nlohmann compares them (its own diff returns [] for the last two).
  CHECK(diff_of(R"({"a":1})", R"({"a":1.0})") ==
        json::parse(R"([{"op":"replace","path":"/a","value":1.0}])"));
  CHECK(diff_of("18446744073709551615", "-1") == json::parse(R"([{"op":"replace","path":"","value":-1}])"));
  CHECK(diff_of("9007199254740993", "9007199254740992.0").size() == 1);
  CHECK(diff(json(5), json(5u)) == json::array());  // the same number, stored signed or unsigned
}

TEST_CASE("diff tells null from missing", "[json_diff]") {
  CHECK(diff_of(R"({"a":null})", R"({})") == json::parse(R"([{"op":"remove","path":"/a"}])"));
  CHECK(diff_of(R"({})", R"({"a":null})") == json::parse(R"([{"op":"add","path":"/a","value":null}])"));
  CHECK(diff_of(R"({"a":null})", R"({"a":0})") == json::parse(R"([{"op":"replace","path":"/a","value":0}])"));
  CHECK(diff_of(R"({"a":null})", R"({"a":null})") == json::array());
  CHECK(diff_of(R"([null])", R"([])") == json::parse(R"([{"op":"remove","path":"/0"}])"));
  CHECK(diff_of("null", "{}") == json::parse(R"([{"op":"replace","path":"","value":{}}])"));
}

TEST_CASE("diff then apply gives the target for generated documents", "[json_diff]") {
  Generator generate(20240605);
  std::size_t operations = 0;
  std::size_t cases = 0;
  for (int round = 0; round < 3000; ++round) {
    const json from = generate.value(4);
    const json to = round % 5 == 0 ? generate.value(4) : generate.edit(from, 4);
    INFO("round " << round << "\nfrom: " << from.dump(-1, ' ', false, json::error_handler_t::replace)
                  << "\nto:   " << to.dump(-1, ' ', false, json::error_handler_t::replace));
    const json patch = diff(from, to);
    INFO("patch: " << patch.dump(-1, ' ', false, json::error_handler_t::replace));
    operations += patch.size();
    ++cases;
    REQUIRE(identical_json(apply_patch(from, patch), to));
    REQUIRE(identical_json(apply_patch(to, diff(to, from)), from));
    REQUIRE(diff(from, from).empty());
    for (const json& op : patch)
      REQUIRE((op["op"] == "add" || op["op"] == "remove" || op["op"] == "replace"));
    // An independent implementation agrees: nlohmann's own patch, on the add/remove/replace
    // operations where it follows the RFC.
    REQUIRE(identical_json(from.patch(patch), to));
    // The readable form has one entry per operation and renders.
    const json readable = readable_diff(from, patch);
    REQUIRE(readable.size() == patch.size());
    REQUIRE(plexus::text::valid_utf8(readable_diff_text(readable, 20)));
    // All or nothing: a failing test after the diff's operations throws with its index.
    json failing = patch;
    failing.push_back({{"op", "test"}, {"path", ""}, {"value", "never the document"}});
    try {
      apply_patch(from, failing);
      FAIL("the last test passed");
    } catch (const JsonPatchError& e) {
      REQUIRE(e.index() == patch.size());
    }
  }
  WARN(cases << " generated pairs, " << operations << " operations");
  CHECK(operations > cases);  // the generator really produces differences
}

TEST_CASE("diff of long arrays stays correct past the alignment limit", "[json_diff]") {
  json from = json::array();
  json to = json::array();
  for (int i = 0; i < 3000; ++i) {
    from.push_back(i);
    to.push_back(i % 7 == 0 ? -i : i);
  }
  to.insert(to.begin(), -1);
  const json patch = diff(from, to);
  CHECK(identical_json(apply_patch(from, patch), to));
}

TEST_CASE("readable diff reads as changed and added and removed entries", "[readable_diff]") {
  const json from = json::parse(R"({"timeout":30,"tags":["a","b"],"old":{"x":1},"keep":true})");
  const json to = json::parse(R"({"timeout":60,"tags":["a","b","prod"],"keep":true})");
  const json changes = readable_diff(from, diff(from, to));
  CHECK(changes == json::parse(R"([{"path":"/old","change":"removed","value":{"x":1}},
                                   {"path":"/tags/2","change":"added","value":"prod"},
                                   {"path":"/timeout","change":"changed","from":30,"to":60}])"));
  CHECK(readable_diff_text(changes) == "- /old: {\"x\":1}\n+ /tags/2: \"prod\"\n~ /timeout: 30 -> 60\n");
  CHECK(readable_diff_text(readable_diff(from, json::array())).empty());
}

TEST_CASE("readable diff follows any patch through its operations", "[readable_diff]") {
  const json from = json::parse(R"({"tags":["a"],"name":"x","src":{"k":1}})");
  const json patch = json::parse(R"([
      {"op":"test","path":"/name","value":"x"},
      {"op":"add","path":"/tags/-","value":"b"},
      {"op":"add","path":"/tags/-","value":"c"},
      {"op":"add","path":"/name","value":"y"},
      {"op":"copy","from":"/src","path":"/dst"},
      {"op":"move","from":"/src","path":"/moved"},
      {"op":"replace","path":"/moved/k","value":2},
      {"op":"remove","path":"/tags/0"}])");
  const json changes = readable_diff(from, patch);
  CHECK(changes == json::parse(R"([
      {"path":"/tags/1","change":"added","value":"b"},
      {"path":"/tags/2","change":"added","value":"c"},
      {"path":"/name","change":"changed","from":"x","to":"y"},
      {"path":"/dst","change":"copied","from_path":"/src","value":{"k":1}},
      {"path":"/moved","change":"moved","from_path":"/src","value":{"k":1}},
      {"path":"/moved/k","change":"changed","from":1,"to":2},
      {"path":"/tags/0","change":"removed","value":"a"}])"));
  CHECK(readable_diff_text(changes) ==
        "+ /tags/1: \"b\"\n+ /tags/2: \"c\"\n~ /name: \"x\" -> \"y\"\n+ /dst: copied from /src\n"
        "> /moved: moved from /src\n~ /moved/k: 1 -> 2\n- /tags/0: \"a\"\n");
}

TEST_CASE("readable diff escapes paths and shortens long values", "[readable_diff]") {
  const json from = json::parse(R"({"a/b":1,"m~n":[1],"big":"x"})");
  json to = json::parse(R"({"a/b":2,"m~n":[1,2]})");
  to["big"] = std::string(300, 'y');
  const json changes = readable_diff(from, diff(from, to));
  CHECK(changes[0]["path"] == "/a~1b");
  CHECK(changes[1]["path"] == "/big");
  CHECK(changes[1]["to"] == std::string(300, 'y'));  // the JSON form keeps whole values
  CHECK(changes[2]["path"] == "/m~0n/1");
  const std::string text = readable_diff_text(changes, 20);
  CHECK(text == "~ /a~1b: 1 -> 2\n~ /big: \"x\" -> \"yyyyyyyyyyyyyyyyyyy...\n+ /m~0n/1: 2\n");

  // Cut at a character boundary, never inside a multi-byte one.
  const json wide = json::parse(R"([{"path":"/w","change":"added","value":"aaaaaaaaa\u00e9\u00e9\u00e9"}])");
  const std::string line = readable_diff_text(wide, 11);
  CHECK(line == "+ /w: \"aaaaaaaaa...\n");
  CHECK(plexus::text::valid_utf8(readable_diff_text(wide, 12)));
  CHECK(readable_diff_text(wide, 12) == "+ /w: \"aaaaaaaaa\u00e9...\n");
}

TEST_CASE("readable diff names the root and keeps one line per change", "[readable_diff]") {
  CHECK(readable_diff_text(readable_diff(json(1), diff(json(1), json("one")))) == "~ (root): 1 -> \"one\"\n");
  const json changes = readable_diff(json::object(), diff(json::object(), json{{"line\nbreak", 1}}));
  CHECK(changes[0]["path"] == "/line\nbreak");
  CHECK(readable_diff_text(changes) == "+ \"/line\\nbreak\": 1\n");
}

TEST_CASE("readable diff refuses a patch that does not apply", "[readable_diff]") {
  const json from = json::parse(R"({"a":1})");
  CHECK_THROWS_AS(readable_diff(from, json::parse(R"([{"op":"remove","path":"/b"}])")), JsonPatchError);
  CHECK_THROWS_AS(readable_diff(from, json::parse(R"([{"op":"test","path":"/a","value":2}])")),
                  JsonPatchError);
  CHECK_THROWS_AS(readable_diff(from, json::parse(R"({"op":"remove","path":"/a"})")), JsonPatchError);
}
