#include "kernel/store/database.hpp"

#include <filesystem>
#include <stdexcept>
#include <string_view>

#include <soci/connection-pool.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include "kernel/store/postgres_url.hpp"

namespace plexus::store {

void prepare_sqlite_for_threads() {
  // SQLITE_MISUSE once SQLite is initialised: then it is too late and nothing changes.
  sqlite_api::sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);  // soci-sqlite3.h wraps sqlite3.h in sqlite_api
}

namespace {

constexpr std::string_view kSqlitePrefix = "sqlite:";

void open_sqlite(soci::session& session, const std::string& file, std::chrono::milliseconds busy_timeout) {
  session.open(*soci::factory_sqlite3(), "db=" + file + " timeout=" + std::to_string(busy_timeout.count() / 1000 + 1));
  session << "PRAGMA journal_mode=WAL";
  session << "PRAGMA foreign_keys=ON";
  session << "PRAGMA busy_timeout=" + std::to_string(busy_timeout.count());
  session << "PRAGMA synchronous=NORMAL";
}

void replace_all(std::string& text, const std::string& what, const std::string& with) {
  if (what.empty()) return;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + with.size())) {
    text.replace(at, what.size(), with);
  }
}

}  // namespace

std::string redact_url(const std::string& url) {
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  std::string out = url;
  // Up to the last '@': a password with a bare '@' (or '/', '?') hides too much rather than too little.
  const auto at = out.rfind('@');
  const auto colon = out.find(':', scheme + 3);
  if (at != std::string::npos && colon != std::string::npos && colon < at) {
    out = out.substr(0, colon + 1) + "***" + out.substr(at);
  }
  // libpq also takes the password as a query parameter.
  for (auto key = out.find("password=", scheme); key != std::string::npos;
       key = out.find("password=", key + 1)) {
    if (key == 0 || (out[key - 1] != '?' && out[key - 1] != '&')) continue;
    const auto value = key + std::string_view("password=").size();
    const auto end = out.find('&', value);
    out.replace(value, end == std::string::npos ? std::string::npos : end - value, "***");
  }
  return out;
}

Database::Database(const DatabaseOptions& options)
    : pool_(std::make_unique<soci::connection_pool>(options.pool_size)) {
  const bool sqlite = options.url.starts_with(kSqlitePrefix);
  const bool postgres = options.url.starts_with("postgresql://") || options.url.starts_with("postgres://");
  if (!sqlite && !postgres) {
    throw std::runtime_error("store.url must start with 'sqlite:' or 'postgresql://', got '" +
                             redact_url(options.url) + "'");
  }
  backend_ = sqlite ? "sqlite" : "postgresql";
  PostgresTarget pg;
  if (postgres) {
    try {
      // SOCI would mangle the URL itself (see postgres_url.hpp).
      pg = postgres_target(options.url);
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error("cannot open the postgresql database " + redact_url(options.url) + ": " +
                               e.what());
    }
  }
  const std::string target = sqlite ? options.url.substr(kSqlitePrefix.size()) : pg.conninfo;
  if (sqlite) {
    const auto parent = std::filesystem::path(target).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent);
  }
  for (std::size_t i = 0; i < options.pool_size; ++i) {
    try {
      auto& session = pool_->at(i);
      if (sqlite) {
        open_sqlite(session, target, options.busy_timeout);
      } else {
        session.open(*soci::factory_postgresql(), target);
        // NOTICEs ("relation already exists" for IF NOT EXISTS) would go to stderr.
        session << "SET client_min_messages = warning";
      }
    } catch (const std::exception& e) {
      // Driver messages could echo the connection string or the password; never pass them on unfiltered.
      std::string reason = e.what();
      if (postgres) {
        replace_all(reason, target, "<connection string>");
        replace_all(reason, pg.password, "***");
      }
      throw std::runtime_error("cannot open the " + backend_ + " database " + redact_url(options.url) + ": " + reason);
    }
  }
}

Database::~Database() = default;

bool Database::ping(std::string* reason) {
  try {
    soci::session session(*pool_);
    int one = 0;
    session << "SELECT 1", soci::into(one);
    return one == 1;
  } catch (const std::exception& e) {
    if (reason) *reason = e.what();
    return false;
  }
}

}  // namespace plexus::store
