// Kernel configuration: loading, overrides, validation errors, secret references,
// redaction, and the shipped config/plexus.yaml staying in step with the schema.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "kernel/config/config.hpp"

namespace fs = std::filesystem;
using namespace plexus::config;
using nlohmann::json;

namespace {

// A fresh directory removed afterwards (local so these tests need no shared helpers).
class ScratchDir {
 public:
  ScratchDir() {
    static std::atomic<int> counter{0};
    path_ = fs::temp_directory_path() /
            ("plexus-config-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  fs::path write(const std::string& name, const std::string& content) const {
    fs::path file = path_ / name;
    fs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << content;
    return file;
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string read_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// One key of every type, in sections two levels deep, so tests do not depend on
// which keys the kernel happens to declare today.
const Schema& test_schema() {
  static const Schema schema = [] {
    Schema s;
    s.add({.path = "name", .type = Type::string, .default_value = "plexus", .description = "a name"})
        .add({.path = "flag", .type = Type::boolean, .default_value = "false", .description = "a switch"})
        .add({.path = "ratio", .type = Type::number, .default_value = "0.5", .description = "a fraction",
              .min = 0, .max = 1})
        .add({.path = "server.port", .type = Type::integer, .default_value = "8080", .description = "a port",
              .min = 0, .max = 65535})
        .add({.path = "server.timeout", .type = Type::duration, .default_value = "30s",
              .description = "a timeout", .min = 1000, .max = 3'600'000})
        .add({.path = "server.buffer", .type = Type::size, .default_value = "16KiB", .description = "a buffer",
              .min = 1024})
        .add({.path = "server.mode", .type = Type::string, .default_value = "fast", .description = "a mode",
              .choices = {"fast", "safe"}})
        .add({.path = "server.tags", .type = Type::string_list, .default_value = "", .description = "tags"})
        .add({.path = "server.tls.cert", .type = Type::string, .default_value = "", .description = "a path"})
        .add({.path = "log.loggers", .type = Type::string_map, .default_value = "", .description = "levels",
              .choices = {"debug", "info", "warn"}})
        .add({.path = "db.url", .type = Type::string, .default_value = "sqlite:test.db", .description = "a url"})
        .add({.path = "db.password", .type = Type::string, .default_value = "", .description = "a secret",
              .secret = true});
    return s;
  }();
  return schema;
}

// A YAML file in its own directory, loaded against test_schema().
struct ConfigFile {
  ScratchDir dir;
  fs::path path;

  explicit ConfigFile(const std::string& yaml) : path(dir.write("plexus.yaml", yaml)) {}

  Config load(const Environment& env = {}) const { return Config::load(path, test_schema(), env); }

  // The error loading throws; the test fails if the file loads.
  ConfigError error(const Environment& env = {}) const {
    try {
      load(env);
    } catch (const ConfigError& error) {
      return error;
    }
    throw std::runtime_error("expected a ConfigError, but the configuration loaded");
  }

  std::string at(int line, int column) const {
    return path.string() + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
  }
};

// The error set() throws; the test fails if the value is accepted.
ConfigError error_setting(std::string_view path, std::string_view text) {
  Config config = Config::defaults(test_schema());
  try {
    config.set(path, text, "--flag");
  } catch (const ConfigError& error) {
    return error;
  }
  throw std::runtime_error("expected a ConfigError, but '" + std::string(text) + "' was accepted");
}

fs::path source_dir() { return PLEXUS_SOURCE_DIR; }

}  // namespace

// ---------------------------------------------------------------- defaults

TEST_CASE("defaults: every key holds its declared default and reports origin 'default'", "[config]") {
  Config config = Config::defaults(test_schema());
  CHECK(config.get_string("name") == "plexus");
  CHECK_FALSE(config.get_bool("flag"));
  CHECK(config.get_number("ratio") == 0.5);
  CHECK(config.get_int("server.port") == 8080);
  CHECK(config.get_duration("server.timeout") == std::chrono::seconds(30));
  CHECK(config.get_size("server.buffer") == 16 * 1024);
  CHECK(config.get_string("server.mode") == "fast");
  CHECK(config.get_list("server.tags").empty());
  CHECK(config.get_string("server.tls.cert").empty());
  CHECK(config.get_map("log.loggers").empty());
  for (const KeyDef& def : test_schema().keys()) CHECK(config.origin(def.path) == "default");
}

TEST_CASE("kernel schema: defaults load and hold the agreed values", "[config]") {
  Config config = Config::defaults(kernel_schema());
  CHECK(config.get_string("data_dir") == "./data");
  CHECK(config.get_string("http.address") == "127.0.0.1");
  CHECK(config.get_int("http.port") == 8080);
  CHECK(config.get_int("http.io_threads") == 2);
  CHECK(config.get_int("http.workers") == 8);
  CHECK(config.get_size("http.max_header_size") == 16 * 1024);
  CHECK(config.get_size("http.max_body_size") == 8 * 1024 * 1024);
  CHECK(config.get_duration("http.header_timeout") == std::chrono::seconds(10));
  CHECK(config.get_duration("http.body_timeout") == std::chrono::seconds(60));
  CHECK(config.get_duration("http.idle_timeout") == std::chrono::seconds(60));
  CHECK(config.get_duration("http.write_timeout") == std::chrono::seconds(30));
  CHECK(config.get_duration("http.shutdown_timeout") == std::chrono::seconds(15));
  CHECK(config.get_int("http.max_connections") == 10000);
  CHECK(config.get_string("http.tls.cert").empty());
  CHECK(config.get_string("http.tls.key").empty());
  CHECK(config.get_string("http.console.address").empty());
  CHECK(config.get_int("http.console.port") == 0);
  CHECK(config.get_int("http.sse.max_queued") == 1024);
  CHECK(config.get_duration("http.sse.heartbeat") == std::chrono::seconds(15));
  CHECK(config.get_string("log.level") == "info");
  CHECK(config.get_string("log.format") == "text");
  CHECK(config.get_bool("log.console"));
  CHECK(config.get_string("log.file").empty());
  CHECK(config.get_size("log.file_max_size") == 20 * 1024 * 1024);
  CHECK(config.get_int("log.file_max_files") == 5);
  CHECK(config.get_map("log.loggers").empty());
  CHECK_FALSE(config.get_bool("log.debug"));
  CHECK(config.get_string("store.url").empty());
  CHECK(config.get_int("store.pool_size") == 4);
  CHECK(config.get_duration("store.busy_timeout") == std::chrono::seconds(5));
  CHECK(config.get_bool("metrics.enabled"));
  CHECK(config.get_string("plugins.dir").empty());
  CHECK(config.get_string("plugins.manifests") == "manifests");
  CHECK(config.get_bool("plugins.watch"));
  CHECK(config.get_duration("plugins.drain_timeout") == std::chrono::seconds(10));
  CHECK(config.get_int("plugins.breaker_failures") == 5);
  CHECK(config.get_duration("plugins.breaker_cooldown") == std::chrono::seconds(30));
  CHECK(config.get_int("resources.retention.keep_last") == 20);
  CHECK(config.get_duration("resources.retention.keep_younger_than") == std::chrono::hours(24 * 30));
  CHECK(config.get_duration("resources.retention.interval") == std::chrono::hours(1));
  CHECK(config.get_string("resources.bootstrap").empty());

  CHECK(kernel_schema().keys().size() == 84);
  CHECK(kernel_schema().find("store.url")->secret);
  CHECK_FALSE(kernel_schema().find("http.tls.key")->secret);
  for (const KeyDef& def : kernel_schema().keys()) CHECK_FALSE(def.description.empty());
}

TEST_CASE("kernel schema: the validation rules operators rely on", "[config]") {
  Config config = Config::defaults(kernel_schema());
  config.set("http.port", "0");  // 0 = pick a free port
  CHECK_THROWS_AS(config.set("http.port", "65536"), ConfigError);
  CHECK_THROWS_AS(config.set("http.io_threads", "0"), ConfigError);
  CHECK_THROWS_AS(config.set("http.workers", "1025"), ConfigError);
  CHECK_THROWS_AS(config.set("http.max_header_size", "1000"), ConfigError);
  CHECK_THROWS_AS(config.set("store.pool_size", "257"), ConfigError);
  CHECK_THROWS_AS(config.set("log.level", "verbose"), ConfigError);
  CHECK_THROWS_AS(config.set("log.format", "xml"), ConfigError);
  CHECK_THROWS_WITH(config.set("log.loggers", "http.access=loud"),
                    "command line: log.loggers: expected one of: trace, debug, info, warn, error, critical, off; "
                    "got 'loud'");
}

// ---------------------------------------------------------------- the YAML file

TEST_CASE("load: an empty file or one with only comments gives the defaults", "[config]") {
  for (const std::string yaml : {"", "# nothing here\n\n   # still nothing\n", "---\n"}) {
    ConfigFile file(yaml);
    Config config = file.load();
    CHECK(config.get_int("server.port") == 8080);
    CHECK(config.origin("server.port") == "default");
    CHECK(config.file() == file.path);
  }
}

TEST_CASE("load: values of every type are read from YAML with their line as origin", "[config]") {
  ConfigFile file(
      "name: edge\n"
      "flag: true\n"
      "ratio: 0.25\n"
      "server:\n"
      "  port: 9090\n"
      "  timeout: 5m\n"
      "  buffer: 1MiB\n"
      "  mode: safe\n"
      "  tags: [a, b c]\n"
      "  tls:\n"
      "    cert: /etc/plexus/cert.pem\n"
      "log:\n"
      "  loggers:\n"
      "    http.access: warn\n"
      "    store: debug\n");
  Config config = file.load();
  CHECK(config.get_string("name") == "edge");
  CHECK(config.get_bool("flag"));
  CHECK(config.get_number("ratio") == 0.25);
  CHECK(config.get_int("server.port") == 9090);
  CHECK(config.get_duration("server.timeout") == std::chrono::minutes(5));
  CHECK(config.get_size("server.buffer") == 1024 * 1024);
  CHECK(config.get_string("server.mode") == "safe");
  CHECK(config.get_list("server.tags") == std::vector<std::string>{"a", "b c"});
  CHECK(config.get_string("server.tls.cert") == "/etc/plexus/cert.pem");
  CHECK(config.get_map("log.loggers") == std::map<std::string, std::string>{{"http.access", "warn"}, {"store", "debug"}});

  CHECK(config.origin("name") == file.path.string() + ":1");
  CHECK(config.origin("server.port") == file.path.string() + ":5");
  CHECK(config.origin("server.tls.cert") == file.path.string() + ":11");
  CHECK(config.origin("db.url") == "default");
}

TEST_CASE("load: a dotted key is the same as nesting it", "[config]") {
  ConfigFile file("server.port: 81\nserver:\n  tls.cert: c.pem\n");
  Config config = file.load();
  CHECK(config.get_int("server.port") == 81);
  CHECK(config.get_string("server.tls.cert") == "c.pem");
}

TEST_CASE("load: an empty value is an empty string, list or map, and an error for other types", "[config]") {
  ConfigFile file("name:\nserver:\n  tags:\n  tls:\nlog:\n  loggers: ~\n");
  Config config = file.load();
  CHECK(config.get_string("name").empty());
  CHECK(config.get_list("server.tags").empty());
  CHECK(config.get_map("log.loggers").empty());

  ConfigFile empty_port("server:\n  port:\n");
  ConfigError error = empty_port.error();
  CHECK(error.what() == empty_port.at(2, 3) + "server.port: expected an integer, got an empty value");
}

TEST_CASE("load: a missing file is an error naming the file", "[config]") {
  ScratchDir dir;
  fs::path missing = dir.path() / "nope.yaml";
  try {
    Config::load(missing, test_schema(), {});
    FAIL("loaded a missing file");
  } catch (const ConfigError& error) {
    CHECK(error.file() == missing.string());
    CHECK(error.line() == 0);
    CHECK(std::string(error.what()) ==
          missing.string() + ": cannot read the configuration file: No such file or directory");
  }
}

TEST_CASE("load: YAML syntax errors report line and column", "[config]") {
  ConfigFile file("server:\n  port: 1\n  tags: [a, b\nname: x\n");
  ConfigError error = file.error();
  CHECK(error.file() == file.path.string());
  CHECK(error.line() == 4);
  CHECK(error.column() == 5);
  CHECK(error.key().empty());
  CHECK_THAT(error.what(), Catch::StartsWith(file.at(4, 5) + "invalid YAML: "));

  ConfigFile tabs("server:\n\tport: 1\n");
  CHECK(tabs.error().line() == 2);
}

TEST_CASE("load: an unknown key names file, line, column and suggests the closest key", "[config]") {
  ConfigFile file("name: x\nserver:\n  prot: 9090\n");
  ConfigError error = file.error();
  CHECK(error.file() == file.path.string());
  CHECK(error.line() == 3);
  CHECK(error.column() == 3);
  CHECK(error.key() == "server.prot");
  CHECK(error.what() == file.at(3, 3) + "server.prot: unknown key (did you mean 'server.port'?)");
}

TEST_CASE("load: a known key in the wrong section suggests where it belongs", "[config]") {
  ConfigFile file("port: 9090\n");
  CHECK(file.error().what() == file.at(1, 1) + "port: unknown key (did you mean 'server.port'?)");
}

TEST_CASE("load: unknown keys and sections without a close match", "[config]") {
  ConfigFile key("server:\n  completely_different: 1\n");
  CHECK(key.error().what() == key.at(2, 3) + "server.completely_different: unknown key");

  ConfigFile section("plugins:\n  cep: true\n");
  ConfigError error = section.error();
  CHECK(error.key() == "plugins");
  CHECK(error.what() == section.at(1, 1) + "plugins: unknown key");

  ConfigFile misspelt_section("servr:\n  port: 1\n");
  CHECK(misspelt_section.error().what() == misspelt_section.at(1, 1) + "servr: unknown key (did you mean 'server'?)");
}

TEST_CASE("load: a wrong type names the key, the expected type and the value", "[config]") {
  struct Case {
    std::string yaml;
    int line;
    int column;
    std::string key;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"server:\n  port: abc\n", 2, 9, "server.port", "expected an integer, got 'abc'"},
      {"server:\n  port: 80.5\n", 2, 9, "server.port", "expected an integer, got '80.5'"},
      {"flag: yes\n", 1, 7, "flag", "expected true or false, got 'yes'"},
      {"flag: 1\n", 1, 7, "flag", "expected true or false, got '1'"},
      {"ratio: half\n", 1, 8, "ratio", "expected a number, got 'half'"},
      {"server:\n  timeout: 30x\n", 2, 12, "server.timeout",
       "expected a duration such as 250ms, 30s, 5m, 2h or 1d (a bare number means seconds), got '30x'"},
      {"server:\n  buffer: 10XB\n", 2, 11, "server.buffer",
       "expected a size such as 512, 16KiB, 8MiB, 1GiB or 10MB (a bare number means bytes), got '10XB'"},
      {"server:\n  tags: a, b\n", 2, 9, "server.tags", "expected a list of strings, got 'a, b'"},
      {"server:\n  tags: [a, [b]]\n", 2, 13, "server.tags", "list items must be strings, got a list"},
      {"log:\n  loggers: [a]\n", 2, 12, "log.loggers", "expected a map of names to strings, got a list"},
      {"log:\n  loggers:\n    http: {a: b}\n", 3, 11, "log.loggers",
       "the value of 'http' must be a string, got a map (nested keys)"},
  };
  for (const Case& c : cases) {
    ConfigFile file(c.yaml);
    ConfigError error = file.error();
    INFO(c.yaml);
    CHECK(error.line() == c.line);
    CHECK(error.column() == c.column);
    CHECK(error.key() == c.key);
    CHECK(error.what() == file.at(c.line, c.column) + c.key + ": " + c.message);
  }
}

TEST_CASE("load: a section where a value is expected, and a value where a section is expected", "[config]") {
  ConfigFile section_for_value("server:\n  port:\n    number: 1\n");
  CHECK(section_for_value.error().what() ==
        section_for_value.at(3, 5) + "server.port: expected an integer, got a map (nested keys)");

  ConfigFile list_for_value("name: [a]\n");
  CHECK(list_for_value.error().what() == list_for_value.at(1, 7) + "name: expected a string, got a list");

  ConfigFile value_for_section("server: 8080\n");
  CHECK(value_for_section.error().what() ==
        value_for_section.at(1, 9) +
            "server: expected a section with keys such as server.port, server.timeout, got a single value");

  ConfigFile list_for_section("server:\n  tls: [a]\n");
  CHECK(list_for_section.error().what() ==
        list_for_section.at(2, 8) + "server.tls: expected a section with keys such as server.tls.cert, got a list");
}

TEST_CASE("load: out-of-range values name the bounds in the key's own unit", "[config]") {
  ConfigFile port("server:\n  port: 70000\n");
  CHECK(port.error().what() == port.at(2, 9) + "server.port: must be between 0 and 65535, got '70000'");

  ConfigFile negative("server:\n  port: -1\n");
  CHECK(negative.error().what() == negative.at(2, 9) + "server.port: must be between 0 and 65535, got '-1'");

  ConfigFile timeout("server:\n  timeout: 500ms\n");
  CHECK(timeout.error().what() == timeout.at(2, 12) + "server.timeout: must be between 1s and 1h, got '500ms'");

  ConfigFile long_timeout("server:\n  timeout: 2h\n");
  CHECK(long_timeout.error().key() == "server.timeout");

  ConfigFile buffer("server:\n  buffer: 512\n");
  CHECK(buffer.error().what() == buffer.at(2, 11) + "server.buffer: must be at least 1KiB, got '512'");

  ConfigFile ratio("ratio: 1.5\n");
  CHECK(ratio.error().what() == ratio.at(1, 8) + "ratio: must be between 0 and 1, got '1.5'");

  ConfigFile huge("server:\n  port: 99999999999999999999\n");
  CHECK(huge.error().what() == huge.at(2, 9) + "server.port: '99999999999999999999' is out of range");
}

TEST_CASE("load: a value outside the choices lists them", "[config]") {
  ConfigFile mode("server:\n  mode: turbo\n");
  CHECK(mode.error().what() == mode.at(2, 9) + "server.mode: expected one of: fast, safe; got 'turbo'");

  ConfigFile level("log:\n  loggers:\n    http: loud\n");
  CHECK(level.error().what() == level.at(3, 11) + "log.loggers: expected one of: debug, info, warn; got 'loud'");
}

TEST_CASE("load: a key written twice is an error pointing at the second one", "[config]") {
  ConfigFile twice("server:\n  port: 1\n  port: 2\n");
  CHECK(twice.error().what() == twice.at(3, 3) + "server.port: set twice (first on line 2)");

  ConfigFile dotted_and_nested("server:\n  port: 1\nserver.port: 2\n");
  CHECK(dotted_and_nested.error().what() == dotted_and_nested.at(3, 1) + "server.port: set twice (first on line 2)");

  ConfigFile map_name("log:\n  loggers:\n    http: info\n    http: warn\n");
  CHECK(map_name.error().what() == map_name.at(4, 5) + "log.loggers: sets 'http' twice");
}

TEST_CASE("load: the top level must be one map of sections and keys", "[config]") {
  ConfigFile list("- server\n");
  CHECK(list.error().what() == list.at(1, 1) + "expected sections and keys such as 'http:' at the top level");

  ConfigFile two_documents("name: a\n---\nname: b\n");
  CHECK(two_documents.error().what() == two_documents.at(3, 1) + "expected one YAML document, found several");
}

// ---------------------------------------------------------------- environment

TEST_CASE("env_var_name: PLEXUS_ plus the path upper-cased with '.' as '__'", "[config]") {
  CHECK(env_var_name("http.port") == "PLEXUS_HTTP__PORT");
  CHECK(env_var_name("http.tls.cert") == "PLEXUS_HTTP__TLS__CERT");
  CHECK(env_var_name("data_dir") == "PLEXUS_DATA_DIR");
  CHECK(env_var_name("log.file_max_size") == "PLEXUS_LOG__FILE_MAX_SIZE");
}

TEST_CASE("env: variables override the file and the defaults for every type", "[config]") {
  ConfigFile file("name: from-file\nserver:\n  port: 9090\n");
  Config config = file.load({
      {"PLEXUS_NAME", "from-env"},
      {"PLEXUS_FLAG", "true"},
      {"PLEXUS_RATIO", "0.75"},
      {"PLEXUS_SERVER__PORT", "7070"},
      {"PLEXUS_SERVER__TIMEOUT", "250000ms"},
      {"PLEXUS_SERVER__BUFFER", "10KB"},
      {"PLEXUS_SERVER__MODE", "safe"},
      {"PLEXUS_SERVER__TAGS", "a, b ,,c"},
      {"PLEXUS_SERVER__TLS__CERT", "/run/cert.pem"},
      {"PLEXUS_LOG__LOGGERS", "http.access=warn, store = debug"},
      {"HOME", "/root"},
  });
  CHECK(config.get_string("name") == "from-env");
  CHECK(config.get_bool("flag"));
  CHECK(config.get_number("ratio") == 0.75);
  CHECK(config.get_int("server.port") == 7070);
  CHECK(config.get_duration("server.timeout") == std::chrono::milliseconds(250000));
  CHECK(config.get_size("server.buffer") == 10000);
  CHECK(config.get_string("server.mode") == "safe");
  CHECK(config.get_list("server.tags") == std::vector<std::string>{"a", "b", "c"});
  CHECK(config.get_string("server.tls.cert") == "/run/cert.pem");
  CHECK(config.get_map("log.loggers") == std::map<std::string, std::string>{{"http.access", "warn"}, {"store", "debug"}});

  CHECK(config.origin("server.port") == "env PLEXUS_SERVER__PORT");
  CHECK(config.origin("server.tls.cert") == "env PLEXUS_SERVER__TLS__CERT");
  CHECK(config.origin("db.url") == "default");
}

TEST_CASE("env: an empty variable sets an empty string, list or map", "[config]") {
  ConfigFile file("server:\n  tags: [a]\n");
  Config config = file.load({{"PLEXUS_NAME", ""}, {"PLEXUS_SERVER__TAGS", ""}, {"PLEXUS_LOG__LOGGERS", ""}});
  CHECK(config.get_string("name").empty());
  CHECK(config.get_list("server.tags").empty());
  CHECK(config.get_map("log.loggers").empty());
}

TEST_CASE("env: a bad value names the variable and the key", "[config]") {
  ConfigFile file("");
  ConfigError error = file.error({{"PLEXUS_SERVER__PORT", "abc"}});
  CHECK(error.file() == "env PLEXUS_SERVER__PORT");
  CHECK(error.line() == 0);
  CHECK(error.column() == 0);
  CHECK(error.key() == "server.port");
  CHECK(std::string(error.what()) == "env PLEXUS_SERVER__PORT: server.port: expected an integer, got 'abc'");

  CHECK(std::string(file.error({{"PLEXUS_LOG__LOGGERS", "http:warn"}}).what()) ==
        "env PLEXUS_LOG__LOGGERS: log.loggers: expected name=value pairs separated by commas, got 'http:warn'");
  CHECK(std::string(file.error({{"PLEXUS_LOG__LOGGERS", "a=info,a=warn"}}).what()) ==
        "env PLEXUS_LOG__LOGGERS: log.loggers: sets 'a' twice");
}

TEST_CASE("env: an unknown PLEXUS_ variable is an error naming it and the closest key", "[config]") {
  ConfigFile file("");
  ConfigError typo = file.error({{"PLEXUS_SERVER__PROT", "1"}});
  CHECK(typo.file() == "env PLEXUS_SERVER__PROT");
  CHECK(std::string(typo.what()) ==
        "env PLEXUS_SERVER__PROT: not a configuration key (did you mean PLEXUS_SERVER__PORT for 'server.port'?); "
        "every PLEXUS_ variable must name a key, see docs/configuration.md");

  ConfigError single_underscore = file.error({{"PLEXUS_SERVER_PORT", "1"}});
  CHECK_THAT(single_underscore.what(), Catch::Contains("did you mean PLEXUS_SERVER__PORT for 'server.port'?"));

  ConfigError section = file.error({{"PLEXUS_SERVER__TLS", "x"}});
  CHECK_THAT(section.what(), Catch::Contains("server.tls is a section; set one of its keys, e.g. PLEXUS_SERVER__TLS__CERT"));

  ConfigError nothing_close = file.error({{"PLEXUS_WHATEVER_ELSE", "1"}});
  CHECK(std::string(nothing_close.what()) ==
        "env PLEXUS_WHATEVER_ELSE: not a configuration key; every PLEXUS_ variable must name a key, see "
        "docs/configuration.md");
}

TEST_CASE("env: reserved PLEXUS_ variables and other variables are ignored", "[config]") {
  ConfigFile file("");
  Config config = file.load({{"PLEXUS_ADMIN_PASSWORD", "s3cret"},
                             {"PLEXUS_TEST_ANYTHING", "x"},
                             {"PLEXUS_TEST_", "x"},
                             {"PATH", "/usr/bin"},
                             {"plexus_server__port", "1"}});
  CHECK(config.get_int("server.port") == 8080);
}

TEST_CASE("process_environment: holds the variables of this process", "[config]") {
  ::setenv("PLEXUS_TEST_CONFIG_PROBE", "a=b", 1);
  Environment env = process_environment();
  ::unsetenv("PLEXUS_TEST_CONFIG_PROBE");
  CHECK(env.at("PLEXUS_TEST_CONFIG_PROBE") == "a=b");
}

// ---------------------------------------------------------------- secret references

TEST_CASE("references: ${env:NAME} is resolved in file and environment values", "[config]") {
  ConfigFile file("db:\n  url: postgresql://plexus:${env:DB_PASSWORD}@db/plexus\n");
  Config config = file.load({{"DB_PASSWORD", "hunter2"}, {"PLEXUS_NAME", "${env:NODE_NAME}"}, {"NODE_NAME", "n1"}});
  CHECK(config.get_string("db.url") == "postgresql://plexus:hunter2@db/plexus");
  CHECK(config.get_string("name") == "n1");
  CHECK(config.secret_values() == std::vector<std::string>{"hunter2", "n1"});
  CHECK(config.to_json(true)["db"]["url"] == "***");
  CHECK(config.to_json(false)["db"]["url"] == "postgresql://plexus:hunter2@db/plexus");
}

TEST_CASE("references: ${file:PATH} is read relative to the config file, trailing newline dropped", "[config]") {
  ConfigFile file("db:\n  password: ${file:secrets/db}\nname: ${file:node}\n");
  file.dir.write("secrets/db", "pa ss\n");
  file.dir.write("node", "line1\nline2\r\n");
  Config config = file.load();
  CHECK(config.get_string("db.password") == "pa ss");
  CHECK(config.get_string("name") == "line1\nline2");

  ScratchDir elsewhere;
  fs::path absolute = elsewhere.write("token", "abc");
  ConfigFile absolute_reference("name: ${file:" + absolute.string() + "}\n");
  CHECK(absolute_reference.load().get_string("name") == "abc");
}

TEST_CASE("references: a list item or map value may hold a reference", "[config]") {
  ConfigFile file("server:\n  tags: [plain, '${env:TAG}']\n");
  Config config = file.load({{"TAG", "hidden-tag"}});
  CHECK(config.get_list("server.tags") == std::vector<std::string>{"plain", "hidden-tag"});
  CHECK(config.to_json(true)["server"]["tags"] == "***");
  CHECK(config.secret_values() == std::vector<std::string>{"hidden-tag"});
}

TEST_CASE("references: an unset variable names the key and the reference, not a secret", "[config]") {
  ConfigFile file("db:\n  url: postgresql://u:${env:DB_PASSWORD}@h/d\n");
  ConfigError error = file.error();
  CHECK(error.key() == "db.url");
  CHECK(error.what() == file.at(2, 8) + "db.url: ${env:DB_PASSWORD}: environment variable DB_PASSWORD is not set");
}

TEST_CASE("references: an unreadable file names the key, the reference and the path", "[config]") {
  ConfigFile file("db:\n  password: ${file:missing.txt}\n");
  ConfigError error = file.error();
  CHECK(error.key() == "db.password");
  CHECK(error.what() == file.at(2, 13) + "db.password: ${file:missing.txt}: cannot read " +
                            (file.dir.path() / "missing.txt").string() + ": No such file or directory");

  ConfigFile directory("name: ${file:.}\n");
  CHECK_THAT(directory.error().what(), Catch::EndsWith(": is a directory"));
}

TEST_CASE("references: '${' starts a reference only before env: or file:", "[config]") {
  ConfigFile file("name: \"cost ${HOME} and ${ and $${x}\"\n");
  Config config = file.load({{"HOME", "/root"}});
  CHECK(config.get_string("name") == "cost ${HOME} and ${ and $${x}");
  CHECK(config.secret_values().empty());

  ConfigFile unterminated("name: ${env:OOPS\n");
  CHECK(unterminated.error().what() == unterminated.at(1, 7) + "name: unterminated reference ${env:... (missing '}')");

  ConfigFile empty("name: ${env:}\n");
  CHECK(empty.error().what() == empty.at(1, 7) + "name: ${env:}: empty reference");
}

TEST_CASE("references: a resolved value that fails validation is not echoed", "[config]") {
  ConfigFile file("server:\n  mode: ${env:MODE}\n");
  CHECK(file.error({{"MODE", "classified"}}).what() ==
        file.at(2, 9) + "server.mode: expected one of: fast, safe; got a hidden value");
}

// ---------------------------------------------------------------- redaction

TEST_CASE("redaction: secret keys are *** in to_json(true) and listed by secret_values", "[config]") {
  ConfigFile file("db:\n  password: swordfish\n");
  Config config = file.load();
  CHECK(config.to_json(true)["db"]["password"] == "***");
  CHECK(config.to_json(false)["db"]["password"] == "swordfish");
  CHECK(config.to_json()["db"]["url"] == "sqlite:test.db");
  CHECK(config.secret_values() == std::vector<std::string>{"swordfish"});
}

TEST_CASE("redaction: an empty secret stays visible as empty and is not a secret value", "[config]") {
  Config config = Config::defaults(test_schema());
  CHECK(config.to_json(true)["db"]["password"] == "");
  CHECK(config.secret_values().empty());
}

TEST_CASE("secret_values: unique, longest first so a redactor never leaves a partial secret", "[config]") {
  ConfigFile file("db:\n  password: abc\n  url: x${env:A}y${env:B}\nname: ${env:A}\n");
  Config config = file.load({{"A", "abc"}, {"B", "abcdef"}});
  CHECK(config.secret_values() == std::vector<std::string>{"abcdef", "abc"});
}

TEST_CASE("redaction: an invalid secret key value is never echoed in errors", "[config]") {
  Schema schema;
  schema.add({.path = "token", .type = Type::string, .default_value = "a", .description = "t", .secret = true,
              .choices = {"a", "b"}});
  Config config = Config::defaults(schema);
  CHECK_THROWS_WITH(config.set("token", "topsecret"), "command line: token: expected one of: a, b; got a hidden value");
}

// ---------------------------------------------------------------- value syntax

TEST_CASE("durations: units ms, s, m, h and d, a bare number is seconds", "[config]") {
  Config config = Config::defaults(test_schema());
  const std::vector<std::pair<std::string, std::chrono::milliseconds>> cases = {
      {"1000ms", std::chrono::milliseconds(1000)}, {"30s", std::chrono::seconds(30)},
      {"5m", std::chrono::minutes(5)},             {"1h", std::chrono::hours(1)},
      {"45", std::chrono::seconds(45)},            {"1500ms", std::chrono::milliseconds(1500)},
  };
  for (const auto& [text, expected] : cases) {
    config.set("server.timeout", text);
    CHECK(config.get_duration("server.timeout") == expected);
  }
  Config kernel = Config::defaults(kernel_schema());
  kernel.set("store.busy_timeout", "1d");
  CHECK(kernel.get_duration("store.busy_timeout") == std::chrono::hours(24));
}

TEST_CASE("durations: unknown units, fractions, signs and overflow are rejected", "[config]") {
  for (const std::string text : {"30x", "1.5s", "-5s", "s", "", "5 m", "10S", "1M", "99999999999999999d"}) {
    INFO(text);
    ConfigError error = error_setting("server.timeout", text);
    CHECK(error.key() == "server.timeout");
    CHECK_THAT(error.what(), Catch::Contains("expected a duration such as 250ms, 30s, 5m, 2h or 1d"));
  }
}

TEST_CASE("sizes: KB is 1000 bytes, KiB is 1024, a bare number is bytes", "[config]") {
  Config config = Config::defaults(test_schema());
  const std::vector<std::pair<std::string, std::uint64_t>> cases = {
      {"2048", 2048},           {"2048B", 2048},          {"16KiB", 16384},          {"10KB", 10000},
      {"8MiB", 8388608},        {"10MB", 10000000},       {"1GiB", 1073741824},      {"2GB", 2000000000},
      {"1TiB", 1099511627776},  {"3TB", 3000000000000},
  };
  for (const auto& [text, expected] : cases) {
    config.set("server.buffer", text);
    CHECK(config.get_size("server.buffer") == expected);
  }
}

TEST_CASE("sizes: unknown units, fractions and signs are rejected", "[config]") {
  for (const std::string text : {"10XB", "1.5MiB", "-1KiB", "KiB", "16kib", "16 KiB", "1PiB"}) {
    INFO(text);
    CHECK_THAT(error_setting("server.buffer", text).what(),
               Catch::Contains("expected a size such as 512, 16KiB, 8MiB, 1GiB or 10MB"));
  }
}

TEST_CASE("booleans: true and false only, in YAML 1.2 spellings", "[config]") {
  Config config = Config::defaults(test_schema());
  for (const std::string text : {"true", "True", "TRUE"}) {
    config.set("flag", text);
    CHECK(config.get_bool("flag"));
  }
  config.set("flag", "false");
  CHECK_FALSE(config.get_bool("flag"));
  for (const std::string text : {"yes", "no", "on", "off", "1", "0", "tru", ""}) {
    INFO(text);
    CHECK(std::string(error_setting("flag", text).what()) == "--flag: flag: expected true or false, got '" + text + "'");
  }
}

TEST_CASE("integers and numbers: surrounding spaces are fine, anything else is not", "[config]") {
  Config config = Config::defaults(test_schema());
  config.set("server.port", " 443 ");
  CHECK(config.get_int("server.port") == 443);
  config.set("ratio", "1e-1");
  CHECK(config.get_number("ratio") == 0.1);
  for (const std::string text : {"0x10", "+5", "1_000", "12abc"}) {
    INFO(text);
    CHECK_THAT(error_setting("server.port", text).what(), Catch::Contains("expected an integer"));
  }
  for (const std::string text : {"nan", "inf", "0.5.1"}) {
    INFO(text);
    CHECK_THAT(error_setting("ratio", text).what(), Catch::Contains("expected a number"));
  }
}

// ---------------------------------------------------------------- set()

TEST_CASE("set: parses like the environment and reports the given origin", "[config]") {
  ConfigFile file("server:\n  port: 9090\n");
  Config config = file.load();
  config.set("server.port", "7000", "--port");
  CHECK(config.get_int("server.port") == 7000);
  CHECK(config.origin("server.port") == "--port");

  config.set("name", "cli");
  CHECK(config.origin("name") == "command line");
  config.set("server.tags", "x,y");
  CHECK(config.get_list("server.tags") == std::vector<std::string>{"x", "y"});
  config.set("log.loggers", "a=info");
  CHECK(config.get_map("log.loggers") == std::map<std::string, std::string>{{"a", "info"}});
}

TEST_CASE("set: bad values, unknown keys and sections name the origin", "[config]") {
  ConfigError bad = error_setting("server.port", "99999");
  CHECK(bad.file() == "--flag");
  CHECK(bad.key() == "server.port");
  CHECK(std::string(bad.what()) == "--flag: server.port: must be between 0 and 65535, got '99999'");

  CHECK(std::string(error_setting("server.prot", "1").what()) ==
        "--flag: server.prot: unknown key (did you mean 'server.port'?)");
  CHECK(std::string(error_setting("server.tls", "1").what()) == "--flag: server.tls: is a section, not a key");
}

TEST_CASE("set: references use the environment given to load()", "[config]") {
  ConfigFile file("");
  file.dir.write("token", "from-file\n");
  Config config = file.load({{"NODE", "n7"}});
  config.set("name", "${env:NODE}", "--name");
  CHECK(config.get_string("name") == "n7");
  config.set("db.url", "${file:token}", "--db");
  CHECK(config.get_string("db.url") == "from-file");
  CHECK(config.secret_values() == std::vector<std::string>{"from-file", "n7"});
}

TEST_CASE("set: a failed set leaves the previous value in place", "[config]") {
  Config config = Config::defaults(test_schema());
  CHECK_THROWS_AS(config.set("server.port", "abc"), ConfigError);
  CHECK(config.get_int("server.port") == 8080);
  CHECK(config.origin("server.port") == "default");
}

// ---------------------------------------------------------------- getters and JSON

TEST_CASE("getters: an unknown key or a getter of the wrong type is a programming error", "[config]") {
  Config config = Config::defaults(test_schema());
  CHECK_THROWS_AS(config.get_int("server.nope"), std::out_of_range);
  CHECK_THROWS_AS(config.origin("server.nope"), std::out_of_range);
  CHECK_THROWS_WITH(config.get_int("server.timeout"),
                    "configuration key 'server.timeout' is a duration, not a integer");
  CHECK_THROWS_AS(config.get_string("server.port"), std::logic_error);
}

TEST_CASE("to_json: nested by section, durations and sizes in their written form", "[config]") {
  Config config = Config::defaults(test_schema());
  config.set("server.timeout", "90000ms");
  json expected = {
      {"name", "plexus"},
      {"flag", false},
      {"ratio", 0.5},
      {"server",
       {{"port", 8080},
        {"timeout", "90s"},
        {"buffer", "16KiB"},
        {"mode", "fast"},
        {"tags", json::array()},
        {"tls", {{"cert", ""}}}}},
      {"log", {{"loggers", json::object()}}},
      {"db", {{"url", "sqlite:test.db"}, {"password", ""}}},
  };
  CHECK(config.to_json(true) == expected);
}

TEST_CASE("to_json: every kernel value reads back through set() unchanged", "[config]") {
  Config original = Config::defaults(kernel_schema());
  Config copy = Config::defaults(kernel_schema());
  json effective = original.to_json(false);
  for (const KeyDef& def : kernel_schema().keys()) {
    if (def.type == Type::string_list || def.type == Type::string_map) continue;
    json value = effective;
    std::string path = def.path;
    for (std::size_t dot; (dot = path.find('.')) != std::string::npos; path.erase(0, dot + 1)) {
      value = value[path.substr(0, dot)];
    }
    value = value[path];
    copy.set(def.path, value.is_string() ? value.get<std::string>() : value.dump());
  }
  CHECK(copy.to_json(false) == effective);
}

// ---------------------------------------------------------------- schema

TEST_CASE("schema: finds keys and sections, rejects duplicate and malformed paths", "[config]") {
  const Schema& schema = test_schema();
  CHECK(schema.find("server.tls.cert") != nullptr);
  CHECK(schema.find("server.tls") == nullptr);
  CHECK(schema.is_section("server"));
  CHECK(schema.is_section("server.tls"));
  CHECK_FALSE(schema.is_section("server.port"));
  CHECK_FALSE(schema.is_section("serv"));
  CHECK_FALSE(schema.is_section(""));

  Schema other;
  other.add({.path = "a.b", .type = Type::integer, .default_value = "1"});
  CHECK_THROWS_AS(other.add({.path = "a.b"}), std::invalid_argument);
  CHECK_THROWS_AS(other.add({.path = "a"}), std::invalid_argument);
  CHECK_THROWS_AS(other.add({.path = "a.b.c"}), std::invalid_argument);
  for (const std::string bad : {"", "A.b", "a..b", "a.", "a__b", "_a", "a-b", "a b"}) {
    INFO(bad);
    CHECK_THROWS_AS(other.add({.path = bad}), std::invalid_argument);
  }
}

TEST_CASE("type_name: readable names for docs and errors", "[config]") {
  CHECK(type_name(Type::duration) == "duration");
  CHECK(type_name(Type::string_list) == "string list");
  CHECK(type_name(Type::string_map) == "string map");
}

// ---------------------------------------------------------------- shipped files

TEST_CASE("config/plexus.yaml: every kernel key is present, commented, and at its default", "[config]") {
  const fs::path shipped = source_dir() / "config" / "plexus.yaml";
  Config loaded = Config::load(shipped, kernel_schema(), {});
  Config defaults = Config::defaults(kernel_schema());
  CHECK(loaded.to_json(false) == defaults.to_json(false));

  std::vector<std::string> lines;
  std::istringstream text(read_file(shipped));
  for (std::string line; std::getline(text, line);) lines.push_back(line);

  const std::string prefix = shipped.string() + ":";
  for (const KeyDef& def : kernel_schema().keys()) {
    INFO(def.path);
    const std::string& origin = loaded.origin(def.path);
    REQUIRE(origin.starts_with(prefix));  // written in the file, not left to the default
    std::size_t line = std::stoul(origin.substr(prefix.size()));
    REQUIRE(line >= 2);
    std::string above = lines[line - 2];
    CHECK(above.find_first_not_of(' ') != std::string::npos);
    CHECK(above.substr(above.find_first_not_of(' ')).starts_with("#"));
  }
}

TEST_CASE("docs/configuration.md: every kernel key is documented with its variable", "[config]") {
  const std::string docs = read_file(source_dir() / "docs" / "configuration.md");
  REQUIRE_FALSE(docs.empty());
  for (const KeyDef& def : kernel_schema().keys()) {
    INFO(def.path);
    CHECK(docs.find("| `" + def.path + "` |") != std::string::npos);
    CHECK(docs.find("`" + env_var_name(def.path) + "`") != std::string::npos);
  }
  CHECK(docs.find("PLEXUS_ADMIN_PASSWORD") != std::string::npos);
  CHECK(docs.find("PLEXUS_TEST_") != std::string::npos);
}

TEST_CASE("no file: built-in defaults with environment overrides", "[config]") {
  const Config config = Config::load({}, kernel_schema(), {{"PLEXUS_HTTP__PORT", "9191"}});
  CHECK(config.get_int("http.port") == 9191);
  CHECK(config.origin("http.port") == "env PLEXUS_HTTP__PORT");
  CHECK(config.get_string("data_dir") == "./data");
  CHECK(config.origin("data_dir") == "default");
}
