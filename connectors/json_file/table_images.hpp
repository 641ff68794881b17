// Each directory's tables, loaded once and kept as a serialized SQLite image: a connection
// gets its own copy (its writes, when it may write, stay its own and never reach the
// files). A directory is loaded again when its table files change (name, size or time).
#pragma once

#include <sqlite3.h>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "connectors/sqlite/sqlite_connection.hpp"

namespace plexus::connectors {

class TableImages {
 public:
  // `warn` hears about files that make no table (an empty array).
  explicit TableImages(std::function<void(std::string_view)> warn) : warn_(std::move(warn)) {}

  // A new database holding `directory`'s tables; with `read_only` the database refuses
  // writes itself. Throws plexus::sdk::Error as load_json_tables does.
  SqliteHandle open(const std::filesystem::path& directory, bool read_only);

 private:
  struct Image {
    std::string fingerprint;
    std::unique_ptr<unsigned char, void (*)(void*)> bytes{nullptr, &sqlite3_free};
    sqlite3_int64 size = 0;
  };

  std::shared_ptr<const Image> image(const std::filesystem::path& directory);

  std::function<void(std::string_view)> warn_;
  std::mutex mutex_;  // guards images_; loading runs outside it
  std::map<std::filesystem::path, std::shared_ptr<const Image>> images_;
};

}  // namespace plexus::connectors
