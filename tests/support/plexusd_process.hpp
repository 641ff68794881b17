// The real plexusd binary as integration tests run it: shipped config, its own data
// directory, a free port, the test admin password, and its log file kept under
// <build>/test-logs so the end-of-suite scan can look for leaked secrets.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <httplib.h>

#include "tests/support/test_support.hpp"

namespace plexus::test {

// PLEXUS_ADMIN_PASSWORD of every plexusd the tests start (unless they set another).
inline constexpr std::string_view kTestAdminPassword = "Plexus-Test-Admin-9f3k!";

std::filesystem::path plexusd_binary();
std::filesystem::path plexus_cli_binary();
std::filesystem::path shipped_config();

// <build>/test-logs: every log file the suites write; scanned after the whole suite.
std::filesystem::path test_log_dir();
// Remembers a password, token or key the tests used, so the final scan can prove it
// never reached a log file. Safe from several processes at once.
void record_secret(std::string_view secret);

// {"Authorization": "Bearer <token>"}
httplib::Headers bearer(const std::string& token);

// A plexusd on a free port, stopped with SIGTERM (or killed) when destroyed.
class Plexusd {
 public:
  explicit Plexusd(std::map<std::string, std::string> env = {}, std::vector<std::string> extra_args = {});
  ~Plexusd();
  Plexusd(const Plexusd&) = delete;
  Plexusd& operator=(const Plexusd&) = delete;

  httplib::Client client() const;
  // Logs in (POST /api/v1/auth/login) and returns the access token; FAILs the test on
  // anything but 200. The token is recorded with record_secret.
  std::string login(const std::string& username, const std::string& password,
                    const std::string& tenant = "default") const;
  std::string admin_token() const { return login("admin", std::string(kTestAdminPassword)); }
  // SIGTERM and wait; the exit code, -1 when it did not stop within 30 s.
  int stop();
  // SIGKILL, as a crash would: no shutdown, nothing flushed. Returns once it is gone.
  void kill();
  // Starts plexusd again on the same data directory, port, environment and arguments
  // (after stop() or kill()); FAILs the test when it does not come up.
  void restart();
  std::string output() const { return process_->output(); }
  ChildProcess& process() { return *process_; }
  const std::filesystem::path& log_file() const { return log_file_; }

  TempDir data;
  int port;

 private:
  void start();

  std::filesystem::path log_file_;
  std::map<std::string, std::string> env_;
  std::vector<std::string> args_;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace plexus::test
