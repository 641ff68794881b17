#include "connectors/sqlite/sqlite_connection.hpp"

#include <algorithm>
#include <climits>
#include <vector>

#include "connectors/common/params.hpp"
#include "connectors/common/result_json.hpp"
#include "connectors/common/sql_text.hpp"
#include "connectors/sqlite/bind_json.hpp"

namespace plexus::connectors {
namespace {

using Clock = std::chrono::steady_clock;

// Waiting for another writer's lock when a call sets no timeout of its own.
constexpr int kDefaultBusyTimeoutMs = 5000;
// How many virtual-machine steps pass between deadline checks: a few microseconds.
constexpr int kProgressSteps = 1000;
// Statements kept prepared per connection: the SQL of the APIs a datasource serves.
constexpr std::size_t kCachedStatements = 32;

const char* storage_class(int type) {
  switch (type) {
    case SQLITE_INTEGER: return "integer";
    case SQLITE_FLOAT: return "real";
    case SQLITE_TEXT: return "text";
    case SQLITE_BLOB: return "blob";
    default: return "null";
  }
}

std::string base64(const unsigned char* data, std::size_t size) {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((size + 2) / 3 * 4);
  for (std::size_t i = 0; i < size; i += 3) {
    const std::uint32_t chunk = (std::uint32_t{data[i]} << 16) |
                                (i + 1 < size ? std::uint32_t{data[i + 1]} << 8 : 0) |
                                (i + 2 < size ? std::uint32_t{data[i + 2]} : 0);
    out += alphabet[(chunk >> 18) & 63];
    out += alphabet[(chunk >> 12) & 63];
    out += i + 1 < size ? alphabet[(chunk >> 6) & 63] : '=';
    out += i + 2 < size ? alphabet[chunk & 63] : '=';
  }
  return out;
}

void add_value(ResultBuilder& out, sqlite3_stmt* statement, int column) {
  switch (sqlite3_column_type(statement, column)) {
    case SQLITE_INTEGER: out.value_int(sqlite3_column_int64(statement, column)); return;
    case SQLITE_FLOAT: out.value_double(sqlite3_column_double(statement, column)); return;
    case SQLITE_TEXT: {
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement, column));
      out.value_string(
          std::string_view(text, static_cast<std::size_t>(sqlite3_column_bytes(statement, column))));
      return;
    }
    case SQLITE_BLOB: {  // JSON has no bytes: base64 text
      const auto* data = static_cast<const unsigned char*>(sqlite3_column_blob(statement, column));
      out.value_string(base64(data, static_cast<std::size_t>(sqlite3_column_bytes(statement, column))));
      return;
    }
    default: out.value_null(); return;
  }
}

}  // namespace

// Arms the deadline and the busy timeout for one call.
class SqliteConnection::Deadline {
 public:
  Deadline(SqliteConnection& connection, std::uint64_t timeout_ms) : connection_(connection) {
    connection.timeout_ms_ = timeout_ms;
    connection.deadline_ =
        timeout_ms == 0 ? Clock::time_point::max() : Clock::now() + std::chrono::milliseconds(timeout_ms);
    sqlite3_busy_timeout(connection.db_.get(),
                         timeout_ms == 0 ? kDefaultBusyTimeoutMs
                                         : static_cast<int>(std::min<std::uint64_t>(timeout_ms, INT_MAX)));
  }
  ~Deadline() { connection_.deadline_ = Clock::time_point::max(); }
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

 private:
  SqliteConnection& connection_;
};

SqliteConnection::SqliteConnection(SqliteHandle db, bool read_only)
    : db_(std::move(db)), statements_(kCachedStatements), read_only_(read_only) {
  sqlite3* raw = db_.get();
  sqlite3_extended_result_codes(raw, 1);
  // Statements cannot corrupt the file on purpose (writable_schema and the like).
  sqlite3_db_config(raw, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  sqlite3_set_authorizer(raw, &SqliteConnection::authorize, this);
  sqlite3_progress_handler(raw, kProgressSteps, &SqliteConnection::progress, this);
}

// ATTACH would open any file the server can read, past the plugin's allowed_paths.
int SqliteConnection::authorize(void* self, int action, const char*, const char*, const char*, const char*) {
  if (action != SQLITE_ATTACH && action != SQLITE_DETACH) return SQLITE_OK;
  static_cast<SqliteConnection*>(self)->denied_ =
      "ATTACH and DETACH are not allowed: a datasource is one database";
  return SQLITE_DENY;
}

int SqliteConnection::progress(void* self) {
  return Clock::now() > static_cast<SqliteConnection*>(self)->deadline_ ? 1 : 0;  // non-zero interrupts
}

void SqliteConnection::fail(int code, std::string_view what) const {
  const std::string message = std::string(what) + ": " + sqlite3_errmsg(db_.get());
  switch (code & 0xff) {
    case SQLITE_INTERRUPT:
      throw sdk::Error(PLEXUS_ERR_TIMEOUT,
                       std::string(what) + ": timed out after " + std::to_string(timeout_ms_) + " ms");
    case SQLITE_AUTH:
      throw sdk::Error(PLEXUS_ERR_DENIED, denied_.empty() ? message : std::string(what) + ": " + denied_);
    case SQLITE_READONLY:
      throw sdk::Error(PLEXUS_ERR_DENIED,
                       std::string("datasource is read-only: ") + sqlite3_errmsg(db_.get()));
    case SQLITE_BUSY:
    case SQLITE_LOCKED: throw sdk::Error(PLEXUS_ERR_TIMEOUT, message + " (another connection holds a lock)");
    case SQLITE_IOERR:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_CANTOPEN:
    case SQLITE_FULL:
    case SQLITE_PROTOCOL: throw sdk::Error(PLEXUS_ERR_UNAVAILABLE, message);
    case SQLITE_NOMEM: throw sdk::Error(PLEXUS_ERR_INTERNAL, message);
    default: throw sdk::Error(PLEXUS_ERR_INVALID, message);
  }
}

StatementLease SqliteConnection::prepare(const sdk::Query& query, std::string_view what) {
  denied_.clear();
  // Cached statements passed the checks below when they were first prepared; SQLite
  // prepares them again by itself (authorizer included) when the schema changes.
  if (sqlite3_stmt* cached = statements_.find(query.sql)) {
    StatementLease lease(cached, true);
    bind(cached, query.params_json);
    return lease;
  }
  if (query.sql.empty()) throw sdk::Error(PLEXUS_ERR_INVALID, std::string(what) + ": the SQL is empty");
  // SQLite takes the length as an int; a negative one would have it read past the text.
  if (query.sql.size() > INT_MAX) {
    throw sdk::Error(PLEXUS_ERR_INVALID, std::string(what) + ": the SQL is too long");
  }
  const std::string keyword = first_keyword(query.sql);
  // EXPLAIN and PRAGMA never check the schema cookie as they run: they answer from the
  // schema this connection last read, which another connection may have changed since
  // (a promotion gate compiling SQL with EXPLAIN must see a dropped table).
  const bool prepared_against_schema = keyword == "EXPLAIN" || keyword == "PRAGMA";
  if (prepared_against_schema) read_current_schema();
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  const int code = sqlite3_prepare_v3(db_.get(), query.sql.data(), static_cast<int>(query.sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &raw, &tail);
  SqliteStatement statement(raw);
  if (code != SQLITE_OK) fail(code, what);
  if (!statement) throw sdk::Error(PLEXUS_ERR_INVALID, std::string(what) + ": the SQL holds no statement");

  // Whatever follows must be blank or comments: one call runs one statement.
  const std::string_view rest(tail, static_cast<std::size_t>(query.sql.data() + query.sql.size() - tail));
  sqlite3_stmt* next = nullptr;
  const int next_code =
      sqlite3_prepare_v3(db_.get(), rest.data(), static_cast<int>(rest.size()), 0, &next, nullptr);
  sqlite3_finalize(next);
  if (next_code != SQLITE_OK || next != nullptr) {
    throw sdk::Error(PLEXUS_ERR_INVALID,
                     std::string(what) + ": more than one statement; send them one at a time");
  }

  if (keyword == "VACUUM") {  // VACUUM INTO writes a file wherever the server may write
    throw sdk::Error(PLEXUS_ERR_DENIED, std::string(what) + ": VACUUM is not allowed through a datasource");
  }
  if (read_only_ && !sqlite3_stmt_readonly(statement.get())) {
    throw sdk::Error(PLEXUS_ERR_DENIED,
                     "datasource is read-only: refused a statement that writes (" + keyword + " ...)");
  }
  // Only statements that check the schema as they run are kept.
  const bool cached = !prepared_against_schema && !sqlite3_stmt_isexplain(statement.get()) &&
                      statements_.keep(query.sql, statement.get());
  StatementLease lease(statement.release(), cached);
  bind(lease.get(), query.params_json);
  return lease;
}

void SqliteConnection::bind(sqlite3_stmt* statement, std::string_view params_json) {
  const int count = sqlite3_bind_parameter_count(statement);
  std::vector<std::string> names;
  for (int i = 1; i <= count; ++i) {
    const char* name = sqlite3_bind_parameter_name(statement, i);
    if (name == nullptr || name[0] != ':') {
      throw sdk::Error(PLEXUS_ERR_INVALID, std::string("use :name placeholders, not ") + (name ? name : "?"));
    }
    names.emplace_back(name + 1);
  }
  const Params params(params_json);
  params.require_exactly(names);
  for (int i = 1; i <= count; ++i) bind_json(statement, i, params.at(names[static_cast<std::size_t>(i - 1)]));
}

std::string SqliteConnection::query(const sdk::Query& query) {
  const Deadline deadline(*this, query.timeout_ms);
  const StatementLease statement = prepare(query, "query failed");
  sqlite3_stmt* raw = statement.get();

  ResultBuilder out;
  const int columns = sqlite3_column_count(raw);
  std::vector<bool> typed;  // declared, or settled by a value: later values do not change it
  for (int c = 0; c < columns; ++c) {
    const char* name = sqlite3_column_name(raw, c);
    const char* declared = sqlite3_column_decltype(raw, c);
    const bool has_type = declared != nullptr && *declared != '\0';
    out.add_column(name ? name : "", has_type ? ascii_lower(declared) : "null");
    typed.push_back(has_type);
  }

  std::uint64_t rows = 0;
  bool truncated = false;
  for (;;) {
    const int code = sqlite3_step(raw);
    if (code == SQLITE_DONE) break;
    if (code != SQLITE_ROW) fail(code, "query failed");
    if (query.max_rows != 0 && rows == query.max_rows) {  // one row too many: enough to know
      truncated = true;
      break;
    }
    out.begin_row();
    for (int c = 0; c < columns; ++c) {
      const int type = sqlite3_column_type(raw, c);
      if (!typed[static_cast<std::size_t>(c)] && type != SQLITE_NULL) {
        out.set_column_type(static_cast<std::size_t>(c), storage_class(type));
        typed[static_cast<std::size_t>(c)] = true;
      }
      add_value(out, raw, c);
    }
    ++rows;
  }
  return out.finish(truncated);
}

std::string SqliteConnection::execute(const sdk::Query& query) {
  const Deadline deadline(*this, query.timeout_ms);
  const StatementLease statement = prepare(query, "execute failed");
  const sqlite3_int64 total_before = sqlite3_total_changes64(db_.get());
  int code = SQLITE_ROW;
  while (code == SQLITE_ROW) code = sqlite3_step(statement.get());
  if (code != SQLITE_DONE) fail(code, "execute failed");
  // changes64() keeps the last INSERT/UPDATE/DELETE's count, so only believe it when this
  // statement changed something; rows that triggers changed are not counted.
  const bool changed_any = sqlite3_total_changes64(db_.get()) != total_before;
  return R"({"changed":)" + std::to_string(changed_any ? sqlite3_changes64(db_.get()) : 0) + "}";
}

std::string SqliteConnection::ping() {
  const SqliteStatement statement = prepare_internal("SELECT 1", "ping failed");
  if (const int code = sqlite3_step(statement.get()); code != SQLITE_ROW) fail(code, "ping failed");
  std::string out = R"({"ok":true,"version":)";
  append_json_string(out, std::string("SQLite ") + sqlite3_libversion());
  return out + "}";
}

void SqliteConnection::read_current_schema() {
  // Reading sqlite_schema begins a read transaction, which compares the schema cookie and
  // reloads the schema when it changed.
  const SqliteStatement probe = prepare_internal("SELECT 1 FROM sqlite_schema LIMIT 0", "query failed");
  if (const int code = sqlite3_step(probe.get()); code != SQLITE_DONE) fail(code, "query failed");
}

SqliteStatement SqliteConnection::prepare_internal(const char* sql, std::string_view what) {
  sqlite3_stmt* raw = nullptr;
  const int code = sqlite3_prepare_v3(db_.get(), sql, -1, 0, &raw, nullptr);
  SqliteStatement statement(raw);
  if (code != SQLITE_OK) fail(code, what);
  return statement;
}

}  // namespace plexus::connectors
