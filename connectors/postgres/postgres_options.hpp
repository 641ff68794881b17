// The options of a "postgres" datasource: {"url", "password", "read_only", "application_name"}.
#pragma once

#include <string>
#include <string_view>

namespace plexus::connectors {

struct PostgresOptions {
  std::string url;       // postgresql://user@host:port/database?sslmode=...
  std::string password;  // empty when the server needs none
  bool read_only = true;
  std::string application_name;  // empty: libpq's fallback, "plexus"
};

// Throws plexus::sdk::Error (PLEXUS_ERR_INVALID) for a missing url or one that is no
// postgresql:// URL, a password inside the URL (it belongs in "password", which is sealed
// at rest), and a URL parameter that would make libpq read files or settings of the
// server's own (passfile, service, sslkey, ...). Messages never quote the URL.
PostgresOptions parse_postgres_options(std::string_view options_json);

}  // namespace plexus::connectors
