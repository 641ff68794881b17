#include "connectors/json_file/table_images.hpp"

#include <cstring>

#include "connectors/json_file/json_tables.hpp"

namespace plexus::connectors {
namespace fs = std::filesystem;
namespace {

// What the loaded tables depend on: each table file's name, size and modification time.
std::string fingerprint(const std::vector<fs::path>& files) {
  std::string out;
  for (const auto& file : files) {
    std::error_code error;
    const auto size = fs::file_size(file, error);
    const auto time = fs::last_write_time(file, error).time_since_epoch().count();
    out += file.filename().string() + '\0' + std::to_string(size) + '\0' + std::to_string(time) + '\n';
  }
  return out;
}

}  // namespace

std::shared_ptr<const TableImages::Image> TableImages::image(const fs::path& directory) {
  const std::vector<fs::path> files = json_table_files(directory);
  if (files.empty()) {
    throw sdk::Error(PLEXUS_ERR_INVALID,
                     "no table files (<table>.json) in the directory " + directory.string());
  }
  std::string current = fingerprint(files);
  {
    std::lock_guard lock(mutex_);
    if (auto found = images_.find(directory);
        found != images_.end() && found->second->fingerprint == current) {
      return found->second;
    }
  }
  // Two connections opening a changed directory at once may both load it: harmless, and
  // no one waits behind another directory's load.
  JsonTables tables = load_json_tables(files);
  if (tables.skipped.size() == files.size()) {
    throw sdk::Error(PLEXUS_ERR_INVALID,
                     "no tables in " + directory.string() + ": every .json file there is an empty array");
  }
  for (const auto& file : tables.skipped) {
    warn_("json-file: " + (directory / file).string() +
          " is an empty array: no rows, so no columns and no table");
  }
  auto loaded = std::make_shared<Image>();
  loaded->fingerprint = std::move(current);
  loaded->bytes.reset(sqlite3_serialize(tables.db.get(), "main", &loaded->size, 0));
  if (!loaded->bytes) {
    throw sdk::Error(PLEXUS_ERR_INTERNAL, "cannot keep the tables of " + directory.string());
  }
  std::lock_guard lock(mutex_);
  images_[directory] = loaded;
  return loaded;
}

SqliteHandle TableImages::open(const fs::path& directory, bool read_only) {
  const std::shared_ptr<const Image> source = image(directory);
  sqlite3* raw = nullptr;
  const int code = sqlite3_open_v2(":memory:", &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  SqliteHandle db(raw);
  if (code != SQLITE_OK) {
    throw sdk::Error(PLEXUS_ERR_INTERNAL, std::string("cannot make a database: ") + sqlite3_errstr(code));
  }

  auto* copy = static_cast<unsigned char*>(sqlite3_malloc64(static_cast<sqlite3_uint64>(source->size)));
  if (copy == nullptr) {
    throw sdk::Error(PLEXUS_ERR_INTERNAL, "out of memory copying the tables of " + directory.string());
  }
  std::memcpy(copy, source->bytes.get(), static_cast<std::size_t>(source->size));
  const unsigned flags = SQLITE_DESERIALIZE_FREEONCLOSE |
                         (read_only ? SQLITE_DESERIALIZE_READONLY : SQLITE_DESERIALIZE_RESIZEABLE);
  // On failure sqlite3_deserialize frees `copy` itself (FREEONCLOSE).
  if (sqlite3_deserialize(raw, "main", copy, source->size, source->size, flags) != SQLITE_OK) {
    throw sdk::Error(PLEXUS_ERR_INTERNAL, std::string("cannot copy the tables: ") + sqlite3_errmsg(raw));
  }
  if (read_only) sqlite3_exec(raw, "PRAGMA query_only = ON", nullptr, nullptr, nullptr);
  return db;
}

}  // namespace plexus::connectors
