#include "kernel/store/database.hpp"

#include <filesystem>
#include <stdexcept>

#include <soci/connection-pool.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

namespace plexus::store {
namespace {

constexpr std::string_view kSqlitePrefix = "sqlite:";

void open_sqlite(soci::session& session, const std::string& file, std::chrono::milliseconds busy_timeout) {
  session.open(*soci::factory_sqlite3(), "db=" + file + " timeout=" + std::to_string(busy_timeout.count() / 1000 + 1));
  session << "PRAGMA journal_mode=WAL";
  session << "PRAGMA foreign_keys=ON";
  session << "PRAGMA busy_timeout=" + std::to_string(busy_timeout.count());
  session << "PRAGMA synchronous=NORMAL";
}

}  // namespace

std::string redact_url(const std::string& url) {
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  const auto at = url.find('@', scheme + 3);
  if (at == std::string::npos) return url;
  const auto colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon + 1) + "***" + url.substr(at);
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
  const std::string target = sqlite ? options.url.substr(kSqlitePrefix.size()) : options.url;
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
      // Driver messages can echo the connection string; never pass them on unfiltered.
      std::string reason = e.what();
      const auto at = reason.find(target);
      if (at != std::string::npos) reason.replace(at, target.size(), redact_url(target));
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
