// COM-8: one line format, JSON lines, request ids, per-logger levels, file output
// and secrets that never reach a log line.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "kernel/log/log.hpp"
#include "tests/support/test_support.hpp"

using plexus::test::TempDir;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

plexus::log::Options file_only(const TempDir& dir, plexus::log::Format format = plexus::log::Format::text) {
  plexus::log::Options options;
  options.console = false;
  options.file = dir.path() / "logs" / "plexus.log";
  options.format = format;
  return options;
}

}  // namespace

TEST_CASE("text lines carry UTC time, level, logger, request id and message", "[log]") {
  TempDir dir;
  plexus::log::configure(file_only(dir));
  plexus::log::get("test.text")->info("plain line");
  {
    plexus::log::RequestScope scope("req-42");
    plexus::log::get("test.text")->warn("inside {}", "request");
  }
  plexus::log::flush();
  const auto lines = lines_of(plexus::test::read_file(dir.path() / "logs" / "plexus.log"));
  REQUIRE(lines.size() == 2);
  const std::regex format(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (\w+) +(\S+) \[(\S+)\] (.*)$)");
  std::smatch m;
  REQUIRE(std::regex_match(lines[0], m, format));
  REQUIRE(m[1] == "info");
  REQUIRE(m[2] == "test.text");
  REQUIRE(m[3] == "-");
  REQUIRE(m[4] == "plain line");
  REQUIRE(std::regex_match(lines[1], m, format));
  REQUIRE(m[1] == "warn");
  REQUIRE(m[3] == "req-42");
  REQUIRE(m[4] == "inside request");
}

TEST_CASE("JSON lines hold the same fields", "[log]") {
  TempDir dir;
  plexus::log::configure(file_only(dir, plexus::log::Format::json));
  {
    plexus::log::RequestScope scope("r1");
    plexus::log::get("test.json")->error("quote \" and \\ and newline\n");
  }
  plexus::log::flush();
  const auto lines = lines_of(plexus::test::read_file(dir.path() / "logs" / "plexus.log"));
  REQUIRE(lines.size() == 1);
  const auto line = nlohmann::json::parse(lines[0]);
  REQUIRE(line["level"] == "error");
  REQUIRE(line["logger"] == "test.json");
  REQUIRE(line["request_id"] == "r1");
  REQUIRE(line["message"] == "quote \" and \\ and newline\n");
  REQUIRE(line["time"].get<std::string>().ends_with("Z"));
}

TEST_CASE("levels apply per logger, to its children, and change at runtime", "[log]") {
  TempDir dir;
  auto options = file_only(dir);
  options.level = "warn";
  options.loggers = {{"lv.db", "debug"}};
  plexus::log::configure(options);
  plexus::log::get("lv.db")->debug("db debug");
  plexus::log::get("lv.db.pool")->debug("child debug");
  plexus::log::get("lv.http")->info("http info hidden");
  plexus::log::set_level("lv.http", "info");
  plexus::log::get("lv.http")->info("http info shown");
  plexus::log::set_level("lv.db", "");
  plexus::log::get("lv.db")->debug("db debug hidden");
  plexus::log::flush();
  const auto text = plexus::test::read_file(dir.path() / "logs" / "plexus.log");
  REQUIRE_THAT(text, Catch::Contains("db debug") && Catch::Contains("child debug") &&
                         Catch::Contains("http info shown"));
  REQUIRE_THAT(text, !Catch::Contains("http info hidden") && !Catch::Contains("db debug hidden"));
  REQUIRE(plexus::log::levels().at("lv.http") == "info");
  REQUIRE_THROWS_WITH(plexus::log::set_level("lv.http", "loud"), Catch::Contains("unknown log level 'loud'"));
}

TEST_CASE("debug mode lowers the default level to debug", "[log]") {
  TempDir dir;
  auto options = file_only(dir);
  options.debug = true;
  plexus::log::configure(options);
  plexus::log::get("dbg.any")->debug("visible in debug mode");
  plexus::log::flush();
  REQUIRE(plexus::log::debug_mode());
  REQUIRE_THAT(plexus::test::read_file(dir.path() / "logs" / "plexus.log"), Catch::Contains("visible in debug mode"));
}

TEST_CASE("registered secrets are masked in every line", "[log][security]") {
  TempDir dir;
  plexus::log::configure(file_only(dir));
  plexus::log::add_secret("s3cr3t-password");
  plexus::log::add_secret("abc");  // too short to be a credible secret: ignored
  plexus::log::get("sec")->error("connecting with s3cr3t-password twice s3cr3t-password; abc");
  plexus::log::flush();
  const auto text = plexus::test::read_file(dir.path() / "logs" / "plexus.log");
  REQUIRE_THAT(text, !Catch::Contains("s3cr3t-password"));
  REQUIRE_THAT(text, Catch::Contains("connecting with *** twice ***; abc"));
  REQUIRE(plexus::log::redact("x s3cr3t-password y") == "x *** y");
}

TEST_CASE("the file rotates at its size limit", "[log]") {
  TempDir dir;
  auto options = file_only(dir);
  options.file_max_size = 4096;
  options.file_max_files = 2;
  plexus::log::configure(options);
  for (int i = 0; i < 200; ++i) plexus::log::get("rot")->info("line {} {}", i, std::string(100, 'x'));
  plexus::log::flush();
  REQUIRE(std::filesystem::exists(dir.path() / "logs" / "plexus.1.log"));
  REQUIRE(std::filesystem::file_size(dir.path() / "logs" / "plexus.log") <= 4096);
  REQUIRE_FALSE(std::filesystem::exists(dir.path() / "logs" / "plexus.3.log"));
}

TEST_CASE("an unknown level in the options is refused before anything changes", "[log]") {
  plexus::log::Options options;
  options.level = "chatty";
  REQUIRE_THROWS_WITH(plexus::log::configure(options), Catch::Contains("unknown log level 'chatty'"));
}
