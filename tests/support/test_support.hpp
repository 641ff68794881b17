// Helpers shared by the test suites: temporary directories, child processes and
// raw sockets. Everything binds and connects to 127.0.0.1 only.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace plexus::test {

// A fresh directory under the system temp dir, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path write(const std::string& name, const std::string& content) const;

 private:
  std::filesystem::path path_;
};

std::string read_file(const std::filesystem::path& file);
std::filesystem::path source_dir();  // the repository root
std::filesystem::path binary_dir();  // the CMake build directory

struct CommandResult {
  int exit_code = -1;  // 128 + signal when killed by a signal
  std::string out;
  std::string err;
};
// Runs argv[0] (searched in PATH) to completion, feeding `input` on stdin.
CommandResult run_command(const std::vector<std::string>& argv, const std::string& input = {},
                          const std::map<std::string, std::string>& extra_env = {});

// A child process started in the background; killed (SIGKILL) on destruction if still running.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, const std::map<std::string, std::string>& extra_env = {});
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  int pid() const { return pid_; }
  void signal(int sig) const;
  // Waits up to `timeout`; the exit code (128 + signal when killed), or nullopt when still running.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  bool running();
  // Everything the child wrote so far to stdout and stderr (both go to one log file).
  std::string output() const;

 private:
  int pid_ = -1;
  std::optional<int> exit_code_;
  std::filesystem::path log_;
};

// A TCP port on 127.0.0.1 that was free a moment ago.
int free_port();

// Waits until something accepts on 127.0.0.1:port; false on timeout.
bool wait_for_port(int port, std::chrono::milliseconds timeout);

// A blocking client socket to 127.0.0.1 for hand-made (also malformed) requests.
class RawConnection {
 public:
  explicit RawConnection(int port);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;
  bool send(const std::string& bytes);
  // Reads one HTTP/1.1 response (headers plus Content-Length or chunked body);
  // "" when the peer closed first or nothing came within `timeout`.
  std::string read_response(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Reads whatever arrives within `timeout`, until `until` appears (if not empty).
  std::string read_some(std::chrono::milliseconds timeout, const std::string& until = {});
  // True when the server closed the connection (read returns 0) within `timeout`.
  bool closed_by_peer(std::chrono::milliseconds timeout);
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
  std::string buffered_;
};

// The status code of a raw response ("HTTP/1.1 413 ..." -> 413), 0 if none.
int status_of(const std::string& raw_response);

}  // namespace plexus::test
