#include "kernel/secrets/secret_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <openssl/rand.h>

#include "kernel/auth/base64url.hpp"
#include "kernel/log/log.hpp"

namespace plexus::secrets {
namespace {

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  return text;
}

}  // namespace

std::string random_secret(std::size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1) throw std::runtime_error("no random bytes from OpenSSL");
  return auth::base64url_encode(std::string_view(reinterpret_cast<const char*>(raw.data()), raw.size()));
}

std::string read_or_create_secret(const std::filesystem::path& file, std::string_view purpose) {
  std::error_code error;
  std::filesystem::create_directories(file.parent_path(), error);
  if (!error) ::chmod(file.parent_path().c_str(), 0700);
  const std::string secret = random_secret();
  // O_EXCL: two nodes starting on one data directory agree on the first one written.
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    const std::string line = secret + "\n";
    const bool written =
        ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!written) throw std::runtime_error("cannot write " + file.string());
    log::get("secrets")->info("generated a {} in {}", purpose, file.string());
    return secret;
  }
  if (errno != EEXIST) throw std::runtime_error("cannot create " + file.string() + ": " + std::strerror(errno));
  std::ifstream in(file);
  std::ostringstream text;
  text << in.rdbuf();
  auto existing = trimmed(text.str());
  if (existing.empty()) throw std::runtime_error(file.string() + " is empty; delete it to generate a new secret");
  return existing;
}

}  // namespace plexus::secrets
