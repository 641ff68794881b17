// connector-json-file: directories of JSON files the test writes, and the demo data set
// tools/demo-data/generate.py makes, served as SQLite tables.
#include <mutex>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/connectors/connector_harness.hpp"
#include "tests/support/test_support.hpp"

namespace plexus::test {
namespace {

using nlohmann::json;

constexpr const char* kServers = R"([
{"id":"srv-1","name":"web-1","site_id":"seo","cpu_cores":4,"load":0.5,"tags":["web","prod"],"active":true},
{"id":"srv-2","name":"db-1","site_id":"bsn","cpu_cores":16,"load":2,"active":false,"notes":null,
 "owner":{"team":"dba"}},
{"id":"srv-3","name":"db-2","site_id":"bsn","cpu_cores":16,"load":1.25,"active":true}
])";
constexpr const char* kSites = R"([{"id":"seo","name":"Seoul"},{"id":"bsn","name":"Busan"}])";

// The fixture tables in a directory the plugin may load from.
struct JsonFixture {
  TempDir dir;
  ConnectorPlugin plugin{"connector-json-file", {{"allowed_paths", {dir.path().string()}}}};
  std::filesystem::path tables = dir.path() / "tables";

  JsonFixture() {
    dir.write("tables/servers.json", kServers);
    dir.write("tables/sites.json", kSites);
    dir.write("tables/README.txt", "not a table");
    dir.write("tables/.draft.json", "not even JSON");
    dir.write("tables/archive/old.json", "[{\"id\": 1}]");
  }
  json options() const { return {{"driver", "json-file"}, {"path", tables.string()}}; }
  json options(bool read_only) const {
    json out = options();
    out["read_only"] = read_only;
    return out;
  }
};

}  // namespace

TEST_CASE("json-file: each file is a table with its columns in first-seen order, typed from the values") {
  JsonFixture fixture;
  DriverConnection connection(fixture.plugin, fixture.options(true));
  const json tables = connection.schema().json()["tables"];
  REQUIRE(tables.size() == 2);  // not README.txt, .draft.json or archive/old.json
  CHECK(tables[0]["name"] == "servers");
  CHECK(tables[0]["columns"] == json::parse(R"([
    {"name":"id","type":"text","nullable":true,"primary_key":false},
    {"name":"name","type":"text","nullable":true,"primary_key":false},
    {"name":"site_id","type":"text","nullable":true,"primary_key":false},
    {"name":"cpu_cores","type":"integer","nullable":true,"primary_key":false},
    {"name":"load","type":"real","nullable":true,"primary_key":false},
    {"name":"tags","type":"text","nullable":true,"primary_key":false},
    {"name":"active","type":"integer","nullable":true,"primary_key":false},
    {"name":"notes","type":"text","nullable":true,"primary_key":false},
    {"name":"owner","type":"text","nullable":true,"primary_key":false}])"));
  CHECK(tables[1]["name"] == "sites");

  const json rows =
      connection.query("SELECT id, load, tags, active, notes, owner FROM servers ORDER BY id").json()["rows"];
  CHECK(rows[0] == json::parse(R"(["srv-1", 0.5, "[\"web\",\"prod\"]", 1, null, null])"));
  CHECK(rows[1] == json::parse(R"(["srv-2", 2.0, null, 0, null, "{\"team\":\"dba\"}"])"));

  // "id" and "*_id" columns are indexed, for joins.
  const json indexes =
      connection.query("SELECT name FROM sqlite_schema WHERE type = 'index' ORDER BY name").json();
  CHECK(indexes["rows"] == json::parse(R"([["servers.id"],["servers.site_id"],["sites.id"]])"));
}

TEST_CASE("json-file: the same SQL as on a database: joins, :name parameters, max_rows, timeouts") {
  JsonFixture fixture;
  DriverConnection connection(fixture.plugin, fixture.options());
  const json joined = connection
                          .query(
                              "SELECT s.name, t.name AS site FROM servers s JOIN sites t ON t.id = s.site_id "
                              "WHERE s.cpu_cores >= :cores ORDER BY s.id",
                              {{"cores", 8}})
                          .json();
  CHECK(joined["rows"] == json::parse(R"([["db-1","Busan"],["db-2","Busan"]])"));
  CHECK(connection.query("SELECT name FROM servers WHERE name = :name", {{"name", "' OR 1=1 --"}})
            .json()["rows"]
            .empty());
  CHECK(connection.query("SELECT id FROM servers WHERE site_id = :site").text ==
        "missing parameter \"site\" for :site");
  const json cut = connection.query("SELECT id FROM servers ORDER BY id", json::object(), 1).json();
  CHECK(cut["rows"] == json::parse(R"([["srv-1"]])"));
  CHECK(cut["truncated"] == true);
  const auto slow = connection.query(
      "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT count(*) FROM n",
      json::object(), 10, 100);
  CHECK(slow.status == PLEXUS_ERR_TIMEOUT);
  CHECK(connection.ping().json()["ok"] == true);
}

TEST_CASE(
    "json-file: read-only by default, and writable connections change their own copy, never the files") {
  JsonFixture fixture;
  {
    DriverConnection connection(fixture.plugin, fixture.options());
    for (const char* statement :
         {"INSERT INTO sites VALUES ('djn', 'Daejeon')", "UPDATE servers SET load = 0", "DELETE FROM servers",
          "CREATE TABLE extra (x)"}) {
      INFO(statement);
      const auto answer = connection.execute(statement);
      CHECK(answer.status == PLEXUS_ERR_DENIED);
      CHECK(answer.text.rfind("datasource is read-only: ", 0) == 0);
    }
    CHECK(connection.execute("PRAGMA query_only = OFF").status == PLEXUS_OK);
    CHECK(connection.execute("DELETE FROM servers").status == PLEXUS_ERR_DENIED);
  }
  DriverConnection writer(fixture.plugin, fixture.options(false));
  CHECK(writer.execute("DELETE FROM servers WHERE site_id = :site", {{"site", "bsn"}}).json()["changed"] ==
        2);
  CHECK(writer.query("SELECT count(*) FROM servers").json()["rows"][0][0] == 1);
  DriverConnection other(fixture.plugin, fixture.options(false));
  CHECK(other.query("SELECT count(*) FROM servers").json()["rows"][0][0] == 3);
  CHECK(read_file(fixture.tables / "servers.json") == kServers);
}

TEST_CASE("json-file: a file that changed is loaded again by the next connection") {
  JsonFixture fixture;
  DriverConnection before(fixture.plugin, fixture.options());
  CHECK(before.query("SELECT count(*) FROM sites").json()["rows"][0][0] == 2);
  fixture.dir.write("tables/sites.json", R"([{"id":"seo"},{"id":"bsn"},{"id":"djn"}])");
  DriverConnection after(fixture.plugin, fixture.options());
  CHECK(after.query("SELECT count(*) FROM sites").json()["rows"][0][0] == 3);
  CHECK(before.query("SELECT count(*) FROM sites").json()["rows"][0][0] == 2);
}

TEST_CASE("json-file: connections open and query on several threads at once, while a file changes") {
  JsonFixture fixture;
  const plexus_driver& driver = fixture.plugin.driver();
  std::mutex mutex;
  std::vector<std::string> failures;
  // Catch's assertions are for one thread: the workers collect failures, the test checks them.
  const auto failed = [&](std::string message) {
    std::lock_guard lock(mutex);
    failures.push_back(std::move(message));
  };
  const auto worker = [&] {
    for (int i = 0; i < 20; ++i) {
      void* connection = nullptr;
      if (const auto opened = fixture.plugin.open(fixture.options(), &connection);
          opened.status != PLEXUS_OK) {
        failed(opened.text);
        continue;
      }
      const std::string sql = "SELECT count(*) FROM servers s JOIN sites t ON t.id = s.site_id";
      const plexus_driver_query query{
          sizeof(plexus_driver_query), {sql.data(), sql.size()}, {"{}", 2}, 10, 5000};
      std::string answer;
      const auto append = [](void* out, plexus_str data) {
        static_cast<std::string*>(out)->append(data.ptr, data.len);
      };
      if (driver.query(driver.user_data, connection, &query, append, &answer) != PLEXUS_OK) failed(answer);
      driver.close(driver.user_data, connection);
    }
  };
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) threads.emplace_back(worker);
  // Replaced as an operator should: written aside (a hidden file is no table), then renamed.
  for (int i = 0; i < 5; ++i) {
    fixture.dir.write("tables/.sites.json.new", std::string(kSites) + std::string(i, ' '));
    std::filesystem::rename(fixture.tables / ".sites.json.new", fixture.tables / "sites.json");
  }
  for (auto& thread : threads) thread.join();
  INFO("failures: " << json(failures).dump());
  CHECK(failures.empty());
}

TEST_CASE("json-file: a malformed file is refused, naming the file and what is wrong") {
  const auto open_error = [&](const std::string& file, const std::string& content) {
    TempDir dir;
    ConnectorPlugin plugin("connector-json-file", {{"allowed_paths", {dir.path().string()}}});
    dir.write(file, content);
    void* connection = nullptr;
    const DriverAnswer answer =
        plugin.open({{"path", dir.path().string()}, {"read_only", true}}, &connection);
    CHECK(answer.status == PLEXUS_ERR_INVALID);
    return answer.text;
  };
  CHECK(open_error("servers.json", R"([{"id":1},{"id":2},3])") == "servers.json: row 3 is not an object");
  CHECK(open_error("servers.json", R"({"columns":["id"],"rows":[[1]]})") ==
        "servers.json: expected an array of objects, one per row, got an object");
  CHECK(open_error("servers.json", "[{\"id\": 1},]")
            .rfind("servers.json: not valid JSON: parse error at line 1", 0) == 0);
  CHECK(open_error("sqlite_stat1.json", "[{\"id\": 1}]") ==
        "sqlite_stat1.json: table names starting with sqlite_ are reserved");
  CHECK(open_error("notes.txt", "").rfind("no table files (<table>.json) in the directory ", 0) == 0);
  CHECK(open_error("empty.json", "[]").rfind("no tables in ", 0) == 0);
}

TEST_CASE("json-file: an empty array makes no table, and the log says so") {
  JsonFixture fixture;
  fixture.dir.write("tables/incidents.json", "[]\n");
  DriverConnection connection(fixture.plugin, fixture.options());
  CHECK(connection.query("SELECT count(*) FROM sites").status == PLEXUS_OK);
  CHECK(connection.query("SELECT * FROM incidents").text == "query failed: no such table: incidents");
  const auto log = fixture.plugin.log();
  REQUIRE(log.size() == 1);
  CHECK(log[0].find("incidents.json is an empty array") != std::string::npos);
}

TEST_CASE("json-file: directories outside allowed_paths are refused") {
  JsonFixture fixture;
  TempDir elsewhere;
  elsewhere.write("sites.json", kSites);
  void* connection = nullptr;
  const auto answer =
      fixture.plugin.open({{"path", elsewhere.path().string()}, {"read_only", true}}, &connection);
  CHECK(answer.status == PLEXUS_ERR_DENIED);
  const auto absent = fixture.plugin.open({{"path", (fixture.dir.path() / "absent").string()}}, &connection);
  CHECK(absent.status == PLEXUS_ERR_UNAVAILABLE);
  CHECK(absent.text.rfind("cannot read the directory ", 0) == 0);
}

TEST_CASE("json-file: the demo data set of tools/demo-data/generate.py loads and joins") {
  TempDir dir;
  const auto generated =
      run_command({"python3", (source_dir() / "tools/demo-data/generate.py").string(), "--out",
                   (dir.path() / "demo").string(), "--days", "3", "--scale", "0.5"});
  INFO(generated.err);
  REQUIRE(generated.exit_code == 0);
  ConnectorPlugin plugin("connector-json-file", {{"allowed_paths", {dir.path().string()}}});
  DriverConnection connection(plugin, {{"path", (dir.path() / "demo").string()}, {"read_only", true}});

  const json tables = connection.schema().json()["tables"];
  CHECK(tables.size() == 13);
  const json per_site = connection
                            .query(
                                "SELECT t.code, count(*) FROM servers s JOIN sites t ON t.id = s.site_id "
                                "WHERE s.environment = :environment GROUP BY t.code ORDER BY t.code",
                                {{"environment", "prod"}})
                            .json();
  CHECK(per_site["rows"].size() == 5);
  const json metrics = connection.query("SELECT count(*), typeof(min(value)) FROM metrics").json()["rows"][0];
  CHECK(metrics[0].get<int>() > 1000);
  CHECK(metrics[1] == "real");
}

}  // namespace plexus::test
