// One libpq connection to a PostgreSQL server, served as a plexus::sdk::Connection.
//
// Every call runs in a transaction of its own, BEGIN READ ONLY on a read-only datasource:
// the server itself refuses writes (SQLSTATE 25006, PLEXUS_ERR_DENIED), whatever the SQL.
// A timeout is the transaction's statement_timeout (57014, PLEXUS_ERR_TIMEOUT).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <libpq-fe.h>
#include <plexus/driver.hpp>

#include "connectors/postgres/postgres_options.hpp"

namespace plexus::connectors {

struct PgFinish {
  void operator()(PGconn* connection) const { PQfinish(connection); }
};
struct PgFreeCancel {
  void operator()(PGcancel* cancel) const { PQfreeCancel(cancel); }
};
struct PgClear {
  void operator()(PGresult* result) const { PQclear(result); }
};
using PgResult = std::unique_ptr<PGresult, PgClear>;

class PostgresConnection final : public sdk::Connection {
 public:
  // Connects; throws plexus::sdk::Error (PLEXUS_ERR_UNAVAILABLE) with libpq's reason,
  // which names host, port and user but never the password.
  explicit PostgresConnection(const PostgresOptions& options);

  std::string query(const sdk::Query& query) override;
  std::string execute(const sdk::Query& query) override;
  std::string schema() override;
  std::string ping() override;

 private:
  // The call's transaction: rolled back unless committed, also when a call fails halfway
  // through a result.
  class Transaction {
   public:
    Transaction(PostgresConnection& connection, bool read_only, std::uint64_t timeout_ms);
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void commit(std::string_view what);

   private:
    PostgresConnection& connection_;
    bool open_ = false;
  };
  struct Bound;

  Bound bind(const sdk::Query& query) const;
  PgResult run(const std::string& sql, std::string_view what);
  void require_connected() const;
  [[noreturn]] void fail(const PGresult* result, std::string_view what) const;

  std::unique_ptr<PGconn, PgFinish> connection_;
  std::unique_ptr<PGcancel, PgFreeCancel> cancel_;
  bool read_only_;
  std::uint64_t timeout_ms_ = 0;  // of the running call, for the message
};

}  // namespace plexus::connectors
