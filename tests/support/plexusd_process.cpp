#include "tests/support/plexusd_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

namespace plexus::test {

using namespace std::chrono_literals;

std::filesystem::path plexusd_binary() { return binary_dir() / "bin" / "plexusd"; }
std::filesystem::path plexus_cli_binary() { return binary_dir() / "bin" / "plexus"; }
std::filesystem::path shipped_config() { return source_dir() / "config" / "plexus.yaml"; }

std::filesystem::path test_log_dir() {
  const auto dir = binary_dir() / "test-logs";
  std::filesystem::create_directories(dir);
  return dir;
}

void record_secret(std::string_view secret) {
  if (secret.empty()) return;
  const auto file = test_log_dir() / "secrets.txt";
  // One write(2) with O_APPEND per line: lines from parallel tests never interleave.
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return;
  std::string line(secret);
  line += '\n';
  [[maybe_unused]] auto written = ::write(fd, line.data(), line.size());
  ::close(fd);
}

namespace {

std::filesystem::path unique_log_file() {
  static std::atomic<int> counter{0};
  return test_log_dir() /
         ("plexusd-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".log");
}

}  // namespace

Plexusd::Plexusd(std::map<std::string, std::string> env, std::vector<std::string> extra_args)
    : port(free_port()), log_file_(unique_log_file()), env_(std::move(env)) {
  env_.try_emplace("PLEXUS_ADMIN_PASSWORD", std::string(kTestAdminPassword));
  env_.try_emplace("PLEXUS_LOG__FILE", log_file_.string());
  record_secret(env_["PLEXUS_ADMIN_PASSWORD"]);
  args_ = {plexusd_binary().string(), "--config", shipped_config().string(), "--data-dir",
           data.path().string(),      "--port",   std::to_string(port)};
  args_.insert(args_.end(), extra_args.begin(), extra_args.end());
  start();
}

void Plexusd::start() {
  process_ = std::make_unique<ChildProcess>(args_, env_);
  if (!wait_for_port(port, 20s)) FAIL("plexusd did not start:\n" << process_->output());
}

Plexusd::~Plexusd() {
  if (process_ && process_->running()) {
    process_->signal(SIGTERM);
    process_->wait(30s);
  }
}

httplib::Client Plexusd::client() const {
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(10);
  return c;
}

httplib::Headers bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

std::string Plexusd::login(const std::string& username, const std::string& password, const std::string& tenant) const {
  record_secret(password);
  auto c = client();
  const nlohmann::json body{{"username", username}, {"password", password}, {"tenant", tenant}};
  auto result = c.Post("/api/v1/auth/login", body.dump(), "application/json");
  if (!result) FAIL("login as " << username << ": no answer");
  if (result->status != 200) FAIL("login as " << username << ": " << result->status << " " << result->body);
  const auto answer = nlohmann::json::parse(result->body);
  const auto token = answer.at("access_token").get<std::string>();
  record_secret(token);
  record_secret(answer.at("refresh_token").get<std::string>());
  return token;
}

int Plexusd::stop() {
  process_->signal(SIGTERM);
  return process_->wait(30s).value_or(-1);
}

void Plexusd::kill() {
  process_->signal(SIGKILL);
  if (!process_->wait(30s)) FAIL("plexusd did not die of SIGKILL");
}

void Plexusd::restart() {
  if (process_->running()) FAIL("restart: plexusd is still running; stop() or kill() it first");
  start();
}

}  // namespace plexus::test
