// Plugin manifests: parsing and every error (file, line, column, key), directory
// scans, dependency order and cycles, semantic version ranges, config validation
// against a plugin's JSON Schema, and topic / route permissions.
#include <algorithm>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "kernel/plugins/manifest.hpp"
#include "tests/support/test_support.hpp"

namespace fs = std::filesystem;
using namespace plexus::plugins;
using Catch::Matchers::Contains;
using Catch::Matchers::EndsWith;
using Catch::Matchers::Equals;
using Catch::Matchers::StartsWith;
using nlohmann::json;
using plexus::test::TempDir;

namespace {

const fs::path library_dir = "/opt/plexus/lib/plexus";

TempDir& scratch() {
  static TempDir dir;
  return dir;
}

fs::path write_manifest(const std::string& text) {
  static int counter = 0;
  return scratch().write("manifest" + std::to_string(counter++) + ".yaml", text);
}

Manifest parse(const std::string& text) { return parse_manifest(write_manifest(text), library_dir); }

struct Failure {
  fs::path file;
  ManifestError error;
};

Failure failure(const std::string& text) {
  const fs::path file = write_manifest(text);
  try {
    (void)parse_manifest(file, library_dir);
  } catch (const ManifestError& e) {
    return {file, e};
  }
  FAIL("expected a ManifestError for:\n" << text);
  throw std::logic_error("unreachable");
}

// The manifest `text` is refused at line:column for `key` with exactly `message`.
void check_error(const std::string& text, int line, int column, const std::string& key,
                 const std::string& message) {
  INFO("manifest:\n" << text);
  const Failure f = failure(text);
  CHECK(f.error.file() == f.file);
  CHECK(f.error.line() == line);
  CHECK(f.error.column() == column);
  CHECK(f.error.key() == key);
  CHECK(f.error.message() == message);
  std::string expected = f.file.string();
  if (line > 0) expected += ":" + std::to_string(line) + ":" + std::to_string(column);
  expected += ": ";
  if (!key.empty()) expected += key + ": ";
  CHECK(std::string(f.error.what()) == expected + message);
}

Manifest manifest(const std::string& name, std::vector<std::string> requirements = {}, bool enabled = true) {
  Manifest m;
  m.file = name + ".yaml";
  m.name = name;
  m.library = "lib" + name + ".so";
  m.enabled = enabled;
  m.requirements = std::move(requirements);
  return m;
}

std::vector<std::string> order_of(const std::vector<Manifest>& manifests, std::vector<std::string>& errors) {
  return start_order(manifests, errors);
}

}  // namespace

// ---- parsing ----------------------------------------------------------------------

TEST_CASE("the documented full example parses", "[manifest]") {
  const Manifest m = parse(R"(name: hello                    # required
library: libplexus_hello.so
version: ">=0.1.0 <1.0.0"
enabled: false
requires: [other-plugin]
permissions:
  routes: /api/v1/hello
  events: [hello.*]
  services: [hello.*]
config:
  greeting: hi
)");
  CHECK(m.name == "hello");
  CHECK(m.library == library_dir / "libplexus_hello.so");
  CHECK(m.version_range == ">=0.1.0 <1.0.0");
  CHECK_FALSE(m.enabled);
  CHECK(m.requirements == std::vector<std::string>{"other-plugin"});
  CHECK(m.route_prefix == "/api/v1/hello");
  CHECK(m.event_patterns == std::vector<std::string>{"hello.*"});
  CHECK(m.service_patterns == std::vector<std::string>{"hello.*"});
  CHECK(m.config == json{{"greeting", "hi"}});
  CHECK(m.positions.at("name").line == 1);
  CHECK(m.positions.at("library").line == 2);
  CHECK(m.positions.at("permissions.events").line == 8);
  CHECK(m.positions.at("requires[0]").line == 5);
  CHECK(m.positions.at("config/greeting").line == 11);
  CHECK(m.positions.at("config/greeting").column == 13);
}

TEST_CASE("defaults of a minimal manifest", "[manifest]") {
  const Manifest m = parse("name: hello\nlibrary: libplexus_hello.so\n");
  CHECK(m.enabled);
  CHECK(m.version_range.empty());
  CHECK(m.requirements.empty());
  CHECK(m.route_prefix == "/api/v1/hello");
  CHECK(m.event_patterns == std::vector<std::string>{"hello.>"});
  CHECK(m.service_patterns == std::vector<std::string>{"hello.>"});
  CHECK(m.job_patterns == std::vector<std::string>{"hello.>"});
  CHECK(m.config == json::object());
  CHECK(m.file.filename().string().rfind("manifest", 0) == 0);

  // Empty values mean the default too, and empty lists mean none.
  const Manifest e = parse("name: hello\nlibrary: x.so\nversion:\nrequires:\npermissions:\nconfig:\n");
  CHECK(e.version_range.empty());
  CHECK(e.route_prefix == "/api/v1/hello");
  CHECK(e.config == json::object());
  const Manifest none =
      parse("name: hello\nlibrary: x.so\npermissions:\n  events: []\n  services: []\n  jobs: []\n");
  CHECK(none.event_patterns.empty());
  CHECK(none.service_patterns.empty());
  CHECK(none.job_patterns.empty());
}

TEST_CASE("library paths", "[manifest]") {
  CHECK(parse("name: a\nlibrary: libplexus_a.so\n").library == library_dir / "libplexus_a.so");
  CHECK(parse("name: a\nlibrary: sub/../libplexus_a.so\n").library == library_dir / "libplexus_a.so");
  CHECK(parse("name: a\nlibrary: /usr/lib/plexus/liba.so\n").library == fs::path("/usr/lib/plexus/liba.so"));
  check_error("name: a\nlibrary: ''\n", 2, 10, "library",
              "expected a library file name, got an empty string");
  check_error("name: a\nlibrary:\n", 2, 1, "library", "expected a library file name, got nothing");
  check_error("name: a\nlibrary: [a, b]\n", 2, 10, "library", "expected a library file name, got a list");
}

TEST_CASE("enabled and plain YAML values", "[manifest]") {
  CHECK(parse("name: a\nlibrary: a.so\nenabled: true\n").enabled);
  CHECK(parse("name: a\nlibrary: a.so\nenabled: True\n").enabled);
  CHECK_FALSE(parse("name: a\nlibrary: a.so\nenabled: FALSE\n").enabled);
  check_error("name: a\nlibrary: a.so\nenabled: yes\n", 3, 10, "enabled",
              "expected true or false, got 'yes'");
  check_error("name: a\nlibrary: a.so\nenabled:\n", 3, 1, "enabled", "expected true or false, got nothing");
  check_error("name: a\nlibrary: a.so\nenabled: {x: 1}\n", 3, 10, "enabled",
              "expected true or false, got a mapping");
}

TEST_CASE("names", "[manifest]") {
  CHECK(parse("name: api-manager2\nlibrary: a.so\n").name == "api-manager2");
  CHECK(parse("name: a" + std::string(62, 'b') + "\nlibrary: a.so\n").name.size() == 63);
  const std::string rule =
      "expected a plugin name of lower-case letters, digits and '-' starting with a letter "
      "([a-z][a-z0-9-]{0,62}), got ";
  check_error("name: Hello\nlibrary: a.so\n", 1, 7, "name", rule + "'Hello'");
  check_error("name: 1abc\nlibrary: a.so\n", 1, 7, "name", rule + "'1abc'");
  check_error("name: a_b\nlibrary: a.so\n", 1, 7, "name", rule + "'a_b'");
  check_error("name: ''\nlibrary: a.so\n", 1, 7, "name", rule + "''");
  check_error("name: a" + std::string(63, 'b') + "\nlibrary: a.so\n", 1, 7, "name",
              rule + "'a" + std::string(63, 'b') + "'");
  check_error("name: [a]\nlibrary: a.so\n", 1, 7, "name", "expected a plugin name, got a list");
  check_error("name:\nlibrary: a.so\n", 1, 1, "name", "expected a plugin name, got nothing");
}

TEST_CASE("required keys", "[manifest]") {
  check_error("library: a.so\n", 1, 1, "name", "expected the plugin's name, got none (the key is required)");
  check_error("\n\nname: a\n", 3, 1, "library",
              "expected the plugin's library file, got none (the key is required)");
}

TEST_CASE("unknown and repeated keys", "[manifest]") {
  check_error("name: a\nlibary: a.so\n", 2, 1, "libary", "unknown key (did you mean 'library'?)");
  check_error("name: a\nlibrary: a.so\nrequire: [b]\n", 3, 1, "require",
              "unknown key (did you mean 'requires'?)");
  check_error("name: a\nlibrary: a.so\ncolour: red\n", 3, 1, "colour",
              "unknown key (expected one of name, library, version, enabled, requires, permissions, config)");
  check_error("name: a\nlibrary: a.so\npermissions:\n  route: /api/v1/a\n", 4, 3, "permissions.route",
              "unknown key (did you mean 'routes'?)");
  check_error("name: a\nlibrary: a.so\npermissions:\n  database: true\n", 4, 3, "permissions.database",
              "unknown key (expected one of routes, events, services, jobs)");
  check_error("name: a\nlibrary: a.so\nname: b\n", 3, 1, "name", "set twice (first on line 1)");
  check_error("name: a\nlibrary: a.so\npermissions:\n  routes: /api/v1/a\n  routes: /api/v1/b\n", 5, 3,
              "permissions.routes", "set twice (first on line 4)");
  check_error("name: a\nlibrary: a.so\nconfig:\n  x: 1\n  y:\n    z: 1\n    z: 2\n", 7, 5, "config/y/z",
              "set twice (first on line 6)");
  check_error("name: a\nlibrary: a.so\n[x]: 1\n", 3, 1, "", "expected a key name, got a list");
}

TEST_CASE("YAML that is not a manifest", "[manifest]") {
  check_error("name: [a\nlibrary: b\n", 2, 8, "", "invalid YAML: end of sequence flow not found");
  check_error("name: a\n  library: b: c\n", 2, 10, "", "invalid YAML: illegal map value");
  check_error("", 0, 0, "", "expected a manifest with at least 'name' and 'library', got an empty file");
  check_error("# only a comment\n", 0, 0, "",
              "expected a manifest with at least 'name' and 'library', got an empty file");
  check_error("- name: a\n", 1, 1, "",
              "expected a mapping with keys such as 'name:' and 'library:', got a list");
  check_error("hello\n", 1, 1, "",
              "expected a mapping with keys such as 'name:' and 'library:', got 'hello'");
  check_error("name: a\nlibrary: a.so\n---\nname: b\n", 4, 1, "", "expected one YAML document, got several");
}

TEST_CASE("unreadable manifests", "[manifest]") {
  const fs::path missing = scratch().path() / "missing.yaml";
  try {
    (void)parse_manifest(missing, library_dir);
    FAIL("no error");
  } catch (const ManifestError& e) {
    CHECK(e.file() == missing);
    CHECK(e.line() == 0);
    CHECK_THAT(e.what(), Equals(missing.string() + ": cannot read: No such file or directory"));
  }
  const fs::path dir = scratch().path() / "dir.yaml";
  fs::create_directories(dir);
  CHECK_THROWS_WITH(parse_manifest(dir, library_dir), dir.string() + ": cannot read: Is a directory");
  const fs::path big =
      scratch().write("big.yaml", "name: a\nlibrary: a.so\n#" + std::string(max_manifest_size, 'x'));
  CHECK_THROWS_WITH(parse_manifest(big, library_dir),
                    Contains("expected a manifest of at most 1048576 bytes"));
}

TEST_CASE("version ranges in manifests", "[manifest]") {
  CHECK(parse("name: a\nlibrary: a.so\nversion: ^1.2.0\n").version_range == "^1.2.0");
  CHECK(parse("name: a\nlibrary: a.so\nversion: 1.2.3\n").version_range == "1.2.3");
  check_error("name: a\nlibrary: a.so\nversion: \">=1.2\"\n", 3, 10, "version",
              "invalid version range '>=1.2': expected a version such as 1.2.3, got '1.2'");
  check_error("name: a\nlibrary: a.so\nversion: 1.2\n", 3, 10, "version",
              "invalid version range '1.2': expected a version such as 1.2.3, got '1.2'");
  // Unquoted, '>' starts a folded block and '*' an alias: YAML errors, as docs/manifests.md warns.
  check_error("name: a\nlibrary: a.so\nversion: >=1.0.0\n", 3, 11, "",
              "invalid YAML: unexpected character in block scalar");
  check_error("name: a\nlibrary: a.so\nversion: *\n", 3, 11, "", "invalid YAML: alias not found after *");
  CHECK(parse("name: a\nlibrary: a.so\nversion: \"*\"\n").version_range == "*");
  check_error("name: a\nlibrary: a.so\nversion: [1]\n", 3, 10, "version",
              "expected a version range such as \">=0.1.0 <1.0.0\", got a list");
}

TEST_CASE("requires", "[manifest]") {
  CHECK(parse("name: a\nlibrary: a.so\nrequires:\n  - b\n  - c\n").requirements ==
        std::vector<std::string>{"b", "c"});
  check_error("name: a\nlibrary: a.so\nrequires: b\n", 3, 11, "requires",
              "expected a list such as [other-plugin], got 'b'");
  check_error("name: a\nlibrary: a.so\nrequires: [b, B]\n", 3, 15, "requires",
              "expected plugin names ([a-z][a-z0-9-]{0,62}), got 'B'");
  check_error("name: a\nlibrary: a.so\nrequires: [b, {c: d}]\n", 3, 15, "requires",
              "expected a list of strings, got a mapping in it");
  check_error("name: a\nlibrary: a.so\nrequires: [b, b]\n", 3, 15, "requires", "'b' is listed twice");
  check_error("name: a\nlibrary: a.so\nrequires: [a]\n", 3, 12, "requires", "a plugin cannot require itself");
}

TEST_CASE("route prefixes", "[manifest]") {
  const auto prefix = [](const std::string& value) {
    return parse("name: a\nlibrary: a.so\npermissions:\n  routes: " + value + "\n").route_prefix;
  };
  CHECK(prefix("/api/v1/a") == "/api/v1/a");
  CHECK(prefix("/api/v1/a/") == "/api/v1/a");
  CHECK(prefix("/api/v1/tools/a_b-c.d~e") == "/api/v1/tools/a_b-c.d~e");
  CHECK(prefix("/runtime") == "/runtime");
  CHECK(prefix("/runtime/") == "/runtime");
  CHECK(prefix("/runtime/orders") == "/runtime/orders");

  const auto refused = [](const std::string& value, const std::string& message) {
    check_error("name: a\nlibrary: a.so\npermissions:\n  routes: " + value + "\n", 4, 11,
                "permissions.routes", message);
  };
  const std::string under =
      "expected a route prefix under /api/v1/ (such as /api/v1/hello) or /runtime, got ";
  refused("/hello", under + "'/hello'");
  refused("/api/v1/", under + "'/api/v1'");
  refused("/api/v2/a", under + "'/api/v2/a'");
  refused("/runtimex", under + "'/runtimex'");
  refused("api/v1/a", under + "'api/v1/a'");
  refused("\"\"", under + "''");
  refused("/api/v1/a//b", "expected a route prefix without empty, '.' or '..' segments, got '/api/v1/a//b'");
  refused("/api/v1/a/../admin",
          "expected a route prefix without empty, '.' or '..' segments, got '/api/v1/a/../admin'");
  refused("\"/api/v1/a b\"",
          "expected a route prefix of letters, digits and - _ . ~ between slashes, got '/api/v1/a b'");
  refused("/api/v1/{name}",
          "expected a route prefix of letters, digits and - _ . ~ between slashes, got '/api/v1/{name}'");
  refused("/api/v1/admin", "expected a route prefix outside the kernel's /api/v1/admin, got '/api/v1/admin'");
  refused("/api/v1/auth/x",
          "expected a route prefix outside the kernel's /api/v1/auth, got '/api/v1/auth/x'");
  refused("/api/v1/resources",
          "expected a route prefix outside the kernel's /api/v1/resources, got '/api/v1/resources'");
  refused("{a: b}",
          "expected a route prefix such as /api/v1/hello or a list such as [/api/v1/hello, /runtime], got a "
          "mapping");
}

TEST_CASE("a list of route prefixes", "[manifest]") {
  const auto parsed = [](const std::string& value) {
    return parse("name: a\nlibrary: a.so\npermissions:\n  routes: " + value + "\n");
  };
  const Manifest both = parsed("[/api/v1/a/, /runtime]");
  CHECK(both.route_prefixes == std::vector<std::string>{"/api/v1/a", "/runtime"});
  CHECK(both.route_prefix == "/api/v1/a");  // the first one
  CHECK(both.positions.at("permissions.routes[1]").line == 4);
  CHECK(both.positions.at("permissions.routes[1]").column == 24);
  const Manifest block =
      parse("name: a\nlibrary: a.so\npermissions:\n  routes:\n    - /runtime/orders\n    - /api/v1/b\n");
  CHECK(block.route_prefixes == std::vector<std::string>{"/runtime/orders", "/api/v1/b"});
  CHECK(parsed("/api/v1/a").route_prefixes == std::vector<std::string>{"/api/v1/a"});
  CHECK(parse("name: a\nlibrary: a.so\n").route_prefixes == std::vector<std::string>{"/api/v1/a"});
  // An empty list permits no routes at all.
  const Manifest none = parsed("[]");
  CHECK(none.route_prefixes.empty());
  CHECK(none.route_prefix.empty());

  // Each item is checked like a single prefix, at its own position.
  const auto refused = [](const std::string& value, int column, const std::string& message) {
    check_error("name: a\nlibrary: a.so\npermissions:\n  routes: " + value + "\n", 4, column,
                "permissions.routes", message);
  };
  refused("[/api/v1/a, /hello]", 23,
          "expected a route prefix under /api/v1/ (such as /api/v1/hello) or /runtime, got '/hello'");
  refused("[/api/v1/a, /api/v1/admin]", 23,
          "expected a route prefix outside the kernel's /api/v1/admin, got '/api/v1/admin'");
  refused("[/runtime, /api/v1/a, /runtime/]", 33, "'/runtime' is listed twice");
  refused("[/runtime, /runtime/orders]", 22,
          "'/runtime/orders' overlaps '/runtime': list the outer one only");
  refused("[/api/v1/a/b, /api/v1/a]", 25, "'/api/v1/a' overlaps '/api/v1/a/b': list the outer one only");
  refused("[/api/v1/a, [/runtime]]", 23, "expected a list of route prefixes, got a list in it");
  // Not an overlap: a prefix that merely starts with the same letters.
  CHECK(parsed("[/api/v1/a, /api/v1/ab]").route_prefixes.size() == 2);
}

TEST_CASE("route_allowed over several prefixes", "[manifest][routes]") {
  const std::vector<std::string> prefixes{"/api/v1/a", "/runtime"};
  CHECK(route_allowed("/api/v1/a/x", prefixes));
  CHECK(route_allowed("/runtime/{path*}", prefixes));
  CHECK(route_allowed("/runtime", prefixes));
  CHECK_FALSE(route_allowed("/runtimex", prefixes));
  CHECK_FALSE(route_allowed("/api/v1/b", prefixes));
  CHECK_FALSE(route_allowed("/runtime/../api/v1/admin", prefixes));
  CHECK_FALSE(route_allowed("/api/v1/a", std::vector<std::string>{}));
}

TEST_CASE("event and service patterns", "[manifest]") {
  const Manifest m = parse(
      "name: a\nlibrary: a.so\npermissions:\n  events: [a.*, cmdb.>, x.y.z]\n  services:\n    - a.greet\n"
      "  jobs: [a.parse, backup.*]\n");
  CHECK(m.event_patterns == std::vector<std::string>{"a.*", "cmdb.>", "x.y.z"});
  CHECK(m.service_patterns == std::vector<std::string>{"a.greet"});
  CHECK(m.job_patterns == std::vector<std::string>{"a.parse", "backup.*"});
  const std::string rule =
      "expected dot-separated names where '*' stands for one segment and a final '>' for any number, "
      "such as 'hello.*' or 'hello.>', got ";
  check_error("name: a\nlibrary: a.so\npermissions:\n  events: [a.>.b]\n", 4, 12, "permissions.events",
              rule + "'a.>.b'");
  check_error("name: a\nlibrary: a.so\npermissions:\n  events: [A.b]\n", 4, 12, "permissions.events",
              rule + "'A.b'");
  check_error("name: a\nlibrary: a.so\npermissions:\n  services: [a..b]\n", 4, 14, "permissions.services",
              rule + "'a..b'");
  check_error("name: a\nlibrary: a.so\npermissions:\n  events: a.*\n", 4, 11, "permissions.events",
              "expected a list such as [hello.*], got 'a.*'");
  check_error("name: a\nlibrary: a.so\npermissions: [x]\n", 3, 14, "permissions",
              "expected a mapping with routes, events, services and jobs, got a list");
}

TEST_CASE("config converts YAML to JSON with YAML 1.2 core types", "[manifest]") {
  const Manifest m = parse(R"(name: a
library: a.so
config:
  string: hello
  quoted_number: "42"
  tagged: !!str 7
  int: 42
  negative: -7
  hex: 0x1F
  octal: 0o17
  big: 18446744073709551615
  float: 1.5
  exponent: 1e3
  yes_is_a_string: yes
  bool: true
  nothing: ~
  empty:
  list: [1, two, {three: 3}]
  nested:
    deeper:
      - a: 1
)");
  CHECK(m.config["string"] == "hello");
  CHECK(m.config["quoted_number"] == "42");
  CHECK(m.config["tagged"] == "7");
  CHECK(m.config["int"] == 42);
  CHECK(m.config["negative"] == -7);
  CHECK(m.config["hex"] == 31);
  CHECK(m.config["octal"] == 15);
  CHECK(m.config["big"] == 18446744073709551615ULL);
  CHECK(m.config["float"] == 1.5);
  CHECK(m.config["exponent"] == 1000.0);
  CHECK(m.config["yes_is_a_string"] == "yes");
  CHECK(m.config["bool"] == true);
  CHECK(m.config["nothing"].is_null());
  CHECK(m.config["empty"].is_null());
  CHECK(m.config["list"] == json::parse(R"([1, "two", {"three": 3}])"));
  CHECK(m.config["nested"]["deeper"][0]["a"] == 1);
  CHECK(m.positions.at("config/nested/deeper/0/a").line == 21);
  CHECK(m.positions.at("config/empty").line == 17);

  check_error("name: a\nlibrary: a.so\nconfig: [1]\n", 3, 9, "config",
              "expected a mapping of the plugin's settings, got a list");
  check_error("name: a\nlibrary: a.so\nconfig: hi\n", 3, 9, "config",
              "expected a mapping of the plugin's settings, got 'hi'");
  check_error("name: a\nlibrary: a.so\nconfig:\n  x: .inf\n", 4, 6, "config/x",
              "expected a finite number (JSON has no infinity or NaN), got '.inf'");
  check_error("name: a\nlibrary: a.so\nconfig:\n  x: !!int abc\n", 4, 6, "config/x",
              "expected an integer after !!int, got 'abc'");
  check_error("name: a\nlibrary: a.so\nconfig:\n  x: !custom abc\n", 4, 6, "config/x",
              "expected a plain value, got the unsupported tag '!custom'");
  check_error("name: a\nlibrary: a.so\nconfig:\n  [x]: 1\n", 4, 3, "config",
              "expected a string key, got a list");
}

TEST_CASE("config alias bombs are refused", "[manifest]") {
  std::string text = "name: a\nlibrary: a.so\nconfig:\n  a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 9; ++i) {
    const std::string p = "a" + std::to_string(i - 1);
    text += "  a" + std::to_string(i) + ": &a" + std::to_string(i) + " [*" + p + ", *" + p + ", *" + p +
            ", *" + p + ", *" + p + ", *" + p + ", *" + p + ", *" + p + ", *" + p + ", *" + p + "]\n";
  }
  const Failure f = failure(text);
  CHECK_THAT(f.error.what(), Contains("expected at most 100000 values, got more (aliases expanding?)"));
}

TEST_CASE("deep nesting is refused without crashing", "[manifest]") {
  const Failure f = failure("name: a\nlibrary: a.so\nconfig:\n  x: " + std::string(5000, '[') +
                            std::string(5000, ']') + "\n");
  CHECK_THAT(f.error.message(), StartsWith("invalid YAML: "));
  std::string nested = "name: a\nlibrary: a.so\nconfig:\n";
  for (int i = 0; i < 80; ++i) nested += std::string(2 * (i + 1), ' ') + "k:\n";
  const Failure g = failure(nested);
  CHECK_THAT(g.error.message(), Contains("levels of nesting"));
}

// ---- scanning -------------------------------------------------------------------------

TEST_CASE("scan_manifests reads every manifest in a directory, reporting bad ones", "[manifest][scan]") {
  TempDir dir;
  dir.write("b.yml", "name: b\nlibrary: libb.so\n");
  dir.write("a.yaml", "name: a\nlibrary: liba.so\nrequires: [b]\n");
  dir.write("c.yaml", "name: c\nlibary: libc.so\n");
  dir.write("d.yaml", "name: a\nlibrary: other.so\n");
  dir.write("notes.txt", "not a manifest");
  dir.write("e.yaml~", "name: e\nlibrary: x.so\n");
  dir.write(".hidden.yaml", "name: hidden\nlibrary: x.so\n");
  dir.write("examples/hello.yaml", "name: hello\nlibrary: x.so\n");
  fs::create_directories(dir.path() / "dir.yaml");

  const ManifestScan scan = scan_manifests(dir.path(), "/libs");
  REQUIRE(scan.manifests.size() == 2);
  CHECK(scan.manifests[0].name == "a");
  CHECK(scan.manifests[0].library == fs::path("/libs/liba.so"));
  CHECK(scan.manifests[1].name == "b");
  REQUIRE(scan.errors.size() == 2);
  CHECK(scan.errors[0].first == dir.path() / "c.yaml");
  CHECK_THAT(scan.errors[0].second, Equals((dir.path() / "c.yaml").string() +
                                           ":2:1: libary: unknown key (did you mean 'library'?)"));
  CHECK(scan.errors[1].first == dir.path() / "d.yaml");
  CHECK_THAT(scan.errors[1].second,
             Equals((dir.path() / "d.yaml").string() + ":1:7: name: plugin 'a' is already defined by " +
                    (dir.path() / "a.yaml").string() + " (that manifest is used, this one is ignored)"));

  // The examples folder is only read when pointed at.
  const ManifestScan examples = scan_manifests(dir.path() / "examples", "/libs");
  REQUIRE(examples.manifests.size() == 1);
  CHECK(examples.manifests[0].name == "hello");
}

TEST_CASE("scan_manifests of a missing directory reports it", "[manifest][scan]") {
  const fs::path missing = scratch().path() / "no-manifests";
  const ManifestScan scan = scan_manifests(missing, "/libs");
  CHECK(scan.manifests.empty());
  REQUIRE(scan.errors.size() == 1);
  CHECK(scan.errors[0].first == missing);
  CHECK_THAT(scan.errors[0].second,
             Equals(missing.string() + ": cannot read the manifests directory: No such file or directory"));
}

TEST_CASE("the manifests shipped in the repository are valid", "[manifest][scan]") {
  const fs::path root = plexus::test::source_dir() / "manifests";
  for (const fs::path& dir : {root, root / "examples"}) {
    if (!fs::exists(dir)) continue;
    const ManifestScan scan = scan_manifests(dir, plexus::test::binary_dir() / "lib" / "plexus");
    for (const auto& [file, message] : scan.errors) FAIL_CHECK(message);
  }
}

// ---- start order ------------------------------------------------------------------------

TEST_CASE("start order: requirements first, alphabetical among independents", "[manifest][order]") {
  std::vector<std::string> errors;
  CHECK(order_of({manifest("c"), manifest("a"), manifest("b")}, errors) ==
        std::vector<std::string>{"a", "b", "c"});
  CHECK(order_of({manifest("a", {"b"}), manifest("b", {"c"}), manifest("c")}, errors) ==
        std::vector<std::string>{"c", "b", "a"});
  // Diamond: d needs b and c, both need a; z is independent.
  CHECK(order_of({manifest("d", {"c", "b"}), manifest("c", {"a"}), manifest("b", {"a"}), manifest("a"),
                  manifest("z")},
                 errors) == std::vector<std::string>{"a", "b", "c", "d", "z"});
  // The smallest ready name goes first, even when it depends on something.
  CHECK(order_of({manifest("a", {"y"}), manifest("b"), manifest("y")}, errors) ==
        std::vector<std::string>{"b", "y", "a"});
  CHECK(errors.empty());

  // The same answer whatever the input order.
  std::vector<Manifest> many;
  for (char c = 'a'; c <= 'p'; ++c) {
    std::vector<std::string> requirements;
    if (c > 'a') requirements.push_back(std::string(1, static_cast<char>('a' + (c - 'a') / 2)));
    many.push_back(manifest(std::string(1, c), requirements));
  }
  const auto expected = order_of(many, errors);
  std::mt19937 random(7);
  for (int i = 0; i < 10; ++i) {
    std::shuffle(many.begin(), many.end(), random);
    CHECK(order_of(many, errors) == expected);
  }
  CHECK(errors.empty());
}

TEST_CASE("start order: missing or disabled requirements exclude a plugin and its dependents",
          "[manifest][order]") {
  std::vector<std::string> errors;
  const auto order = order_of({manifest("hello", {"x"}), manifest("x", {}, false), manifest("ui", {"hello"}),
                               manifest("other", {"ghost"}), manifest("fine"), manifest("off", {}, false)},
                              errors);
  CHECK(order == std::vector<std::string>{"fine"});
  CHECK(errors ==
        std::vector<std::string>{"hello requires 'x', which is not enabled",
                                 "other requires 'ghost', which is not enabled (no manifest defines it)",
                                 "ui requires 'hello', which cannot start"});

  const StartPlan plan = plan_start({manifest("hello", {"x"}), manifest("ui", {"hello"})});
  CHECK(plan.order.empty());
  REQUIRE(plan.excluded.size() == 2);
  CHECK(plan.excluded[0].first == "hello");
  CHECK(plan.excluded[1] ==
        std::pair<std::string, std::string>{"ui", "ui requires 'hello', which cannot start"});
}

TEST_CASE("start order: cycles exclude every plugin in them", "[manifest][order]") {
  std::vector<std::string> errors;
  auto order = order_of({manifest("a", {"b"}), manifest("b", {"a"}), manifest("c")}, errors);
  CHECK(order == std::vector<std::string>{"c"});
  CHECK(errors == std::vector<std::string>{"a is in a dependency cycle: a -> b -> a",
                                           "b is in a dependency cycle: b -> a -> b"});

  errors.clear();
  order = order_of(
      {manifest("x", {"y"}), manifest("y", {"z"}), manifest("z", {"x"}), manifest("w", {"x"}), manifest("v")},
      errors);
  CHECK(order == std::vector<std::string>{"v"});
  CHECK(errors == std::vector<std::string>{"x is in a dependency cycle: x -> y -> z -> x",
                                           "y is in a dependency cycle: y -> z -> x -> y",
                                           "z is in a dependency cycle: z -> x -> y -> z",
                                           "w requires 'x', which cannot start"});

  // A plugin requiring itself (only possible when built by hand: parsing refuses it).
  errors.clear();
  order = order_of({manifest("self", {"self"})}, errors);
  CHECK(order.empty());
  CHECK(errors == std::vector<std::string>{"self is in a dependency cycle: self -> self"});

  // Two cycles sharing a member: each member names the shortest cycle through it.
  errors.clear();
  order = order_of({manifest("a", {"b", "c"}), manifest("b", {"a"}), manifest("c", {"a"})}, errors);
  CHECK(order.empty());
  CHECK(errors == std::vector<std::string>{"a is in a dependency cycle: a -> b -> a",
                                           "b is in a dependency cycle: b -> a -> b",
                                           "c is in a dependency cycle: c -> a -> c"});
}

TEST_CASE("start order: disabled plugins and duplicate names", "[manifest][order]") {
  std::vector<std::string> errors;
  CHECK(order_of({manifest("a", {}, false), manifest("b")}, errors) == std::vector<std::string>{"b"});
  CHECK(errors.empty());
  // A disabled plugin's own broken requirements do not matter.
  CHECK(order_of({manifest("a", {"ghost"}, false)}, errors).empty());
  CHECK(errors.empty());

  Manifest second = manifest("a");
  second.file = "other.yaml";
  CHECK(order_of({manifest("a"), second}, errors) == std::vector<std::string>{"a"});
  CHECK(errors ==
        std::vector<std::string>{"a has a second manifest (other.yaml) that is ignored; a.yaml defines it"});
}

// ---- semantic versions ----------------------------------------------------------------------

TEST_CASE("semantic versions parse strictly and compare by precedence", "[semver]") {
  const SemVer v = parse_semver("1.2.3-rc.1+build.5");
  CHECK(v.major == 1);
  CHECK(v.minor == 2);
  CHECK(v.patch == 3);
  CHECK(v.prerelease == std::vector<std::string>{"rc", "1"});
  CHECK(v.build == "build.5");
  CHECK(v.str() == "1.2.3-rc.1+build.5");

  for (const char* bad :
       {"", "1", "1.2", "1.2.3.4", "01.2.3", "1.02.3", "v1.2.3", "1.2.x", "1.2.3-", "1.2.3-a..b", "1.2.3-01",
        "1.2.3+", "1.2.3+a_b", " 1.2.3", "99999999999999999999.0.0"}) {
    INFO(bad);
    CHECK_THROWS_AS(parse_semver(bad), std::invalid_argument);
  }
  CHECK_THROWS_WITH(parse_semver("1.2"), "expected a version such as 1.2.3, got '1.2'");
  CHECK_THROWS_WITH(parse_semver("01.2.3"),
                    "expected a version such as 1.2.3, got '01.2.3' (MAJOR must not have leading zeros)");

  // The ordering example of semver.org section 11.
  const std::vector<std::string> ordered{"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta",
                                         "1.0.0-beta",  "1.0.0-beta.2",  "1.0.0-beta.11",
                                         "1.0.0-rc.1",  "1.0.0",         "1.0.1",
                                         "1.1.0",       "2.0.0",         "10.0.0"};
  for (std::size_t i = 0; i + 1 < ordered.size(); ++i) {
    INFO(ordered[i] << " < " << ordered[i + 1]);
    CHECK(compare(parse_semver(ordered[i]), parse_semver(ordered[i + 1])) < 0);
    CHECK(compare(parse_semver(ordered[i + 1]), parse_semver(ordered[i])) > 0);
  }
  CHECK(compare(parse_semver("1.0.0+a"), parse_semver("1.0.0+b")) == 0);
}

TEST_CASE("version ranges", "[semver]") {
  struct Case {
    const char* version;
    const char* range;
    bool satisfied;
  };
  const std::vector<Case> cases{
      {"0.5.0", ">=0.1.0 <1.0.0", true},
      {"0.1.0", ">=0.1.0 <1.0.0", true},
      {"1.0.0", ">=0.1.0 <1.0.0", false},
      {"0.0.9", ">=0.1.0 <1.0.0", false},
      {"1.0.0-rc.1", ">=0.1.0 <1.0.0", false},  // pre-releases need opting in
      {"1.2.3", "1.2.3", true},
      {"1.2.4", "1.2.3", false},
      {"1.2.3", "=1.2.3", true},
      {"1.2.3+build", "1.2.3", true},
      {"2.0.0", ">1.2.3", true},
      {"1.2.3", ">1.2.3", false},
      {"1.2.3", "<=1.2.3", true},
      {"1.2.4", "<=1.2.3", false},
      {"1.2.2", "<1.2.3", true},
      {"1.2.0", "^1.2.0", true},
      {"1.9.9", "^1.2.0", true},
      {"2.0.0", "^1.2.0", false},
      {"1.1.9", "^1.2.0", false},
      {"0.2.5", "^0.2.3", true},
      {"0.3.0", "^0.2.3", false},
      {"0.0.3", "^0.0.3", true},
      {"0.0.4", "^0.0.3", false},
      {"1.2.9", "~1.2.0", true},
      {"1.3.0", "~1.2.0", false},
      {"0.2.9", "~0.2.3", true},
      {"0.2.2", "~0.2.3", false},
      {"1.2.3-beta.2", "^1.2.3-beta.1", true},
      {"1.2.3-alpha", "^1.2.3-beta.1", false},
      {"1.3.0-beta", "^1.2.3-beta.1", false},
      {"1.2.3", "^1.2.3-beta.1", true},
      {"3.0.0", "*", true},
      {"3.0.0-rc.1", "*", false},
      {"3.0.0", "", true},
      {"3.0.0", "   ", true},
      {"1.5.0", "^1.0.0 || ^3.0.0", true},
      {"3.1.0", "^1.0.0 || ^3.0.0", true},
      {"2.0.0", "^1.0.0 || ^3.0.0", false},
      {"1.5.0", ">= 1.0.0 < 2.0.0", true},
      {"2.5.0", ">= 1.0.0 < 2.0.0", false},
  };
  for (const Case& c : cases) {
    INFO(c.version << " in '" << c.range << "'");
    CHECK(version_satisfies(c.version, c.range) == c.satisfied);
  }
}

TEST_CASE("version range errors say what is wrong", "[semver]") {
  CHECK_THROWS_WITH(check_version_range(">=1.2"),
                    "invalid version range '>=1.2': expected a version such as 1.2.3, got '1.2'");
  CHECK_THROWS_WITH(
      check_version_range("=>1.0.0"),
      "invalid version range '=>1.0.0': expected one of the operators >=, >, <=, <, =, ^, ~, got '=>'");
  CHECK_THROWS_WITH(check_version_range(">=1.0.0 <"),
                    "invalid version range '>=1.0.0 <': expected a version after '<', got nothing");
  CHECK_THROWS_WITH(check_version_range("^"),
                    "invalid version range '^': expected a version after '^', got nothing");
  CHECK_THROWS_WITH(
      check_version_range("1.0.0 ||"),
      "invalid version range '1.0.0 ||': expected comparators on both sides of '||', got an empty side");
  CHECK_THROWS_WITH(check_version_range("latest"),
                    "invalid version range 'latest': expected a version such as 1.2.3, got 'latest'");
  CHECK_THROWS_AS(version_satisfies("1.0", ">=1.0.0"), std::invalid_argument);
  CHECK_THROWS_AS(version_satisfies("1.0.0", ">=1.0"), std::invalid_argument);
  CHECK_NOTHROW(check_version_range(">=0.1.0 <1.0.0"));
  CHECK_NOTHROW(check_version_range("^1.2.0 || ~2.0.1 || 3.0.0 || *"));
}

// ---- config validation -------------------------------------------------------------------------

namespace {

const json greeting_schema = json::parse(R"({
  "type": "object",
  "properties": {
    "greeting": {"type": "string"},
    "port": {"type": "integer", "minimum": 1, "maximum": 65535},
    "mode": {"enum": ["fast", "safe"]},
    "name": {"type": "string", "minLength": 2, "maxLength": 5, "pattern": "^[a-z]+$"},
    "servers": {"type": "array", "items": {"$ref": "#/definitions/server"}},
    "ratio": {"type": ["number", "null"], "exclusiveMinimum": 0}
  },
  "required": ["greeting"],
  "additionalProperties": false,
  "definitions": {
    "server": {"type": "object", "properties": {"host": {"type": "string"}, "port": {"type": "integer"}},
               "required": ["host"]}
  }
})");

ManifestError config_error(const std::string& config_yaml, const json& schema = greeting_schema) {
  const Manifest m = parse("name: hello\nlibrary: a.so\nconfig:\n" + config_yaml);
  try {
    validate_config(m, schema);
  } catch (const ManifestError& e) {
    return e;
  }
  FAIL("expected a ManifestError for config:\n" << config_yaml);
  throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("validate_config accepts a valid config, and anything under an empty schema",
          "[manifest][config]") {
  const Manifest m = parse(
      "name: hello\nlibrary: a.so\nconfig:\n  greeting: hi\n  port: 8080\n  mode: fast\n  name: abc\n  "
      "ratio: 0.5\n"
      "  servers:\n    - host: a\n      port: 1\n");
  CHECK_NOTHROW(validate_config(m, greeting_schema));
  CHECK_NOTHROW(validate_config(m, json()));
  CHECK_NOTHROW(validate_config(m, json::object()));
  CHECK_NOTHROW(validate_config(m, json(true)));

  // Absent or null config validates as {}.
  const Manifest bare = parse("name: hello\nlibrary: a.so\n");
  CHECK_NOTHROW(
      validate_config(bare, json::parse(R"({"type": "object", "properties": {"a": {"type": "string"}}})")));
  Manifest null_config = bare;
  null_config.config = nullptr;
  CHECK_NOTHROW(validate_config(null_config, json::parse(R"({"type": "object"})")));
  const ManifestError e = [&] {
    try {
      validate_config(bare, greeting_schema);
    } catch (const ManifestError& error) {
      return error;
    }
    throw std::logic_error("no error");
  }();
  CHECK_THAT(e.what(),
             StartsWith("hello: config /greeting: expected a value (the key is required), got none ("));
}

TEST_CASE("validate_config names the pointer, the reason and the line", "[manifest][config]") {
  ManifestError e = config_error("  greeting: 42\n");
  const std::string file = e.file().string();
  CHECK_THAT(e.what(), Equals("hello: config /greeting: expected string, got number (" + file + ":4:13)"));
  CHECK(e.line() == 4);
  CHECK(e.column() == 13);
  CHECK(e.key() == "config/greeting");
  CHECK(e.details() == std::vector<std::string>{"/greeting: expected string, got number"});

  CHECK_THAT(config_error("  greeting: hi\n  port: 0\n").what(),
             Contains("config /port: expected a number >= 1, got 0 ("));
  CHECK_THAT(config_error("  greeting: hi\n  port: 70000\n").what(),
             Contains("config /port: expected a number <= 65535, got 70000"));
  CHECK_THAT(config_error("  greeting: hi\n  port: 1.5\n").what(),
             Contains("config /port: expected integer, got number"));
  CHECK_THAT(config_error("  greeting: hi\n  mode: slow\n").what(),
             Contains("config /mode: expected one of \"fast\", \"safe\", got \"slow\""));
  CHECK_THAT(config_error("  greeting: hi\n  name: a\n").what(),
             Contains("config /name: expected at least 2 characters, got \"a\""));
  CHECK_THAT(config_error("  greeting: hi\n  name: abcdef\n").what(),
             Contains("config /name: expected at most 5 characters, got \"abcdef\""));
  CHECK_THAT(config_error("  greeting: hi\n  name: AB\n").what(),
             Contains("config /name: expected a string matching /^[a-z]+$/, got \"AB\""));
  CHECK_THAT(config_error("  greeting: hi\n  ratio: 0\n").what(),
             Contains("config /ratio: expected a number > 0, got 0"));
  CHECK_THAT(config_error("  greeting: hi\n  ratio: yes\n").what(),
             Contains("config /ratio: expected number or null, got string"));
  CHECK_THAT(config_error("  greeting: hi\n  greetng: x\n").what(),
             Contains("config /greetng: unknown key (did you mean 'greeting'?) ("));
  CHECK_THAT(config_error("  greeting: hi\n  greetng: x\n").what(), EndsWith(".yaml:5:12)"));

  // Nested through $ref and arrays, with the line of the item.
  e = config_error("  greeting: hi\n  servers:\n    - host: a\n    - port: x\n");
  CHECK_THAT(e.what(), Contains("config /servers/1/host: expected a value (the key is required), got none"));
  CHECK_THAT(e.what(), Contains("config /servers/1/port: expected integer, got string"));
  CHECK(e.details().size() == 2);
  CHECK_THAT(e.what(), Contains(":7:"));  // the line of "- port: x"
}

TEST_CASE("validate_config lists every problem", "[manifest][config]") {
  const ManifestError e = config_error("  greeting: [1]\n  port: -1\n  extra: true\n");
  CHECK(e.details().size() == 3);
  const std::string what = e.what();
  CHECK_THAT(what, StartsWith("hello: config /"));
  CHECK_THAT(what, Contains("config /greeting: expected string, got array"));
  CHECK_THAT(what, Contains("config /port: expected a number >= 1, got -1"));
  CHECK_THAT(what, Contains("config /extra: unknown key"));
  CHECK(std::count(what.begin(), what.end(), ';') == 2);
}

TEST_CASE("validate_config: config root and schema problems", "[manifest][config]") {
  CHECK_THAT(
      config_error("  a: 1\n", json(false)).what(),
      StartsWith("hello: config: expected no configuration (the plugin's schema is false), got {\"a\":1}"));
  CHECK_THAT(config_error("  a: 1\n", json::parse(R"({"type": "array"})")).what(),
             StartsWith("hello: config: expected array, got object ("));
  CHECK_THAT(config_error("  a: 1\n", json::parse(R"({"properties": {"a": {"$ref": "#/nowhere"}}})")).what(),
             StartsWith("hello: config: expected a valid JSON Schema in the plugin's metadata"));
  CHECK_THAT(config_error("  a: 1\n", json::parse(R"({"type": 5})")).what(),
             StartsWith("hello: config: expected a valid JSON Schema in the plugin's metadata"));
  CHECK_THAT(
      config_error("  a: 1\n", json("object")).what(),
      StartsWith("hello: config: expected the plugin's config schema to be a JSON object, got string"));
}

TEST_CASE("check_compatible: plugin name, version range and config", "[manifest][config]") {
  const Manifest m =
      parse("name: hello\nlibrary: libhello.so\nversion: \"^1.0.0\"\nconfig:\n  greeting: hi\n");
  PluginMetadata metadata;
  metadata.name = "hello";
  metadata.version = "1.4.0";
  metadata.config_schema = greeting_schema;
  CHECK_NOTHROW(check_compatible(m, metadata));

  metadata.version = "2.0.0";
  try {
    check_compatible(m, metadata);
    FAIL("no error");
  } catch (const ManifestError& e) {
    CHECK(e.key() == "version");
    CHECK(e.line() == 3);
    CHECK_THAT(e.what(),
               Equals(m.file.string() + ":3:10: version: expected a plugin version in '^1.0.0', got 2.0.0 (" +
                      (library_dir / "libhello.so").string() + ")"));
  }
  metadata.version = "1.0.0";
  metadata.name = "hola";
  CHECK_THROWS_WITH(check_compatible(m, metadata),
                    m.file.string() +
                        ":2:10: library: expected the library of plugin 'hello', got plugin 'hola' in " +
                        (library_dir / "libhello.so").string());
  metadata.name = "hello";
  metadata.config_schema = json::parse(R"({"properties": {"greeting": {"type": "integer"}}})");
  CHECK_THROWS_WITH(check_compatible(m, metadata),
                    Contains("hello: config /greeting: expected integer, got string"));
}

// ---- topics and routes -------------------------------------------------------------------------

TEST_CASE("topic patterns", "[manifest][topics]") {
  for (const char* good : {"a", "a.b", "a.*", "a.>", "*", ">", "a.*.c", "cmdb.ci.changed", "x_y-z.0"}) {
    INFO(good);
    CHECK(valid_topic_pattern(good));
  }
  for (const char* bad : {"", ".", "a.", ".a", "a..b", "a.>.b", "a.b*", "a.>b", "A.b", "a b", "a.b c"}) {
    INFO(bad);
    CHECK_FALSE(valid_topic_pattern(bad));
  }
  CHECK(topic_matches("hello.x", "hello.*"));
  CHECK_FALSE(topic_matches("hello.x.y", "hello.*"));
  CHECK_FALSE(topic_matches("hello", "hello.*"));
  CHECK(topic_matches("hello.x.y", "hello.>"));
  CHECK_FALSE(topic_matches("hello", "hello.>"));
  CHECK(topic_matches("a.b.c", "*.b.*"));
  CHECK(topic_matches("a.b.c", "a.b.c"));
  CHECK_FALSE(topic_matches("a.b.*", "a.b.*"));  // a pattern is not a topic
}

TEST_CASE("topic_allowed: publish topics and subscribe patterns within permissions", "[manifest][topics]") {
  const std::vector<std::string> hello{"hello.*"};
  CHECK(topic_allowed("hello.greeted", hello));
  CHECK(topic_allowed("hello.*", hello));
  CHECK_FALSE(topic_allowed("hello.a.b", hello));
  CHECK_FALSE(topic_allowed("hello.>", hello));  // would receive deeper topics than permitted
  CHECK_FALSE(topic_allowed("hello", hello));
  CHECK_FALSE(topic_allowed("other.x", hello));
  CHECK_FALSE(topic_allowed("*.x", hello));

  const std::vector<std::string> deep{"cmdb.>", "audit.login"};
  CHECK(topic_allowed("cmdb.ci", deep));
  CHECK(topic_allowed("cmdb.ci.changed", deep));
  CHECK(topic_allowed("cmdb.*", deep));
  CHECK(topic_allowed("cmdb.*.changed", deep));
  CHECK(topic_allowed("cmdb.>", deep));
  CHECK_FALSE(topic_allowed("cmdb", deep));
  CHECK(topic_allowed("audit.login", deep));
  CHECK_FALSE(topic_allowed("audit.*", deep));
  CHECK_FALSE(topic_allowed("audit.logout", deep));

  CHECK(topic_allowed("anything.at.all", {">"}));
  CHECK(topic_allowed("a.b", {"*.*"}));
  CHECK_FALSE(topic_allowed("a.b", {}));
  CHECK_FALSE(topic_allowed("a..b", {">"}));         // invalid topics are never allowed
  CHECK_FALSE(topic_allowed("a.b", {"a..b", "x"}));  // nor do invalid patterns allow anything
}

TEST_CASE("route_allowed: routes under the prefix at a segment boundary", "[manifest][routes]") {
  CHECK(route_allowed("/api/v1/hello", "/api/v1/hello"));
  CHECK(route_allowed("/api/v1/hello/{name}", "/api/v1/hello"));
  CHECK(route_allowed("/api/v1/hello/a/b", "/api/v1/hello/"));
  CHECK_FALSE(route_allowed("/api/v1/helloworld", "/api/v1/hello"));
  CHECK_FALSE(route_allowed("/api/v1/hell", "/api/v1/hello"));
  CHECK_FALSE(route_allowed("/api/v1/other", "/api/v1/hello"));
  CHECK_FALSE(route_allowed("/api/v1/hello/../admin", "/api/v1/hello"));
  CHECK_FALSE(route_allowed("/api/v1/hello/./x", "/api/v1/hello"));
  CHECK_FALSE(route_allowed("/api/v1/hello/..", "/api/v1/hello"));
  CHECK(route_allowed("/runtime/orders/{id}", "/runtime"));
  CHECK_FALSE(route_allowed("api/v1/hello", "/api/v1/hello"));
  CHECK_FALSE(route_allowed("/api/v1/hello", ""));
}
