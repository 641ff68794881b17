// connector-postgres: the "postgres" driver against the server of PLEXUS_TEST_POSTGRES_URL,
// each test case in a schema of its own (tests/support/postgres_db.hpp). Without a server
// those cases are left out with a warning (a failure with PLEXUS_TEST_REQUIRE_POSTGRES=1);
// the checks of options and of an unreachable server run regardless.
#include <optional>

#include <catch2/catch.hpp>

#include "tests/connectors/connector_harness.hpp"
#include "tests/support/plexusd_process.hpp"  // record_secret
#include "tests/support/postgres_db.hpp"

namespace plexus::test {
namespace {

using nlohmann::json;

// A password nothing accepts, recorded so that the log scan proves it never leaked.
std::string made_up_password() {
  std::string password = "Not-A-Real-Pa55word-7c1e";
  record_secret(password);
  return password;
}

// A fresh schema on the test server as driver options: the password moved out of the URL
// into its own option, as a datasource keeps it.
std::optional<json> fresh_postgres(const TempDir& dir, bool read_only) {
  if (!postgres_server_url()) return std::nullopt;
  std::string url = fresh_store_url("postgresql", dir);
  const auto scheme_end = url.find("://") + 3;
  const auto at = url.find('@', scheme_end);
  const auto colon = url.find(':', scheme_end);
  std::string password;
  if (colon < at) {
    password = url.substr(colon + 1, at - colon - 1);
    url.erase(colon, at - colon);
  }
  return json{{"driver", "postgres"}, {"url", url}, {"password", password}, {"read_only", read_only}};
}

json writable(json options) {
  options["read_only"] = false;
  return options;
}

void create_tables(ConnectorPlugin& plugin, const json& options) {
  DriverConnection writer(plugin, writable(options));
  for (const char* statement : {
           "CREATE TABLE sites (id text PRIMARY KEY, name text NOT NULL)",
           "CREATE TABLE servers (id serial PRIMARY KEY, name text NOT NULL, site_id text REFERENCES sites "
           "(id), "
           "cpu double precision, memory_gb integer, attrs jsonb, active boolean, price numeric(12, 4))",
           "CREATE VIEW busy_servers AS SELECT name, cpu FROM servers WHERE cpu > 50",
           "INSERT INTO sites VALUES ('seo', 'Seoul'), ('bsn', 'Busan')",
           "INSERT INTO servers (name, site_id, cpu, memory_gb, attrs, active, price) VALUES "
           "('web-1', 'seo', 12.5, 16, '{\"os\": \"linux\"}', true, 1234.5), "
           "('web-2', 'seo', 80, 32, NULL, false, NULL), ('db-1', 'bsn', 55.25, 64, '[1, 2]', true, 0.1), "
           "('db-2', 'bsn', NULL, NULL, NULL, NULL, NULL)",
       }) {
    INFO(statement);
    REQUIRE(writer.execute(statement).status == PLEXUS_OK);
  }
}

// The test server's tables, read-only unless asked otherwise.
struct PostgresFixture {
  TempDir dir;
  ConnectorPlugin plugin{"connector-postgres"};
  std::optional<json> options = fresh_postgres(dir, true);

  PostgresFixture() {
    if (options) create_tables(plugin, *options);
  }
};

}  // namespace

TEST_CASE("postgres: the plugin registers the postgres driver, its password a secret field") {
  ConnectorPlugin plugin("connector-postgres");
  const plexus_driver& driver = plugin.driver();
  CHECK(std::string(driver.name.ptr, driver.name.len) == "postgres");
  CHECK(plugin.secret_fields() == std::vector<std::string>{"password"});
  const json schema = json::parse(std::string(driver.options_schema.ptr, driver.options_schema.len));
  CHECK(schema["required"] == json{"url"});
}

TEST_CASE("postgres: a password in the URL is refused, pointing at the password option") {
  ConnectorPlugin plugin("connector-postgres");
  const std::string password = made_up_password();
  void* connection = nullptr;
  for (const std::string& url : {"postgresql://plexus:" + password + "@127.0.0.1:5432/ops",
                                 "postgres://plexus@127.0.0.1/ops?sslmode=require&password=" + password,
                                 "postgresql://plexus@127.0.0.1/ops?pass%77ord=" + password}) {
    const auto answer = plugin.open({{"url", url}, {"read_only", true}}, &connection);
    CHECK(answer.status == PLEXUS_ERR_INVALID);
    CHECK(answer.text ==
          "the url holds a password: remove it from the url and put it in the \"password\" option, which is "
          "sealed at "
          "rest and never shown");
    CHECK(answer.text.find(password) == std::string::npos);
  }
  const auto passfile =
      plugin.open({{"url", "postgresql://plexus@127.0.0.1/ops?passfile=/etc/shadow"}}, &connection);
  CHECK(passfile.status == PLEXUS_ERR_INVALID);
  CHECK(passfile.text == "the url parameter \"passfile\" is not allowed on a datasource");
  const auto not_url = plugin.open({{"url", "host=127.0.0.1 dbname=ops"}}, &connection);
  CHECK(not_url.status == PLEXUS_ERR_INVALID);
  CHECK(not_url.text.rfind("the url must be a postgresql:// URL", 0) == 0);
}

TEST_CASE("postgres: an unreachable server answers PLEXUS_ERR_UNAVAILABLE, without the password") {
  ConnectorPlugin plugin("connector-postgres");
  const std::string password = made_up_password();
  void* connection = nullptr;
  const auto answer = plugin.open(
      {{"url", "postgresql://plexus@127.0.0.1:1/ops"}, {"password", password}, {"read_only", true}},
      &connection);
  CHECK(answer.status == PLEXUS_ERR_UNAVAILABLE);
  CHECK(answer.text.rfind("cannot connect: connection to server at \"127.0.0.1\", port 1 failed", 0) == 0);
  CHECK(answer.text.find(password) == std::string::npos);
  CHECK(answer.text.find('\n') == std::string::npos);
}

TEST_CASE("postgres: a query binds :name parameters and maps types to JSON") {
  PostgresFixture pg;
  if (!pg.options) return;
  DriverConnection connection(pg.plugin, *pg.options);
  const json result = connection
                          .query(
                              "SELECT id, name, cpu, memory_gb, attrs, active, price FROM servers "
                              "WHERE site_id = :site OR name = :site ORDER BY id",
                              {{"site", "seo"}})
                          .json();
  CHECK(result["columns"] == json::parse(R"([{"name":"id","type":"integer"},{"name":"name","type":"text"},
    {"name":"cpu","type":"double precision"},{"name":"memory_gb","type":"integer"},
    {"name":"attrs","type":"jsonb"},{"name":"active","type":"boolean"},{"name":"price","type":"numeric"}])"));
  CHECK(result["rows"] == json::parse(R"([[1,"web-1",12.5,16,{"os":"linux"},true,1234.5],
                                          [2,"web-2",80,32,null,false,null]])"));
  CHECK(result["truncated"] == false);
  // numeric keeps the server's digits: 1234.5000, not a rounded double.
  CHECK(connection.query("SELECT price FROM servers WHERE id = 1").text.find("1234.5000") !=
        std::string::npos);

  SECTION("casts, strings and dollar quotes are not placeholders") {
    const json row = connection
                         .query(
                             "SELECT :n::int + 1 AS next, ':not_a_name' AS quoted, $$:nor$$ AS dollar, "
                             "'it''s :x' AS doubled, :doc::jsonb -> 'a' AS doc",
                             {{"n", 41}, {"doc", {{"a", 1}}}})
                         .json()["rows"][0];
    CHECK(row == json::parse(R"([42, ":not_a_name", ":nor", "it's :x", 1])"));
  }
  SECTION("the value of a placeholder is never SQL") {
    CHECK(connection.query("SELECT name FROM servers WHERE name = :name", {{"name", "' OR 1=1 --"}})
              .json()["rows"]
              .empty());
  }
  SECTION("missing, unknown and numbered parameters are refused, named") {
    CHECK(connection.query("SELECT * FROM servers WHERE site_id = :site").text ==
          "missing parameter \"site\" for :site");
    CHECK(connection.query("SELECT * FROM servers WHERE site_id = :site", {{"site", "seo"}, {"other", 1}})
              .text == "unknown parameter \"other\": the statement has no :other");
    const auto numbered = connection.query("SELECT * FROM servers WHERE id = $1");
    CHECK(numbered.status == PLEXUS_ERR_INVALID);
    CHECK(numbered.text.rfind("numbered placeholders ($1, $2, ...) are not supported", 0) == 0);
  }
}

TEST_CASE("postgres: max_rows cuts the result, sets truncated and leaves the connection usable") {
  PostgresFixture pg;
  if (!pg.options) return;
  DriverConnection connection(pg.plugin, *pg.options);
  const json cut = connection.query("SELECT id FROM servers ORDER BY id", json::object(), 2).json();
  CHECK(cut["rows"] == json::parse("[[1],[2]]"));
  CHECK(cut["truncated"] == true);
  CHECK(connection.query("SELECT id FROM servers", json::object(), 4).json()["truncated"] == false);

  // In the select list the rows stream (in FROM they would be gathered first). Ten billion rows
  // would take hours: only cancelling after the sixth row answers before the 60 s statement
  // timeout, which would otherwise end it with PLEXUS_ERR_TIMEOUT.
  const auto many = connection.query("SELECT generate_series(1, 10000000000) AS g", json::object(), 5, 60000);
  REQUIRE(many.status == PLEXUS_OK);
  CHECK(many.json()["rows"].size() == 5);
  CHECK(many.json()["truncated"] == true);
  CHECK(connection.query("SELECT 1 AS one").json()["rows"] == json::parse("[[1]]"));
}

TEST_CASE("postgres: a statement running past timeout_ms is cancelled with PLEXUS_ERR_TIMEOUT") {
  PostgresFixture pg;
  if (!pg.options) return;
  DriverConnection connection(pg.plugin, *pg.options);
  const auto answer = connection.query(
      "WITH RECURSIVE n(x) AS (SELECT 1::bigint UNION ALL SELECT x + 1 FROM n) SELECT count(*) FROM n",
      json::object(), 10, 100);
  CHECK(answer.status == PLEXUS_ERR_TIMEOUT);
  CHECK(answer.text == "query failed: timed out after 100 ms");
  const auto sleep = connection.execute("SELECT pg_sleep(5)", json::object(), 100);
  CHECK(sleep.status == PLEXUS_ERR_TIMEOUT);
  CHECK(connection.query("SELECT 1").status == PLEXUS_OK);
}

TEST_CASE("postgres: schema lists tables and views with columns, primary and foreign keys") {
  PostgresFixture pg;
  if (!pg.options) return;
  DriverConnection connection(pg.plugin, *pg.options);
  const json tables = connection.schema().json()["tables"];
  REQUIRE(tables.size() == 3);
  CHECK(tables[0]["name"] == "busy_servers");
  CHECK(tables[0]["type"] == "view");
  const json& servers = tables[1];
  CHECK(servers["name"] == "servers");
  CHECK(servers["type"] == "table");
  CHECK(servers["columns"][0] ==
        json::parse(R"({"name":"id","type":"integer","nullable":false,"primary_key":true})"));
  CHECK(servers["columns"][1] ==
        json::parse(R"({"name":"name","type":"text","nullable":false,"primary_key":false})"));
  CHECK(servers["columns"][5]["type"] == "jsonb");
  REQUIRE(servers["foreign_keys"].size() == 1);
  CHECK(servers["foreign_keys"][0]["columns"] == json{"site_id"});
  CHECK(servers["foreign_keys"][0]["table"] == "sites");
  CHECK(servers["foreign_keys"][0]["references"] == json{"id"});
  CHECK(tables[2]["name"] == "sites");
  CHECK(tables[2]["schema"] == servers["schema"]);
}

TEST_CASE("postgres: ping answers ok and the server version") {
  PostgresFixture pg;
  if (!pg.options) return;
  DriverConnection connection(pg.plugin, *pg.options);
  const json ping = connection.ping().json();
  CHECK(ping["ok"] == true);
  CHECK(ping["version"].get<std::string>().rfind("PostgreSQL ", 0) == 0);
}

TEST_CASE("postgres: a read-only datasource has the server refuse INSERT, UPDATE, DELETE and CREATE") {
  PostgresFixture pg;
  if (!pg.options) return;
  DriverConnection connection(pg.plugin, *pg.options);
  for (const char* statement :
       {"INSERT INTO sites VALUES ('djn', 'Daejeon')", "UPDATE servers SET cpu = 0", "DELETE FROM servers",
        "CREATE TABLE extra (x int)", "INSERT INTO sites VALUES ('djn', 'Daejeon') RETURNING id"}) {
    INFO(statement);
    for (const auto& answer : {connection.execute(statement), connection.query(statement)}) {
      CHECK(answer.status == PLEXUS_ERR_DENIED);
      CHECK(answer.text.rfind("datasource is read-only: cannot execute ", 0) == 0);
    }
  }
  // The session's own setting cannot lift it: every call is its own READ ONLY transaction.
  CHECK(connection.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE").status == PLEXUS_OK);
  CHECK(connection.execute("DELETE FROM servers").status == PLEXUS_ERR_DENIED);
  CHECK(connection.query("SELECT count(*) FROM servers").json()["rows"][0][0] == 4);
}

TEST_CASE("postgres: a writable datasource writes and counts changed rows") {
  PostgresFixture pg;
  if (!pg.options) return;
  DriverConnection connection(pg.plugin, writable(*pg.options));
  CHECK(connection.execute("INSERT INTO sites VALUES (:id, :name)", {{"id", "djn"}, {"name", "Daejeon"}})
            .json() == json{{"changed", 1}});
  CHECK(connection.execute("UPDATE servers SET cpu = 1 WHERE site_id = 'seo'").json()["changed"] == 2);
  CHECK(connection.execute("SELECT * FROM servers").json()["changed"] == 0);
  CHECK(connection.execute("CREATE TABLE extra (x int)").json()["changed"] == 0);
  const json returned =
      connection.query("INSERT INTO extra VALUES (7), (8) RETURNING x", json::object(), 1).json();
  CHECK(returned["rows"] == json::parse("[[7]]"));
  CHECK(returned["truncated"] == true);
  // Rows past max_rows are dropped from the answer, not from the table.
  CHECK(connection.query("SELECT count(*) FROM extra").json()["rows"][0][0] == 2);
  CHECK(connection.execute("DELETE FROM servers").json()["changed"] == 4);
}

TEST_CASE("postgres: failures name what failed, and a broken connection is PLEXUS_ERR_UNAVAILABLE") {
  PostgresFixture pg;
  if (!pg.options) return;
  DriverConnection connection(pg.plugin, *pg.options);
  const auto missing = connection.query("SELECT * FROM foo");
  CHECK(missing.status == PLEXUS_ERR_INVALID);
  CHECK(missing.text == "query failed: relation \"foo\" does not exist");
  const auto two = connection.query("SELECT 1; SELECT 2");
  CHECK(two.status == PLEXUS_ERR_INVALID);
  CHECK(connection.query("SELECT 1").status == PLEXUS_OK);

  const int pid = connection.query("SELECT pg_backend_pid()").json()["rows"][0][0];
  DriverConnection other(pg.plugin, *pg.options);
  REQUIRE(other.query("SELECT pg_terminate_backend(:pid)", {{"pid", pid}}).json()["rows"][0][0] == true);
  const auto lost = connection.query("SELECT 1");
  CHECK(lost.status == PLEXUS_ERR_UNAVAILABLE);
  CHECK(connection.ping().status == PLEXUS_ERR_UNAVAILABLE);
}

TEST_CASE("postgres: a wrong password answers PLEXUS_ERR_UNAVAILABLE without the password") {
  TempDir dir;
  const auto options = fresh_postgres(dir, true);
  if (!options) return;
  ConnectorPlugin plugin("connector-postgres");
  json wrong = *options;
  wrong["password"] = made_up_password();
  void* connection = nullptr;
  const auto answer = plugin.open(wrong, &connection);
  CHECK(answer.status == PLEXUS_ERR_UNAVAILABLE);
  CHECK(answer.text.find("password authentication failed") != std::string::npos);
  CHECK(answer.text.find(wrong["password"].get<std::string>()) == std::string::npos);
}

}  // namespace plexus::test
