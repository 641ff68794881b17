#include "kernel/audit/export_file.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace plexus::audit {
namespace {

constexpr std::size_t kFlushAt = 1 << 20;

[[noreturn]] void fail(const std::string& what, const std::filesystem::path& path, int error) {
  throw std::runtime_error("audit export: cannot " + what + " " + path.string() + ": " + std::strerror(error));
}

void fsync_directory(const std::filesystem::path& directory) {
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail("open", directory, errno);
  const int result = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (result != 0) fail("fsync", directory, error);
}

}  // namespace

ExportFile::ExportFile(std::filesystem::path directory) : directory_(std::move(directory)) {
  std::error_code ec;
  if (!std::filesystem::exists(directory_, ec)) {
    std::filesystem::create_directories(directory_, ec);
    if (ec) fail("create", directory_, ec.value());
    // Exports hold everything the log holds: only the server's user may read them.
    std::filesystem::permissions(directory_, std::filesystem::perms::owner_all, std::filesystem::perm_options::replace,
                                 ec);
    if (ec) fail("restrict", directory_, ec.value());
  }
  std::string pattern = (directory_ / ".audit-export-XXXXXX").string();
  fd_ = ::mkostemp(pattern.data(), O_CLOEXEC);  // mode 0600
  if (fd_ < 0) fail("create a file in", directory_, errno);
  temporary_ = pattern;
}

ExportFile::~ExportFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!temporary_.empty()) {
    std::error_code ignored;
    std::filesystem::remove(temporary_, ignored);
  }
}

void ExportFile::append_line(std::string_view line) {
  buffer_.append(line);
  buffer_.push_back('\n');
  if (buffer_.size() >= kFlushAt) flush();
}

void ExportFile::flush() {
  std::size_t written = 0;
  while (written < buffer_.size()) {
    const auto n = ::write(fd_, buffer_.data() + written, buffer_.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("write", temporary_, errno);
    }
    written += static_cast<std::size_t>(n);
  }
  buffer_.clear();
}

std::filesystem::path ExportFile::finish(const std::string& name) {
  flush();
  if (::fsync(fd_) != 0) fail("fsync", temporary_, errno);
  const int closed = ::close(fd_);
  fd_ = -1;
  if (closed != 0) fail("close", temporary_, errno);
  const auto target = directory_ / name;
  if (::rename(temporary_.c_str(), target.c_str()) != 0) fail("rename", temporary_, errno);
  temporary_.clear();
  fsync_directory(directory_);
  return target;
}

}  // namespace plexus::audit
