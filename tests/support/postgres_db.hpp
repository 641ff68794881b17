// Storage tests on both databases: SQLite in a temporary directory, and the PostgreSQL server
// named by PLEXUS_TEST_POSTGRES_URL (tools/test starts one with tools/pg-test-server and sets it).
//
// A test run gets its database from StoreBackend: the first one created in a test case makes
// Catch run the test case again for each backend (GENERATE), "sqlite" first, then "postgresql".
// Each run gets a new, empty database: a file, or a schema of its own on the server, so tests
// running at once (ctest -j) never meet. Without the variable the PostgreSQL run is left out
// with a warning, unless PLEXUS_TEST_REQUIRE_POSTGRES=1 (tools/test sets it): then it fails.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/test_support.hpp"

namespace plexus::test {

// PLEXUS_TEST_POSTGRES_URL, or nullopt when it is unset (a warning; a failure when required).
std::optional<std::string> postgres_server_url();

// "sqlite", then "postgresql" when a server is configured.
std::vector<std::string> store_backends();

// For this test run: one of store_backends(), each in turn (GENERATE). Call it once per run, or
// through StoreBackend: a second call from one run would nest a second generator.
std::string each_store_backend();

// A URL of a new, empty database: "sqlite:<dir>/<n>.db", or for "postgresql" a schema created
// on the server, which every connection of that URL works in (libpq options: search_path).
// Schemas are dropped when the test process exits.
std::string fresh_store_url(const std::string& backend, const TempDir& dir);

// Options of a "postgres" datasource on a fresh schema of the test server: the URL
// without its password, which goes in the sealed "password" field (recorded as a secret).
nlohmann::json postgres_datasource_options(const TempDir& dir);

// This test run's backend (each_store_backend). While it lives, every assertion's report names
// it, so a failure says which database it happened on.
class StoreBackend {
 public:
  StoreBackend();
  const std::string& name() const { return name_; }
  // A new, empty database of this backend; more than one per run is fine.
  std::string fresh_url(const TempDir& dir) const { return fresh_store_url(name_, dir); }

 private:
  std::string name_;
  Catch::ScopedMessage message_;
};

}  // namespace plexus::test
