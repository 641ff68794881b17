// connector-sqlite: the "sqlite" driver on database files the test makes through it.

#include <catch2/catch.hpp>

#include "tests/connectors/connector_harness.hpp"
#include "tests/support/test_support.hpp"

namespace plexus::test {
namespace {

using nlohmann::json;

// A database with two related tables and a view, in a directory the plugin may open.
struct SqliteFixture {
  TempDir dir;
  ConnectorPlugin plugin{"connector-sqlite", {{"allowed_paths", {dir.path().string()}}}};
  std::string path = dir.write("ops.db", "").string();  // an empty file is an empty database

  SqliteFixture() {
    DriverConnection writer(plugin, options(false));
    for (const char* statement : {
             "CREATE TABLE sites (id TEXT PRIMARY KEY, name TEXT NOT NULL)",
             "CREATE TABLE servers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, site_id TEXT REFERENCES "
             "sites (id), "
             "cpu REAL)",
             "CREATE TABLE links (server_id INTEGER REFERENCES servers, peer TEXT)",
             "CREATE VIEW busy_servers AS SELECT name, cpu FROM servers WHERE cpu > 50",
             "INSERT INTO sites VALUES ('seo', 'Seoul'), ('bsn', 'Busan')",
             "INSERT INTO servers (name, site_id, cpu) VALUES ('web-1', 'seo', 12.5), ('web-2', 'seo', "
             "80.0), "
             "('db-1', 'bsn', 55.25), ('db-2', 'bsn', NULL)",
         }) {
      INFO(statement);
      REQUIRE(writer.execute(statement).status == PLEXUS_OK);
    }
  }
  json options(bool read_only) const {
    return {{"driver", "sqlite"}, {"path", path}, {"read_only", read_only}};
  }
};

}  // namespace

TEST_CASE("sqlite: the plugin registers the sqlite driver and its options schema") {
  ConnectorPlugin plugin("connector-sqlite");
  const plexus_driver& driver = plugin.driver();
  CHECK(std::string(driver.name.ptr, driver.name.len) == "sqlite");
  const json schema = json::parse(std::string(driver.options_schema.ptr, driver.options_schema.len));
  CHECK(schema["required"] == json{"path"});
  CHECK(schema["additionalProperties"] == false);
  CHECK(schema["properties"].contains("read_only"));
  CHECK(plugin.secret_fields().empty());
  CHECK((driver.open && driver.close && driver.query && driver.execute && driver.schema && driver.ping));
}

TEST_CASE("sqlite: a query binds :name parameters and answers columns, rows and truncated") {
  SqliteFixture db;
  DriverConnection connection(db.plugin, db.options(true));

  const json result =
      connection
          .query("SELECT id, name, cpu FROM servers WHERE site_id = :site ORDER BY id", {{"site", "bsn"}})
          .json();
  CHECK(result["columns"] == json::parse(R"([{"name":"id","type":"integer"},{"name":"name","type":"text"},
                                             {"name":"cpu","type":"real"}])"));
  CHECK(result["rows"] == json::parse(R"([[3,"db-1",55.25],[4,"db-2",null]])"));
  CHECK(result["truncated"] == false);

  SECTION("a name used twice is one parameter") {
    const json rows =
        connection
            .query("SELECT name FROM servers WHERE site_id = :x OR name = :x ORDER BY id", {{"x", "web-2"}})
            .json()["rows"];
    CHECK(rows == json::parse(R"([["web-2"]])"));
  }
  SECTION("a column without a declared type takes its first value's storage class") {
    const json answer =
        connection
            .query("SELECT count(*) AS n, avg(cpu) AS mean, :label AS label FROM servers", {{"label", "all"}})
            .json();
    CHECK(answer["columns"] == json::parse(R"([{"name":"n","type":"integer"},{"name":"mean","type":"real"},
                                                {"name":"label","type":"text"}])"));
    CHECK(answer["rows"][0][0] == 4);
  }
  SECTION("JSON values bind as numbers, 1/0, NULL and JSON text") {
    const json row =
        connection
            .query("SELECT :i + 1, :f * 2, :yes, :nothing IS NULL, json_extract(:list, '$[1]')",
                   {{"i", 41}, {"f", 1.25}, {"yes", true}, {"nothing", nullptr}, {"list", {1, 2}}})
            .json()["rows"][0];
    CHECK(row == json::parse("[42, 2.5, 1, 1, 2]"));
  }
}

TEST_CASE("sqlite: a missing, unknown or unnamed parameter is refused, naming it") {
  SqliteFixture db;
  DriverConnection connection(db.plugin, db.options(true));
  const auto missing = connection.query("SELECT * FROM servers WHERE site_id = :site");
  CHECK(missing.status == PLEXUS_ERR_INVALID);
  CHECK(missing.text == "missing parameter \"site\" for :site");

  const auto unknown =
      connection.query("SELECT * FROM servers WHERE site_id = :site", {{"site", "seo"}, {"sight", 1}});
  CHECK(unknown.status == PLEXUS_ERR_INVALID);
  CHECK(unknown.text == "unknown parameter \"sight\": the statement has no :sight");

  const auto positional = connection.query("SELECT * FROM servers WHERE site_id = ?");
  CHECK(positional.status == PLEXUS_ERR_INVALID);
  CHECK(positional.text == "use :name placeholders, not ?");

  const auto not_object = connection.query("SELECT 1", json::array({1}));
  CHECK(not_object.status == PLEXUS_ERR_INVALID);
}

TEST_CASE("sqlite: values are bound, never spliced into the SQL") {
  SqliteFixture db;
  DriverConnection connection(db.plugin, db.options(false));
  const json rows = connection.query("SELECT name FROM servers WHERE name = :name", {{"name", "' OR 1=1 --"}})
                        .json()["rows"];
  CHECK(rows.empty());
  CHECK(connection.execute("DELETE FROM servers WHERE name = :name", {{"name", "x'; DROP TABLE servers; --"}})
            .json()["changed"] == 0);
  CHECK(connection.query("SELECT count(*) FROM servers").json()["rows"][0][0] == 4);

  const auto two = connection.query("SELECT 1; DROP TABLE servers");
  CHECK(two.status == PLEXUS_ERR_INVALID);
  CHECK(two.text == "query failed: more than one statement; send them one at a time");
  CHECK(connection.query("SELECT count(*) FROM servers").json()["rows"][0][0] == 4);
}

TEST_CASE("sqlite: max_rows cuts the result and sets truncated") {
  SqliteFixture db;
  DriverConnection connection(db.plugin, db.options(true));
  const json cut = connection.query("SELECT id FROM servers ORDER BY id", json::object(), 2).json();
  CHECK(cut["rows"] == json::parse("[[1],[2]]"));
  CHECK(cut["truncated"] == true);
  const json exact = connection.query("SELECT id FROM servers ORDER BY id", json::object(), 4).json();
  CHECK(exact["rows"].size() == 4);
  CHECK(exact["truncated"] == false);
}

TEST_CASE("sqlite: a statement running past timeout_ms is stopped with PLEXUS_ERR_TIMEOUT") {
  SqliteFixture db;
  DriverConnection connection(db.plugin, db.options(true));
  // The query never ends on its own: only the timeout can stop it.
  const auto answer = connection.query(
      "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT count(*) FROM n",
      json::object(), 10, 100);
  CHECK(answer.status == PLEXUS_ERR_TIMEOUT);
  CHECK(answer.text == "query failed: timed out after 100 ms");
  CHECK(connection.query("SELECT 1").status == PLEXUS_OK);  // the connection goes on
}

TEST_CASE("sqlite: schema lists tables and views with columns, primary and foreign keys") {
  SqliteFixture db;
  DriverConnection connection(db.plugin, db.options(true));
  const json tables = connection.schema().json()["tables"];
  REQUIRE(tables.size() == 4);
  CHECK(tables[0]["name"] == "busy_servers");
  CHECK(tables[0]["type"] == "view");
  CHECK(tables[0]["foreign_keys"].empty());

  const json& links = tables[1];
  CHECK(links["name"] == "links");
  // A key naming no parent columns refers to the parent's primary key.
  CHECK(links["foreign_keys"] ==
        json::parse(R"([{"columns":["server_id"],"table":"servers","references":["id"]}])"));

  const json& servers = tables[2];
  CHECK(servers["name"] == "servers");
  CHECK(servers["type"] == "table");
  CHECK(servers["columns"] == json::parse(R"([
    {"name":"id","type":"integer","nullable":false,"primary_key":true},
    {"name":"name","type":"text","nullable":false,"primary_key":false},
    {"name":"site_id","type":"text","nullable":true,"primary_key":false},
    {"name":"cpu","type":"real","nullable":true,"primary_key":false}])"));
  CHECK(servers["foreign_keys"] ==
        json::parse(R"([{"columns":["site_id"],"table":"sites","references":["id"]}])"));
  CHECK(tables[3]["name"] == "sites");
}

TEST_CASE("sqlite: ping answers ok and the SQLite version") {
  SqliteFixture db;
  DriverConnection connection(db.plugin, db.options(true));
  const json ping = connection.ping().json();
  CHECK(ping["ok"] == true);
  CHECK(ping["version"].get<std::string>().rfind("SQLite 3.", 0) == 0);
}

TEST_CASE("sqlite: a read-only datasource refuses INSERT, UPDATE, DELETE and CREATE") {
  SqliteFixture db;
  DriverConnection connection(db.plugin, db.options(true));
  for (const char* statement : {"INSERT INTO sites VALUES ('djn', 'Daejeon')", "UPDATE servers SET cpu = 0",
                                "DELETE FROM servers", "CREATE TABLE extra (x)", "DROP TABLE servers",
                                "INSERT INTO sites VALUES ('djn', 'Daejeon') RETURNING id"}) {
    INFO(statement);
    for (const auto& answer : {connection.execute(statement), connection.query(statement)}) {
      CHECK(answer.status == PLEXUS_ERR_DENIED);
      CHECK(answer.text.rfind("datasource is read-only: ", 0) == 0);
    }
  }
  // Switching SQLite's own guard off from SQL changes nothing.
  CHECK(connection.execute("PRAGMA query_only = OFF").status == PLEXUS_OK);
  CHECK(connection.execute("INSERT INTO sites VALUES ('djn', 'Daejeon')").status == PLEXUS_ERR_DENIED);
  CHECK(connection.query("SELECT count(*) FROM servers").json()["rows"][0][0] == 4);
}

TEST_CASE("sqlite: a writable datasource writes and counts changed rows") {
  SqliteFixture db;
  DriverConnection connection(db.plugin, db.options(false));
  CHECK(connection.execute("INSERT INTO sites VALUES (:id, :name)", {{"id", "djn"}, {"name", "Daejeon"}})
            .json() == json{{"changed", 1}});
  CHECK(connection.execute("UPDATE servers SET cpu = 1 WHERE site_id = 'seo'").json()["changed"] == 2);
  CHECK(connection.execute("CREATE TABLE extra (x)").json()["changed"] == 0);
  CHECK(connection.execute("DELETE FROM servers").json()["changed"] == 4);
  const json returned = connection.query("INSERT INTO extra VALUES (7) RETURNING x").json();
  CHECK(returned["rows"] == json::parse("[[7]]"));
}

TEST_CASE("sqlite: a statement run again reuses its prepared form with the new values") {
  SqliteFixture db;
  DriverConnection reader(db.plugin, db.options(true));
  DriverConnection writer(db.plugin, db.options(false));
  const std::string by_id = "SELECT name FROM servers WHERE id = :id";
  CHECK(reader.query(by_id, {{"id", 1}}).json()["rows"] == json::parse(R"([["web-1"]])"));
  CHECK(reader.query(by_id, {{"id", 3}}).json()["rows"] == json::parse(R"([["db-1"]])"));

  SECTION("a call that failed binding leaves nothing bound for the next one") {
    CHECK(reader.query(by_id, json::object()).status == PLEXUS_ERR_INVALID);
    CHECK(reader.query(by_id, {{"id", 2}}).json()["rows"] == json::parse(R"([["web-2"]])"));
  }
  SECTION("a cut result does not keep the database locked") {
    const std::string all = "SELECT id FROM servers ORDER BY id";
    CHECK(reader.query(all, json::object(), 1).json()["truncated"] == true);
    // A statement left mid-step would hold its read lock and keep this write waiting.
    CHECK(writer.execute("INSERT INTO sites VALUES ('icn', 'Incheon')", json::object(), 200).status ==
          PLEXUS_OK);
    CHECK(reader.query(all, json::object(), 10).json()["rows"].size() == 4);
  }
  SECTION("a schema change reaches a statement prepared before it") {
    // EXPLAIN answers from what it saw when prepared: it must be prepared anew each time.
    const std::string explain = "EXPLAIN SELECT name FROM servers WHERE id = :id";
    CHECK(reader.query(explain, {{"id", nullptr}}).status == PLEXUS_OK);
    CHECK(writer.execute("ALTER TABLE servers RENAME COLUMN name TO host").status == PLEXUS_OK);
    CHECK(reader.query(explain, {{"id", nullptr}}).status == PLEXUS_ERR_INVALID);
    const auto stale = reader.query(by_id, {{"id", 1}});
    CHECK(stale.status == PLEXUS_ERR_INVALID);
    CHECK_THAT(stale.text, Catch::Contains("no such column: name"));
    CHECK(reader.query("SELECT host FROM servers WHERE id = :id", {{"id", 1}}).json()["rows"] ==
          json::parse(R"([["web-1"]])"));
  }
  SECTION("more statements than the cache keeps all answer right") {
    for (int round = 0; round < 2; ++round) {
      for (int i = 0; i < 40; ++i) {
        const auto sql = "SELECT :v + " + std::to_string(i) + " AS n";
        INFO(sql);
        CHECK(reader.query(sql, {{"v", round}}).json()["rows"] == json::array({json::array({round + i})}));
      }
    }
  }
}

TEST_CASE("sqlite: failures name what failed") {
  SqliteFixture db;
  DriverConnection connection(db.plugin, db.options(true));
  const auto missing = connection.query("SELECT * FROM foo");
  CHECK(missing.status == PLEXUS_ERR_INVALID);
  CHECK(missing.text == "query failed: no such table: foo");
  const auto syntax = connection.execute("SELEC 1");
  CHECK(syntax.status == PLEXUS_ERR_INVALID);
  CHECK(syntax.text == "execute failed: near \"SELEC\": syntax error");
  CHECK(connection.query("  -- nothing\n").status == PLEXUS_ERR_INVALID);
}

TEST_CASE("sqlite: files outside allowed_paths, missing files, ATTACH and VACUUM are refused") {
  SqliteFixture db;
  TempDir elsewhere;
  const std::string outside = elsewhere.write("other.db", "").string();
  void* connection = nullptr;

  const auto denied = db.plugin.open({{"path", outside}, {"read_only", true}}, &connection);
  CHECK(denied.status == PLEXUS_ERR_DENIED);
  CHECK(denied.text ==
        "the path " + outside + " is outside the allowed_paths of the connector-sqlite plugin's config");
  const std::string escape = (db.dir.path() / ".." / elsewhere.path().filename() / "other.db").string();
  CHECK(db.plugin.open({{"path", escape}, {"read_only", true}}, &connection).status == PLEXUS_ERR_DENIED);

  const std::string absent = (db.dir.path() / "absent.db").string();
  const auto missing = db.plugin.open({{"path", absent}, {"read_only", true}}, &connection);
  CHECK(missing.status == PLEXUS_ERR_UNAVAILABLE);
  CHECK(missing.text == "cannot open " + absent + ": unable to open database file");
  CHECK_FALSE(std::filesystem::exists(absent));
  {
    DriverConnection created(db.plugin,
                             {{"path", absent}, {"read_only", false}});  // a writable one starts empty
    CHECK(created.execute("CREATE TABLE t (x)").status == PLEXUS_OK);
  }
  CHECK(std::filesystem::exists(absent));

  const std::string text = db.dir.write("notes.db", "these are not the pages of a database").string();
  const auto not_database = db.plugin.open({{"path", text}, {"read_only", true}}, &connection);
  CHECK(not_database.status == PLEXUS_ERR_UNAVAILABLE);
  CHECK(not_database.text == "cannot open " + text + ": file is not a database");

  CHECK(db.plugin.open({{"read_only", true}}, &connection).text ==
        "the datasource option \"path\" is required (a non-empty string)");

  DriverConnection open(db.plugin, db.options(false));
  const auto attach = open.execute("ATTACH :file AS other", {{"file", outside}});
  CHECK(attach.status == PLEXUS_ERR_DENIED);
  CHECK(attach.text == "execute failed: ATTACH and DETACH are not allowed: a datasource is one database");
  const auto vacuum = open.execute("VACUUM INTO :file", {{"file", (db.dir.path() / "copy.db").string()}});
  CHECK(vacuum.status == PLEXUS_ERR_DENIED);
  CHECK_FALSE(std::filesystem::exists(db.dir.path() / "copy.db"));
}

TEST_CASE("sqlite: without allowed_paths in its config the plugin opens no file") {
  TempDir dir;
  ConnectorPlugin plugin("connector-sqlite");
  void* connection = nullptr;
  const auto answer =
      plugin.open({{"path", dir.write("ops.db", "").string()}, {"read_only", true}}, &connection);
  CHECK(answer.status == PLEXUS_ERR_DENIED);
  CHECK(answer.text.find("lists no allowed_paths") != std::string::npos);
}

}  // namespace plexus::test
