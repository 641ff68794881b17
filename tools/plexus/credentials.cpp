#include "tools/plexus/credentials.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <system_error>

#include <nlohmann/json.hpp>

namespace plexus::cli {
namespace {

std::runtime_error file_error(const std::string& what, const std::filesystem::path& file, int error) {
  return std::runtime_error(what + " " + file.string() + ": " + std::strerror(error));
}

// Creates the missing directories of `dir` (each 0700, so tokens never sit in a
// directory others can list) and leaves existing ones as they are.
void create_private_directories(const std::filesystem::path& dir) {
  if (dir.empty() || std::filesystem::exists(dir)) return;
  create_private_directories(dir.parent_path());
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) throw file_error("cannot create", dir, errno);
}

}  // namespace

std::filesystem::path credentials_path(const EnvironmentLookup& env) {
  const auto set = [&](const char* name) -> std::optional<std::string> {
    const char* value = env(name);
    if (value == nullptr || *value == '\0') return std::nullopt;
    return std::string(value);
  };
  if (auto explicit_file = set("PLEXUS_CREDENTIALS")) return *explicit_file;
  if (auto config_home = set("XDG_CONFIG_HOME"))
    return std::filesystem::path(*config_home) / "plexus" / "credentials.json";
  if (auto home = set("HOME"))
    return std::filesystem::path(*home) / ".config" / "plexus" / "credentials.json";
  throw std::runtime_error("cannot place the credentials file: set PLEXUS_CREDENTIALS or HOME");
}

std::filesystem::path credentials_path() {
  return credentials_path([](const char* name) { return static_cast<const char*>(std::getenv(name)); });
}

std::optional<Credentials> load_credentials(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec) && !ec) return std::nullopt;
  std::ifstream in(file, std::ios::binary);
  if (!in) throw file_error("cannot read", file, errno);
  std::stringstream text;
  text << in.rdbuf();
  const auto json = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  const auto field = [&](const char* name) -> std::string {
    if (!json.is_object() || !json.contains(name) || !json[name].is_string())
      throw std::runtime_error(file.string() + " is not a plexus credentials file (no \"" + name +
                               "\"); remove it and run plexus login");
    return json[name].get<std::string>();
  };
  return Credentials{field("url"), field("access_token"), field("refresh_token")};
}

void save_credentials(const std::filesystem::path& file, const Credentials& credentials) {
  create_private_directories(file.parent_path());
  const std::string text = nlohmann::json{{"url", credentials.url},
                                          {"access_token", credentials.access_token},
                                          {"refresh_token", credentials.refresh_token}}
                               .dump(2) +
                           "\n";
  // A temporary file in the same directory, renamed over the old one: a reader never
  // sees half a file, and the file is never readable by others, not even briefly.
  auto temporary = file;
  temporary += ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}());
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw file_error("cannot create", temporary, errno);
  std::size_t written = 0;
  while (written < text.size()) {
    const auto n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = errno;
      ::close(fd);
      ::unlink(temporary.c_str());
      throw file_error("cannot write", temporary, error);
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const int error = errno;
    ::unlink(temporary.c_str());
    throw file_error("cannot write", temporary, error);
  }
  if (::rename(temporary.c_str(), file.c_str()) != 0) {
    const int error = errno;
    ::unlink(temporary.c_str());
    throw file_error("cannot replace", file, error);
  }
}

bool remove_credentials(const std::filesystem::path& file) {
  std::error_code ignored;
  return std::filesystem::remove(file, ignored);
}

}  // namespace plexus::cli
