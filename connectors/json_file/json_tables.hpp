// A directory of JSON files loaded as the tables of an in-memory SQLite database, so the
// SQL written for a real database runs on mock data (COM-11).
//
// Every "<name>.json" in the directory (not hidden, not in subdirectories) is the table
// <name>: a JSON array of objects, one per row. Columns are the union of the rows' keys
// in first-seen order; a key a row lacks is NULL there. A column's type is INTEGER when
// every value is an integer or boolean (true 1, false 0), REAL when they are numbers,
// else TEXT; arrays and objects are stored as their JSON text. Columns named "id" or
// ending in "_id" are indexed, so joins on them are fast.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "connectors/sqlite/sqlite_connection.hpp"

namespace plexus::connectors {

// The table files of `directory`, sorted by name. Throws plexus::sdk::Error
// (PLEXUS_ERR_UNAVAILABLE) when the directory cannot be read.
std::vector<std::filesystem::path> json_table_files(const std::filesystem::path& directory);

struct JsonTables {
  SqliteHandle db;
  // Files holding an empty array: without a row there are no columns, so no table.
  std::vector<std::string> skipped;
};

// Loads `files` (json_table_files) into a new in-memory database. Throws plexus::sdk::Error
// (PLEXUS_ERR_INVALID) naming the file and what is wrong with it ("servers.json: row 3 is
// not an object"), or PLEXUS_ERR_UNAVAILABLE when a file cannot be read.
JsonTables load_json_tables(const std::vector<std::filesystem::path>& files);

}  // namespace plexus::connectors
