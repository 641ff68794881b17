#include "connectors/postgres/postgres_connection.hpp"

#include <algorithm>
#include <climits>
#include <optional>
#include <vector>

#include "connectors/common/params.hpp"
#include "connectors/common/result_json.hpp"
#include "connectors/common/sql_text.hpp"
#include "connectors/postgres/pg_types.hpp"

namespace plexus::connectors {
namespace {

// libpq's messages end in a newline and may span lines ("...failed: Connection refused\n\t
// Is the server running..."): one line reads better inside ours.
std::string one_line(std::string_view text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (c == '\n' || c == '\t' || c == '\r' || c == ' ') {
      space = !out.empty();
    } else {
      if (space) out += ' ';
      space = false;
      out += c;
    }
  }
  return out;
}

std::optional<std::string> as_text(const nlohmann::json& value) {
  if (value.is_null()) return std::nullopt;
  if (value.is_string()) return value.get<std::string>();
  return value.dump();  // numbers, true/false, and arrays and objects as JSON text
}

void ignore_notice(void*, const char*) {}  // notices would go to stderr

}  // namespace

// A statement's text with $1..$n and the values for them, NULL as nullptr.
struct PostgresConnection::Bound {
  std::string sql;
  std::vector<std::optional<std::string>> values;
  std::vector<const char*> pointers;
};

PostgresConnection::Transaction::Transaction(PostgresConnection& connection, bool read_only,
                                             std::uint64_t timeout_ms)
    : connection_(connection) {
  connection.timeout_ms_ = timeout_ms;
  std::string begin = read_only ? "BEGIN READ ONLY" : "BEGIN";
  if (timeout_ms > 0) {
    begin +=
        "; SET LOCAL statement_timeout = " + std::to_string(std::min<std::uint64_t>(timeout_ms, INT_MAX));
  }
  try {
    connection.run(begin, "cannot start a transaction");
  } catch (...) {
    PQclear(PQexec(connection.connection_.get(), "ROLLBACK"));  // BEGIN may have worked
    throw;
  }
  open_ = true;
}

PostgresConnection::Transaction::~Transaction() {
  if (!open_) return;
  PGconn* raw = connection_.connection_.get();
  while (PGresult* rest = PQgetResult(raw)) PQclear(rest);
  PQclear(PQexec(raw, "ROLLBACK"));
}

void PostgresConnection::Transaction::commit(std::string_view what) {
  open_ = false;
  connection_.run("COMMIT", what);
}

PostgresConnection::PostgresConnection(const PostgresOptions& options) : read_only_(options.read_only) {
  // Keywords are read in order, a later one overriding: the defaults come before the URL
  // (its own parameters may change them), what the driver fixes comes after it.
  std::vector<const char*> keywords{"connect_timeout", "fallback_application_name", "dbname"};
  std::vector<const char*> values{"10", "plexus", options.url.c_str()};
  // Never the password file of the server's own user (~/.pgpass): a nonexistent file.
  keywords.insert(keywords.end(), {"passfile", "client_encoding"});
  values.insert(values.end(), {"/nonexistent/plexus-datasources-use-no-pgpass", "UTF8"});
  if (!options.password.empty()) {
    keywords.push_back("password");
    values.push_back(options.password.c_str());
  }
  if (!options.application_name.empty()) {
    keywords.push_back("application_name");
    values.push_back(options.application_name.c_str());
  }
  keywords.push_back(nullptr);
  values.push_back(nullptr);

  connection_.reset(PQconnectdbParams(keywords.data(), values.data(), /*expand_dbname=*/1));
  if (!connection_) throw sdk::Error(PLEXUS_ERR_INTERNAL, "cannot connect: out of memory");
  if (PQstatus(connection_.get()) != CONNECTION_OK) {
    throw sdk::Error(PLEXUS_ERR_UNAVAILABLE,
                     "cannot connect: " + one_line(PQerrorMessage(connection_.get())));
  }
  PQsetNoticeProcessor(connection_.get(), &ignore_notice, nullptr);
  cancel_.reset(PQgetCancel(connection_.get()));
}

void PostgresConnection::require_connected() const {
  if (PQstatus(connection_.get()) != CONNECTION_OK) {
    throw sdk::Error(PLEXUS_ERR_UNAVAILABLE,
                     "connection lost: " + one_line(PQerrorMessage(connection_.get())));
  }
}

void PostgresConnection::fail(const PGresult* result, std::string_view what) const {
  require_connected();  // a broken connection is UNAVAILABLE, whatever the statement did
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const char* primary = result ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  const std::string sqlstate = state ? state : "";
  const std::string message = primary ? primary : one_line(PQerrorMessage(connection_.get()));
  const std::string failed = std::string(what) + ": " + message;
  if (sqlstate == "25006") throw sdk::Error(PLEXUS_ERR_DENIED, "datasource is read-only: " + message);
  if (sqlstate == "57014") {
    throw sdk::Error(PLEXUS_ERR_TIMEOUT,
                     std::string(what) + ": timed out after " + std::to_string(timeout_ms_) + " ms");
  }
  if (sqlstate == "55P03") throw sdk::Error(PLEXUS_ERR_TIMEOUT, failed);  // lock_not_available
  if (sqlstate == "42501") throw sdk::Error(PLEXUS_ERR_DENIED, failed);   // insufficient_privilege
  // connection_exception, insufficient_resources, the server shutting down or starting
  const bool unavailable = sqlstate.rfind("08", 0) == 0 || sqlstate.rfind("53", 0) == 0 ||
                           sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03";
  throw sdk::Error(unavailable ? PLEXUS_ERR_UNAVAILABLE : PLEXUS_ERR_INVALID, failed);
}

PgResult PostgresConnection::run(const std::string& sql, std::string_view what) {
  PgResult result(PQexec(connection_.get(), sql.c_str()));
  const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) fail(result.get(), what);
  return result;
}

PostgresConnection::Bound PostgresConnection::bind(const sdk::Query& query) const {
  if (query.sql.empty()) throw sdk::Error(PLEXUS_ERR_INVALID, "the SQL is empty");
  PositionalSql positional = to_positional(query.sql);
  const Params params(query.params_json);
  params.require_exactly(positional.names);
  Bound bound{std::move(positional.sql), {}, {}};
  for (const auto& name : positional.names) bound.values.push_back(as_text(params.at(name)));
  for (const auto& value : bound.values) bound.pointers.push_back(value ? value->c_str() : nullptr);
  return bound;
}

std::string PostgresConnection::query(const sdk::Query& query) {
  require_connected();
  const Bound bound = bind(query);
  Transaction transaction(*this, read_only_, query.timeout_ms);
  PGconn* raw = connection_.get();
  if (!PQsendQueryParams(raw, bound.sql.c_str(), static_cast<int>(bound.pointers.size()), nullptr,
                         bound.pointers.data(), nullptr, nullptr, 0)) {
    fail(nullptr, "query failed");
  }
  PQsetSingleRowMode(raw);  // rows arrive one by one: a large result is never held whole

  ResultBuilder out;
  std::vector<PgValueKind> kinds;
  std::uint64_t rows = 0;
  bool described = false;
  bool truncated = false;
  bool cancelled = false;
  PgResult error;
  const auto describe = [&](const PGresult* result) {
    if (described) return;
    described = true;
    for (int c = 0; c < PQnfields(result); ++c) {
      const PgType type = pg_type(PQftype(result, c));
      out.add_column(PQfname(result, c), type.name);
      kinds.push_back(type.kind);
    }
  };
  while (PgResult result{PQgetResult(raw)}) {
    const ExecStatusType status = PQresultStatus(result.get());
    if (status == PGRES_SINGLE_TUPLE) {
      describe(result.get());
      if (query.max_rows != 0 && rows == query.max_rows) {
        truncated = true;
        // A read-only statement can stop here. One that writes runs to its end instead:
        // cancelling it would roll back what its RETURNING rows report.
        if (read_only_ && !cancelled) {
          char reason[256];
          cancelled = PQcancel(cancel_.get(), reason, sizeof reason) == 1;
        }
        continue;
      }
      out.begin_row();
      for (int c = 0; c < PQnfields(result.get()); ++c) {
        if (PQgetisnull(result.get(), 0, c)) {
          out.value_null();
          continue;
        }
        const std::string_view value(PQgetvalue(result.get(), 0, c),
                                     static_cast<std::size_t>(PQgetlength(result.get(), 0, c)));
        switch (kinds[static_cast<std::size_t>(c)]) {
          case PgValueKind::boolean: out.value_bool(value == "t"); break;
          case PgValueKind::number: out.value_number_text(value); break;
          case PgValueKind::json: out.value_json(value); break;
          case PgValueKind::text: out.value_string(value); break;
        }
      }
      ++rows;
    } else if (status == PGRES_TUPLES_OK) {
      describe(result.get());  // a result without rows still has its columns
    } else if (status != PGRES_COMMAND_OK && !error) {
      const char* state = PQresultErrorField(result.get(), PG_DIAG_SQLSTATE);
      const bool our_cancel = cancelled && state != nullptr && std::string_view(state) == "57014";
      if (!our_cancel) error = std::move(result);
    }
  }
  if (error) fail(error.get(), "query failed");
  transaction.commit("query failed");
  return out.finish(truncated);
}

std::string PostgresConnection::execute(const sdk::Query& query) {
  require_connected();
  const Bound bound = bind(query);
  Transaction transaction(*this, read_only_, query.timeout_ms);
  const PgResult result(PQexecParams(connection_.get(), bound.sql.c_str(),
                                     static_cast<int>(bound.pointers.size()), nullptr, bound.pointers.data(),
                                     nullptr, nullptr, 0));
  const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) fail(result.get(), "execute failed");
  // PQcmdTuples is "" for statements that change no rows, and a SELECT's row count: no change either.
  const bool select = std::string_view(PQcmdStatus(result.get())).rfind("SELECT", 0) == 0;
  const std::string changed = select ? "" : PQcmdTuples(result.get());
  transaction.commit("execute failed");
  return R"({"changed":)" + (changed.empty() ? std::string("0") : changed) + "}";
}

std::string PostgresConnection::ping() {
  require_connected();
  const PgResult result = run("SELECT version()", "ping failed");
  std::string out = R"({"ok":true,"version":)";
  append_json_string(out, PQntuples(result.get()) > 0 ? PQgetvalue(result.get(), 0, 0) : "");
  return out + "}";
}

}  // namespace plexus::connectors
