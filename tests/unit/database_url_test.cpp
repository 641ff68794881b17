// store.url for PostgreSQL becomes a libpq keyword/value string that SOCI 4.0.3 passes on intact
// (kernel/store/postgres_url.hpp says why the URL itself cannot go to SOCI). Checked three ways:
// the string itself; what libpq reads from it once SOCI's reader (modelled below) has rewritten
// it; and, on the test server (PLEXUS_TEST_POSTGRES_URL), real logins with awkward passwords.
#include <cctype>
#include <map>
#include <random>
#include <stdexcept>
#include <string>

#include <catch2/catch.hpp>
#include <libpq-fe.h>
#include <soci/soci.h>

#include "kernel/store/database.hpp"
#include "kernel/store/postgres_url.hpp"
#include "tests/support/plexusd_process.hpp"  // record_secret
#include "tests/support/postgres_db.hpp"

using plexus::store::postgres_target;

namespace {

// What SOCI 4.0.3's postgresql backend does to its connect string before PQconnectdb (read from
// its make_session): pairs name=value, whitespace between them and inside names skipped; a value
// ends at whitespace, or, opened by a double quote, at the next double quote, which goes. Each
// pair but singlerow(s) is written back as name=value, joined by single spaces.
std::string soci_rewrite(const std::string& text) {
  std::string out;
  auto it = text.begin();
  while (it != text.end()) {
    std::string name;
    std::string value;
    bool in_value = false;
    bool quoted = false;
    while (it != text.end()) {
      const char c = *it;
      if (!in_value) {
        if (c == '=') {
          in_value = true;
          quoted = it + 1 != text.end() && *(it + 1) == '"';
          it += quoted ? 2 : 1;
        } else {
          if (!std::isspace(static_cast<unsigned char>(c))) name += c;
          ++it;
        }
        continue;
      }
      ++it;
      if (quoted ? c == '"' : std::isspace(static_cast<unsigned char>(c)) != 0) break;
      value += c;
    }
    if (name == "singlerow" || name == "singlerows") continue;
    if (!out.empty()) out += ' ';
    out += name + '=' + value;
  }
  return out;
}

// keyword -> value, as libpq reads the connection string that SOCI hands it.
std::map<std::string, std::string> libpq_reads(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(soci_rewrite(conninfo).c_str(), &error);
  if (options == nullptr) {
    const std::string message = error ? error : "out of memory";
    PQfreemem(error);
    FAIL("libpq refused the connection string: " << message);
  }
  std::map<std::string, std::string> out;
  for (auto* option = options; option->keyword != nullptr; ++option) {
    if (option->val != nullptr) out[option->keyword] = option->val;
  }
  PQconninfoFree(options);
  return out;
}

std::map<std::string, std::string> reads(const std::string& url) {
  return libpq_reads(postgres_target(url).conninfo);
}

std::string percent_encode(const std::string& text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// The message of the exception `f` throws; FAILs when it throws none.
template <typename Exception, typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Exception& e) {
    return e.what();
  }
  FAIL("no exception");
  return {};
}

}  // namespace

TEST_CASE("a plain URL becomes keyword/value pairs", "[store][url]") {
  const auto target = postgres_target("postgresql://plexus:s3cret@127.0.0.1:5433/plexus");
  CHECK(target.conninfo == "host=127.0.0.1 port=5433 dbname=plexus user=plexus password=s3cret");
  CHECK(target.password == "s3cret");
  // The bug this fixes: SOCI turned ".../plexus" into the database "plexus=".
  CHECK(libpq_reads(target.conninfo)["dbname"] == "plexus");
  CHECK(postgres_target("postgres://db.example.test/app").conninfo == "host=db.example.test dbname=app");
  CHECK(postgres_target("postgresql://").conninfo.empty());
  CHECK(postgres_target("postgresql://app@db/").conninfo == "host=db user=app");
  CHECK(postgres_target("postgresql://app:@db").password.empty());
}

TEST_CASE("URL parts are percent-decoded and quoted as libpq and SOCI need", "[store][url]") {
  SECTION("reserved characters in user and password") {
    auto libpq = reads("postgresql://ann%40ops:p%40ss%2Fw%3Frd%23%25%3A@h/db");
    CHECK(libpq["user"] == "ann@ops");
    CHECK(libpq["password"] == "p@ss/w?rd#%:");
  }
  SECTION("quotes and backslashes") {
    const auto target = postgres_target("postgresql://u:it%27s%5Cx%22y@h/db");
    CHECK(target.password == "it's\\x\"y");
    CHECK(target.conninfo == R"(host=h dbname=db user=u password='it\'s\\x"y')");
    CHECK(libpq_reads(target.conninfo)["password"] == "it's\\x\"y");
  }
  SECTION("whitespace travels inside SOCI's double quotes") {
    const auto target = postgres_target("postgresql://u:a%20b%09c%27d@h/my%20db");
    CHECK(target.conninfo == "host=h dbname=\"'my db'\" user=u password=\"'a b\tc\\'d'\"");
    auto libpq = libpq_reads(target.conninfo);
    CHECK(libpq["password"] == "a b\tc'd");
    CHECK(libpq["dbname"] == "my db");
  }
  SECTION("an empty value") {
    CHECK(reads("postgresql://h/db?application_name=")["application_name"].empty());
  }
  SECTION("whitespace and a double quote together cannot pass SOCI 4.0") {
    const auto message =
        error_of<std::invalid_argument>([] { postgres_target("postgresql://u:a%20%22Secret9@h"); });
    CHECK_THAT(message, Catch::Contains("password") && Catch::Contains("double quote"));
    CHECK_THAT(message, !Catch::Contains("Secret9"));
  }
}

TEST_CASE("hosts, ports and sockets as libpq reads them in URLs", "[store][url]") {
  CHECK(reads("postgresql://[::1]:5433/db")["host"] == "::1");
  CHECK(reads("postgresql://[::1]:5433/db")["port"] == "5433");
  auto libpq = reads("postgresql://h1:5432,h2,[fe80::1]:6000/db");
  CHECK(libpq["host"] == "h1,h2,fe80::1");
  CHECK(libpq["port"] == "5432,,6000");
  libpq = reads("postgresql://%2Frun%2Fpostgresql:5433/db");
  CHECK(libpq["host"] == "/run/postgresql");
  CHECK(libpq["port"] == "5433");
  CHECK(reads("postgresql://:5433/db").count("host") == 0);
}

TEST_CASE("query parameters pass through as libpq keywords", "[store][url]") {
  auto libpq =
      reads("postgresql://h/db?sslmode=require&connect_timeout=5&application_name=plexus%20node%201");
  CHECK(libpq["sslmode"] == "require");
  CHECK(libpq["connect_timeout"] == "5");
  CHECK(libpq["application_name"] == "plexus node 1");
  CHECK(reads("postgresql://h/db?options=-c%20search_path%3Dt_1")["options"] == "-c search_path=t_1");
  CHECK(reads("postgresql://h/db?ssl=true")["sslmode"] == "require");  // libpq's JDBC spelling
  const auto target = postgres_target("postgresql://u@h/db?password=from%20query");
  CHECK(target.password == "from query");
  CHECK(libpq_reads(target.conninfo)["password"] == "from query");
}

TEST_CASE("malformed URLs are refused naming the part, never the password", "[store][url][security]") {
  const std::map<std::string, std::string> bad = {
      {"mysql://u:Secret9@h/db", "postgresql://"},
      {"postgresql://u:Secret9%zz@h/db", "password"},
      {"postgresql://u:Secret9%4@h/db", "password"},
      {"postgresql://u:Secret9%00@h/db", "%00"},
      {"postgresql://u:Secret9@h:54x/db", "port"},
      {"postgresql://u:Secret9@h:70000/db", "port"},
      {"postgresql://u:Sec/ret9@h/db", "%2F"},
      {"postgresql://u:Sec?ret9@h/db", "%3F"},
      {"postgresql://u:Sec#ret9@h/db", "%23"},
      {"postgresql://u:Secret9@[::1/db", "IPv6"},
      {"postgresql://u:Secret9@h/db?host=other", "twice"},
      {"postgresql://u:Secret9@h/db?sslmode", "no '=value'"},
      {"postgresql://u:Secret9@h/db?x%20password=y", "keyword"},
      {"postgresql://u:Secret9@a%2Cb/db", "','"},
  };
  for (const auto& [url, expected] : bad) {
    INFO(plexus::store::redact_url(url));
    const auto message = error_of<std::invalid_argument>([&] { postgres_target(url); });
    CHECK_THAT(message, Catch::Contains(expected));
    CHECK_THAT(message, !Catch::Contains("Secret9") && !Catch::Contains("ret9"));
  }
}

TEST_CASE("redact_url hides the password wherever the URL carries it", "[store][url][security]") {
  using plexus::store::redact_url;
  CHECK(redact_url("postgresql://u:s3cret@h:5432/db") == "postgresql://u:***@h:5432/db");
  CHECK(redact_url("postgresql://u:p@ss@h/db") == "postgresql://u:***@h/db");
  CHECK(redact_url("postgresql://u@h/db?sslmode=require&password=s3cret&x=1") ==
        "postgresql://u@h/db?sslmode=require&password=***&x=1");
  CHECK(redact_url("postgresql://u@h/db?password=s3cret") == "postgresql://u@h/db?password=***");
  CHECK(redact_url("postgresql://h:5432/db") == "postgresql://h:5432/db");
  CHECK(redact_url("sqlite:/var/lib/plexus/plexus.db") == "sqlite:/var/lib/plexus/plexus.db");
}

TEST_CASE("Database errors on PostgreSQL URLs never carry the password", "[store][url][security]") {
  using plexus::store::Database;
  auto message = error_of<std::runtime_error>(
      [] { Database({.url = "postgresql://u:Secret9%zz@h/db", .pool_size = 1}); });
  CHECK_THAT(message, Catch::Contains("password") && !Catch::Contains("Secret9"));
  // Nothing listens on port 1: the driver's own message comes back, scrubbed.
  message = error_of<std::runtime_error>([] {
    Database({.url = "postgresql://u:Secret9-pw@127.0.0.1:1/db?connect_timeout=5", .pool_size = 1});
  });
  CHECK_THAT(message, Catch::Contains("postgresql://u:***@127.0.0.1:1/db"));
  CHECK_THAT(message, !Catch::Contains("Secret9"));
}

TEST_CASE("awkward passwords log in to a real PostgreSQL through SOCI", "[store][url][postgresql]") {
  const auto server = plexus::test::postgres_server_url();
  if (!server) return;  // postgres_server_url warned, or failed the test when a server is required
  const auto at = server->rfind('@');
  REQUIRE(at != std::string::npos);
  const auto host_and_db = server->substr(at);  // "@127.0.0.1:<port>/plexus_test"

  std::random_device random;
  const std::string role = "plexus_url_" + std::to_string(random() % 1000000000);
  const std::string password =
      GENERATE(as<std::string>{}, "p w'd\\x@/?#%:,&=+\tend", "it's\"quoted\\", "plain");
  plexus::test::record_secret(password);

  plexus::store::Database admin({.url = *server, .pool_size = 1});
  soci::session sql(admin.pool());
  std::string literal = "'";
  for (const char c : password) literal += c == '\'' ? std::string("''") : std::string(1, c);
  sql << "CREATE ROLE " + role + " LOGIN PASSWORD " + literal + "'";
  struct DropRole {
    soci::session& sql;
    std::string role;
    ~DropRole() {
      try {
        sql << "DROP ROLE IF EXISTS " + role;
      } catch (const std::exception&) {
      }
    }
  } drop{sql, role};

  {
    plexus::store::Database database(
        {.url = "postgresql://" + role + ":" + percent_encode(password) + host_and_db, .pool_size = 2});
    soci::session session(database.pool());
    std::string user;
    session << "SELECT current_user", soci::into(user);
    CHECK(user == role);
  }
  const auto wrong = "postgresql://" + role + ":" + percent_encode(password + "x") + host_and_db;
  const auto message =
      error_of<std::runtime_error>([&] { plexus::store::Database({.url = wrong, .pool_size = 1}); });
  CHECK_THAT(message, Catch::Contains("password authentication failed"));
  CHECK_THAT(message, !Catch::Contains(password) && !Catch::Contains(percent_encode(password)));
}
