#include "connectors/json_file/json_tables.hpp"

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <limits>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "connectors/common/sql_text.hpp"
#include "connectors/sqlite/bind_json.hpp"

namespace plexus::connectors {
namespace fs = std::filesystem;
namespace {

// Keys keep the order they appear in: the columns follow the file.
using Json = nlohmann::ordered_json;

struct Column {
  std::string name;
  bool integers = false;  // integers and booleans
  bool reals = false;
  bool texts = false;  // strings, arrays and objects

  const char* type() const {
    if (texts) return "TEXT";
    if (reals) return "REAL";
    return integers ? "INTEGER" : "TEXT";  // all NULL: TEXT, the least surprising
  }
  void saw(const Json& value) {
    switch (value.type()) {
      case Json::value_t::null: return;
      case Json::value_t::boolean:
      case Json::value_t::number_integer: integers = true; return;
      case Json::value_t::number_unsigned:
        (value.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())
             ? reals
             : integers) = true;
        return;
      case Json::value_t::number_float: reals = true; return;
      default: texts = true; return;
    }
  }
};

std::string quote_identifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

bool indexed(std::string_view column) {
  const std::string name = ascii_lower(column);
  return name == "id" || (name.size() > 3 && name.compare(name.size() - 3, 3, "_id") == 0);
}

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::string text;
  if (in) text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (!in.is_open() || in.bad()) {
    throw sdk::Error(PLEXUS_ERR_UNAVAILABLE, "cannot read " + file.filename().string());
  }
  return text;
}

const char* describe(const Json& value) {
  switch (value.type()) {
    case Json::value_t::object: return "an object";
    case Json::value_t::array: return "an array";
    case Json::value_t::string: return "a string";
    case Json::value_t::null: return "null";
    case Json::value_t::boolean: return "a boolean";
    default: return "a number";
  }
}

// Loads one file into `db`; false when it holds no rows and so makes no table.
bool load_table(sqlite3* db, const fs::path& file) {
  const std::string file_name = file.filename().string();
  const auto fail = [&](const std::string& problem) {
    return sdk::Error(PLEXUS_ERR_INVALID, file_name + ": " + problem);
  };
  const auto sqlite_fail = [&](const std::string& doing) { return fail(doing + ": " + sqlite3_errmsg(db)); };

  const std::string table = file.stem().string();
  if (ascii_lower(table).rfind("sqlite_", 0) == 0) {
    throw fail("table names starting with sqlite_ are reserved");
  }

  Json rows;
  try {
    rows = Json::parse(read_text(file));
  } catch (const Json::parse_error& e) {
    // "[json.exception.parse_error.101] parse error at line 3, ...": the part after the tag.
    std::string message = e.what();
    if (const auto tag_end = message.find("] "); tag_end != std::string::npos) message.erase(0, tag_end + 2);
    throw fail("not valid JSON: " + message);
  }
  if (!rows.is_array()) {
    throw fail(std::string("expected an array of objects, one per row, got ") + describe(rows));
  }
  if (rows.empty()) return false;

  std::vector<Column> columns;
  std::unordered_map<std::string, std::size_t> column_of;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (!rows[i].is_object()) throw fail("row " + std::to_string(i + 1) + " is not an object");
    for (const auto& [key, value] : rows[i].items()) {
      auto [found, added] = column_of.emplace(key, columns.size());
      if (added) columns.push_back(Column{key});
      columns[found->second].saw(value);
    }
  }

  std::string create = "CREATE TABLE " + quote_identifier(table) + " (";
  std::string insert = "INSERT INTO " + quote_identifier(table) + " VALUES (";
  for (std::size_t c = 0; c < columns.size(); ++c) {
    create += (c ? ", " : "") + quote_identifier(columns[c].name) + " " + columns[c].type();
    insert += c ? ", ?" : "?";
  }
  if (sqlite3_exec(db, (create + ")").c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
    throw sqlite_fail("cannot make the table " + quote_identifier(table));
  }
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v3(db, (insert + ")").c_str(), -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr) !=
      SQLITE_OK) {
    throw sqlite_fail("cannot insert");
  }
  const SqliteStatement statement(raw);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    sqlite3_reset(raw);
    sqlite3_clear_bindings(raw);
    for (const auto& [key, value] : rows[i].items()) {
      bind_json(raw, static_cast<int>(column_of.at(key) + 1), value);
    }
    if (sqlite3_step(raw) != SQLITE_DONE) throw sqlite_fail("row " + std::to_string(i + 1));
  }

  for (const auto& column : columns) {
    if (!indexed(column.name)) continue;
    const std::string index = "CREATE INDEX " + quote_identifier(table + "." + column.name) + " ON " +
                              quote_identifier(table) + " (" + quote_identifier(column.name) + ")";
    if (sqlite3_exec(db, index.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
      throw sqlite_fail("cannot index " + quote_identifier(column.name));
    }
  }
  return true;
}

}  // namespace

std::vector<fs::path> json_table_files(const fs::path& directory) {
  std::error_code error;
  std::vector<fs::path> files;
  for (fs::directory_iterator it(directory, error), end; !error && it != end; it.increment(error)) {
    const fs::path& path = it->path();
    const std::string name = path.filename().string();
    std::error_code type_error;
    if (path.extension() == ".json" && name.front() != '.' && it->is_regular_file(type_error)) {
      files.push_back(path);
    }
  }
  if (error) {
    throw sdk::Error(PLEXUS_ERR_UNAVAILABLE,
                     "cannot read the directory " + directory.string() + ": " + error.message());
  }
  std::sort(files.begin(), files.end());
  return files;
}

JsonTables load_json_tables(const std::vector<fs::path>& files) {
  sqlite3* raw = nullptr;
  const int code = sqlite3_open_v2(":memory:", &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  JsonTables out{SqliteHandle(raw), {}};
  if (code != SQLITE_OK) {
    throw sdk::Error(PLEXUS_ERR_INTERNAL, std::string("cannot make a database: ") + sqlite3_errstr(code));
  }
  // One transaction for the whole load: a journal per row would be most of the time.
  sqlite3_exec(raw, "BEGIN", nullptr, nullptr, nullptr);
  for (const auto& file : files) {
    if (!load_table(raw, file)) out.skipped.push_back(file.filename().string());
  }
  if (sqlite3_exec(raw, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    throw sdk::Error(PLEXUS_ERR_INTERNAL, std::string("cannot load the tables: ") + sqlite3_errmsg(raw));
  }
  return out;
}

}  // namespace plexus::connectors
