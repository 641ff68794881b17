// A throwaway Redis for tests (tools/redis-test-server): 127.0.0.1, a free port, no
// persistence, a random password. Without redis-server installed, starting one FAILs the
// test, unless PLEXUS_TEST_REQUIRE_REDIS=0: then it is skipped with a warning.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "tests/support/test_support.hpp"

namespace plexus::test {

class RedisServer {
 public:
  // A running server, or nullptr when redis-server is missing and PLEXUS_TEST_REQUIRE_REDIS=0
  // (a WARN; the caller returns). FAILs when it cannot start. The password is recorded with
  // record_secret, so the log scan proves it never reached a log.
  static std::unique_ptr<RedisServer> start();
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // redis://:<password>@127.0.0.1:<port>/0
  const std::string& url() const { return url_; }
  // Shuts the server down (idempotent); the URL then points at nothing.
  void stop();

 private:
  RedisServer(std::filesystem::path dir, std::string url) : dir_(std::move(dir)), url_(std::move(url)) {}
  TempDir parent_;
  std::filesystem::path dir_;
  std::string url_;
  bool running_ = true;
};

}  // namespace plexus::test
