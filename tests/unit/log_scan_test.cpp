// The end-of-suite secret scan (tests/log_scan.sh) on directories made here: it must
// find what was planted, name file and line, never print the secret, and pass clean ones.
#include <filesystem>

#include <catch2/catch.hpp>

#include "tests/support/test_support.hpp"

using plexus::test::TempDir;

namespace {

plexus::test::CommandResult scan(const std::filesystem::path& dir) {
  return plexus::test::run_command(
      {"bash", (plexus::test::source_dir() / "tests" / "log_scan.sh").string(), dir.string()});
}

constexpr const char* kPlanted = "Planted-Password-4711";

}  // namespace

TEST_CASE("the scan passes a directory without secrets in its logs") {
  TempDir dir;
  dir.write("secrets.txt", std::string(kPlanted) + "\n");
  dir.write("plexusd-1-0.log", "2026-01-01T00:00:00Z info http.access [r1] POST /api/v1/auth/login 200\n");
  const auto result = scan(dir.path());
  CHECK(result.exit_code == 0);
  CHECK(result.out.find("clean") != std::string::npos);
}

TEST_CASE("the scan fails on a recorded secret and names file and line but not the secret") {
  TempDir dir;
  dir.write("secrets.txt", std::string("another-secret-value\n") + kPlanted + "\n");
  dir.write("plexusd-1-0.log", std::string("first line\nlogin with ") + kPlanted + " failed\n");
  const auto result = scan(dir.path());
  CHECK(result.exit_code == 1);
  CHECK(result.out.find("plexusd-1-0.log:2:") != std::string::npos);
  CHECK(result.out.find("Plan***") != std::string::npos);
  CHECK(result.out.find(kPlanted) == std::string::npos);
  CHECK(result.err.find(kPlanted) == std::string::npos);
}

TEST_CASE("the scan fails on anything shaped like a JWT an API key or a refresh token") {
  const char* shapes[] = {
      "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJl",
      "X-API-Key: plx_0123456789abcdefghijABCDEFGHIJ",
      "{\"refresh_token\": \"plxr_0123456789abcdefghijABCDEFGHIJ\"}",
  };
  for (const auto* line : shapes) {
    TempDir dir;
    dir.write("secrets.txt", std::string(kPlanted) + "\n");
    dir.write("cli-output.log", std::string("ok\nok\n") + line + "\n");
    const auto result = scan(dir.path());
    INFO(line);
    CHECK(result.exit_code == 1);
    CHECK(result.out.find("cli-output.log:3:") != std::string::npos);
    CHECK(result.out.find("0123456789abcdef") == std::string::npos);
  }
}

TEST_CASE("plexusd logs without recorded secrets fail the scan") {
  TempDir dir;
  dir.write("plexusd-1-0.log", "nothing to see\n");
  CHECK(scan(dir.path()).exit_code == 1);
  // Without any plexusd log (only unit tests ran) a missing secrets.txt is fine.
  TempDir quiet;
  quiet.write("other.log", "nothing to see\n");
  CHECK(scan(quiet.path()).exit_code == 0);
}

TEST_CASE("secrets.txt itself is not scanned") {
  TempDir dir;
  dir.write("secrets.txt", "plx_0123456789abcdefghijABCDEFGHIJ\n");
  CHECK(scan(dir.path()).exit_code == 0);
}
