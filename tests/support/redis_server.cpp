#include "tests/support/redis_server.hpp"

#include <cstdlib>
#include <string_view>

#include <catch2/catch.hpp>

#include "tests/support/plexusd_process.hpp"

namespace plexus::test {
namespace {

bool redis_installed() { return run_command({"sh", "-c", "command -v redis-server"}).exit_code == 0; }

std::filesystem::path script() { return source_dir() / "tools" / "redis-test-server"; }

}  // namespace

std::unique_ptr<RedisServer> RedisServer::start() {
  if (!redis_installed()) {
    const char* required = std::getenv("PLEXUS_TEST_REQUIRE_REDIS");
    if (required != nullptr && std::string_view(required) == "0") {
      WARN("redis-server is not installed and PLEXUS_TEST_REQUIRE_REDIS=0: skipped");
      return nullptr;
    }
    FAIL(
        "redis-server is not installed (tools/deps installs it; PLEXUS_TEST_REQUIRE_REDIS=0 skips these "
        "tests)");
  }
  // The server owns a directory that does not exist yet, inside one the test owns.
  auto server = std::unique_ptr<RedisServer>(new RedisServer({}, {}));
  server->dir_ = server->parent_.path() / "redis";
  const auto started = run_command({script().string(), "start", server->dir_.string()});
  INFO(started.err);
  REQUIRE(started.exit_code == 0);
  server->url_ = started.out.substr(0, started.out.find('\n'));
  const auto at = server->url_.find('@');
  REQUIRE(server->url_.starts_with("redis://:"));
  REQUIRE(at != std::string::npos);
  record_secret(server->url_.substr(9, at - 9));
  return server;
}

RedisServer::~RedisServer() { stop(); }

void RedisServer::stop() {
  if (!running_) return;
  running_ = false;
  const auto stopped = run_command({script().string(), "stop", dir_.string()});
  CHECK(stopped.exit_code == 0);
}

}  // namespace plexus::test
