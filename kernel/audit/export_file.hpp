// A file of JSON lines that is complete on disk before anything it holds is
// deleted: written under a temporary name, fsynced, closed, renamed into place
// and the directory fsynced. Unfinished files are removed.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace plexus::audit {

class ExportFile {
 public:
  // Creates `directory` (mode 0700) when missing; the file is created mode 0600.
  // Throws std::runtime_error naming the path.
  explicit ExportFile(std::filesystem::path directory);
  ~ExportFile();
  ExportFile(const ExportFile&) = delete;
  ExportFile& operator=(const ExportFile&) = delete;

  void append_line(std::string_view line);
  // Flushes, fsyncs and closes the file, renames it to directory/name and fsyncs
  // the directory; returns the final path. Throws std::runtime_error.
  std::filesystem::path finish(const std::string& name);

 private:
  void flush();

  std::filesystem::path directory_, temporary_;
  int fd_ = -1;
  std::string buffer_;
};

}  // namespace plexus::audit
