// store.url for PostgreSQL: "postgresql://user:password@host:port/dbname?key=value" turned into
// the libpq keyword/value string that SOCI's postgresql backend hands to PQconnectdb intact.
//
// Why not pass the URL on: SOCI 4.0.3 (Debian 12) reads its connect string as whitespace-
// separated name=value pairs, to take out its own "singlerow(s)" option, and writes every other
// pair back as name + "=" + value. A URL has no '=' before its query, so it comes back with one
// appended: ".../plexus" asks the server for the database "plexus=". The same reader knows only
// double quotes (and drops them) and ends an unquoted value at whitespace, so the values here
// are written in a form that survives it and that libpq then reads as meant.
#pragma once

#include <string>
#include <string_view>

namespace plexus::store {

struct PostgresTarget {
  std::string conninfo;  // for soci::session::open with the postgresql backend
  std::string password;  // percent-decoded, empty when none: to scrub from driver messages
};

// Reads postgresql:// and postgres:// URLs as libpq does: percent-encoded parts, several hosts
// ("h1:5432,h2:5433"), IPv6 in brackets, a socket directory as a percent-encoded host
// ("%2Frun%2Fpostgresql"), any libpq keyword as a query parameter (sslmode=require,
// options=-c%20search_path%3Dx, ...). Throws std::invalid_argument saying what is wrong, without
// quoting the password or anything that may hold part of it.
PostgresTarget postgres_target(std::string_view url);

}  // namespace plexus::store
