// YAML <-> JSON (kernel/json/yaml_json): the YAML 1.2 core schema on reading,
// writing that reads back to the same JSON, and errors that say where.
#include "kernel/json/yaml_json.hpp"

#include <catch2/catch.hpp>

using Catch::Matchers::Contains;
using nlohmann::json;
using plexus::yaml_json::parse;
using plexus::yaml_json::to_yaml;
using plexus::yaml_json::YamlError;

namespace {

YamlError error_of(const std::string& text) {
  try {
    parse(text);
  } catch (const YamlError& error) {
    return error;
  }
  FAIL("expected a YamlError for:\n" << text);
  throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("plain scalars follow the YAML 1.2 core schema", "[yaml]") {
  const auto value = parse(R"(
string: hello
quoted: "42"
single: '007'
tagged: !!str 7
int: 42
octal_looking: 007
hex: 0x1F
exponent: 1e3
float: 1.5
yes: yes
bool: true
Bool: False
nothing: ~
empty:
literal: |
  one
  two
)");
  CHECK(value == json{{"string", "hello"},
                      {"quoted", "42"},
                      {"single", "007"},
                      {"tagged", "7"},
                      {"int", 42},
                      {"octal_looking", 7},
                      {"hex", 31},
                      {"exponent", 1000.0},
                      {"float", 1.5},
                      {"yes", "yes"},
                      {"bool", true},
                      {"Bool", false},
                      {"nothing", nullptr},
                      {"empty", nullptr},
                      {"literal", "one\ntwo\n"}});
  CHECK(parse("").is_null());
  CHECK(parse("# only a comment\n").is_null());
}

TEST_CASE("JSON written as YAML reads back as the same JSON", "[yaml]") {
  const json value = {
      {"looks_like_other_types",
       {"007", "true", "True", "false", "1e3", "0x1F", "0o17", "-5", "+1", ".5", "null", "Null", "~", "",
        ".inf", "-.inf", ".nan"}},
      {"yaml_words_that_are_strings_anyway", {"yes", "no", "on", "off", "y", "n"}},
      {"syntax", {"a: b",  "- item",   "# not a comment", "key:",        "? x",        "[x]",
                  "{x}",   "&anchor",  "*alias",          "!tag",        "%directive", "@at",
                  "`tick", "'single'", "\"double\"",      "back\\slash", "---",        "--- x",
                  "...",   " leading", "trailing ",       "  "}},
      {"multi_line",
       {"line one\nline two\n", "no final newline\nhere", "ends with two\n\n", "\nstarts with a newline\n",
        " indented first line\nsecond\n", "blank\n\nline inside\n", "trailing space \nline\n",
        "tab\tinside\n", "SELECT id,\n       name\n  FROM servers\n WHERE up = :up\n"}},
      {"characters",
       {"caf\u00e9 \u65e5\u672c", "bell\x07", std::string("nul\0byte", 8), "crlf\r\n", "nel\u0085",
        "line separator\u2028", "bom\ufeff", "del\x7f"}},
      {"numbers", {0, -1, 9007199254740993LL, 18446744073709551615ULL, 1000.0, 0.1, -0.0, 1e300, 2.5e-300}},
      {"nested",
       {{"empty_object", json::object()},
        {"empty_array", json::array()},
        {"null", nullptr},
        {"deep", {{"a", {{{"b", {1, {2, {3}}}}}}}}}}},
      {"007", "keys are strings too"},
      {"true", 1},
      {"", "empty key"},
      {"multi\nline key", 2},
  };
  const auto yaml = to_yaml(value);
  INFO(yaml);
  CHECK(parse(yaml) == value);
  // Readable where it can be: strings that are not numbers stay plain, multi-line
  // text becomes a literal block.
  CHECK_THAT(yaml, Contains("- \"007\""));
  CHECK_THAT(yaml, Contains("- \"true\""));
  CHECK_THAT(yaml, Contains("- \"1e3\""));
  CHECK_THAT(yaml, Contains("- yes\n"));
  CHECK_THAT(yaml, Contains("- |\n"));
  CHECK_THAT(yaml, Contains("- 1000.0\n"));
  CHECK(to_yaml(json::object()) == "{}\n");
  CHECK(to_yaml("007") == "\"007\"\n");
}

TEST_CASE("bad YAML names the line and column", "[yaml]") {
  const auto unclosed = error_of("format: x\nresources: [\n  {kind: note\n");
  CHECK(unclosed.line() > 0);
  CHECK(unclosed.column() > 0);
  CHECK_THAT(unclosed.message(), Contains("invalid YAML"));
  CHECK_THAT(std::string(unclosed.what()), Contains("line " + std::to_string(unclosed.line()) + ", column "));

  const auto twice = error_of("a: 1\nb:\n  c: 1\n  c: 2\n");
  CHECK(twice.line() == 4);
  CHECK(twice.column() == 3);
  CHECK(twice.pointer() == "/b/c");
  CHECK(twice.message() == "set twice (first on line 3)");

  const auto infinite = error_of("x:\n  - .inf\n");
  CHECK(infinite.line() == 2);
  CHECK(infinite.pointer() == "/x/0");
  CHECK(infinite.message() == "expected a finite number (JSON has no infinity or NaN), got '.inf'");

  CHECK(error_of("[a]: 1\n").message() == "expected a string key, got a list");
  CHECK(error_of("x: !!int abc\n").message() == "expected an integer after !!int, got 'abc'");
  CHECK(error_of("x: !custom abc\n").message() ==
        "expected a plain value, got the unsupported tag '!custom'");
  CHECK(error_of("a: 1\n---\nb: 2\n").message() == "expected one YAML document, got several");
}

TEST_CASE("alias bombs and deep nesting are refused", "[yaml]") {
  std::string bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 9; ++i) {
    const std::string p = "*a" + std::to_string(i - 1);
    bomb += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [" + p;
    for (int j = 1; j < 10; ++j) bomb += ", " + p;
    bomb += "]\n";
  }
  CHECK_THAT(error_of(bomb).message(), Contains("expected at most 100000 values"));
  std::string nested;
  for (int i = 0; i < 80; ++i) nested += std::string(2 * i, ' ') + "k:\n";
  CHECK_THAT(error_of(nested).message(), Contains("levels of nesting"));
}
