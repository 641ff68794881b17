// The execution log (issue 7 item 3) on both kernel databases: recording runs and
// steps, browsing with filters and paging, one run with its steps, tenant isolation,
// retention, a failed write that neither throws nor leaks the parameters, and the REST
// routes. The host is tests/store_host: the plugin's SQL runs on a real SQLite file and
// a real PostgreSQL schema through the kernel's own store functions.
#include "exec_log.hpp"

#include <set>
#include <thread>

#include <catch2/catch.hpp>

#include "store_host.hpp"
#include "tests/support/postgres_db.hpp"

using namespace plexus::api_manager;
using plexus::api_manager::test::StoreHost;
using plexus::api_manager::test::TestCaller;
using std::chrono::system_clock;

namespace {

ExecRecord run(const std::string& api, int status = 200, const std::string& tenant = "default") {
  ExecRecord record;
  record.tenant = tenant;
  record.api_id = api;
  record.revision = 3;
  record.stage = "production";
  record.caller = "user:alice";
  record.request_id = "req-" + api;
  record.method = "GET";
  record.path = "/runtime/ops/" + api;
  record.params = {{"id", 42}};
  record.status = status;
  if (status >= 400) {
    record.error_class = status == 400 ? "validation" : "datasource";
    record.error = "it failed";
  }
  record.duration_ms = 1.5;
  record.rows = status < 400 ? 1 : -1;
  record.started_at = system_clock::now();
  return record;
}

std::vector<std::int64_t> ids_of(const nlohmann::json& page) {
  std::vector<std::int64_t> out;
  for (const auto& item : page.at("items")) out.push_back(item.at("id").get<std::int64_t>());
  return out;
}

struct Fixture {
  plexus::test::StoreBackend backend;
  plexus::test::TempDir dir;
  StoreHost store{backend.fresh_url(dir)};
  ExecLog log{store.host()};
};

}  // namespace

TEST_CASE("a run is recorded with every field and its steps, and read back") {
  Fixture f;
  auto record = run("servers");
  record.params = {{"id", 42},
                   {"name", "db-01"},
                   {"long", std::string(5000, 'x')},
                   {"tags", nlohmann::json::array({"a", "b"})}};
  record.steps = {{"load", "ok", 2.25, 10, ""}, {"notify", "error", 0.5, -1, "webhook answered 502"}};
  const auto id = f.log.record(record);
  REQUIRE(id);

  const auto item = f.log.get("default", *id);
  REQUIRE(item);
  CHECK(item->at("id") == *id);
  CHECK(item->at("api_id") == "servers");
  CHECK(item->at("revision") == 3);
  CHECK(item->at("stage") == "production");
  CHECK(item->at("caller") == "user:alice");
  CHECK(item->at("request_id") == "req-servers");
  CHECK(item->at("method") == "GET");
  CHECK(item->at("path") == "/runtime/ops/servers");
  CHECK(item->at("status") == 200);
  CHECK(item->at("outcome") == "ok");
  CHECK(item->at("error_class") == "");
  CHECK(item->at("duration_ms").get<double>() == Approx(1.5));
  CHECK(item->at("rows") == 1);
  CHECK(item->at("started_at") == format_utc(record.started_at));
  CHECK(item->at("step_count") == 2);
  CHECK(item->at("steps_truncated") == false);

  // Parameters are kept, long values cut (and marked so).
  const auto& params = item->at("params");
  CHECK(params.at("id") == 42);
  CHECK(params.at("name") == "db-01");
  CHECK(params.at("tags") == nlohmann::json::array({"a", "b"}));
  const auto long_value = params.at("long").get<std::string>();
  CHECK(long_value.size() < 1100);
  CHECK(long_value.find("(5000 bytes)") != std::string::npos);

  const auto& steps = item->at("steps");
  REQUIRE(steps.size() == 2);
  CHECK(steps[0] == nlohmann::json{{"seq", 0},
                                   {"name", "load"},
                                   {"status", "ok"},
                                   {"duration_ms", 2.25},
                                   {"rows", 10},
                                   {"error", ""}});
  CHECK(steps[1].at("name") == "notify");
  CHECK(steps[1].at("rows").is_null());
  CHECK(steps[1].at("error") == "webhook answered 502");
}

TEST_CASE("runs written before schema version 4 are kept by the upgrade, and on SQLite the id is the rowid") {
  plexus::test::StoreBackend backend;
  plexus::test::TempDir dir;
  StoreHost store{backend.fresh_url(dir)};
  auto older = nlohmann::json::parse(schema_migrations());
  REQUIRE(older.size() >= 4);
  older.erase(older.begin() + 3, older.end());
  store.host().db_migrate(older.dump());
  const auto sqlite = backend.name() == "sqlite";
  const auto id_indexes = [&store] {
    return nlohmann::json::parse(store.host().db_query("SELECT COUNT(*) AS n FROM sqlite_master WHERE "
                                                       "name LIKE 'sqlite_autoindex_api_manager_exec_log%'"))
        .at("rows")[0][0];
  };
  if (sqlite) CHECK(id_indexes() == 1);  // BIGINT PRIMARY KEY: an index beside the table
  // A run as release 3 of the schema holds it.
  const std::int64_t before = 1700000000000000;
  store.host().db_exec(
      "INSERT INTO api_manager_exec_log (id, tenant_id, api_id, revision, stage, caller, request_id, method, path, "
      "params, status, error_class, error, duration_ms, row_count, started_at, step_count) VALUES (:id, 'default', "
      "'servers', 3, 'production', 'user:alice', 'req-1', 'GET', '/runtime/ops/servers', '{\"id\":42}', 200, '', "
      "'', 1.5, 1, :at, 0)",
      nlohmann::json{{"id", before}, {"at", format_utc(system_clock::now())}}.dump());

  ExecLog log{store.host()};
  const auto kept = log.get("default", before);
  REQUIRE(kept);
  CHECK(kept->at("api_id") == "servers");
  CHECK(kept->at("params") == nlohmann::json{{"id", 42}});
  const auto after = log.record(run("racks"));
  REQUIRE(after);
  CHECK(*after > before);
  CHECK(ids_of(log.browse("default", {})) == std::vector<std::int64_t>{*after, before});
  CHECK(ids_of(log.browse("default", ExecFilter{.api_id = "servers"})) == std::vector<std::int64_t>{before});
  if (sqlite) {
    CHECK(id_indexes() == 0);
    CHECK(nlohmann::json::parse(store.host().db_query("SELECT COUNT(*) FROM api_manager_exec_log WHERE rowid = id"))
              .at("rows")[0][0] == 2);
  }
}

TEST_CASE("text reaches the log as it was: quotes, newlines, non-ASCII, and bad UTF-8 as U+FFFD") {
  Fixture f;
  auto record = run("servers", 500);
  record.caller = "user:\"o'brien\"\\";
  record.path = "/runtime/ops/caf\xc3\xa9/\xe6\x9c\x8d\xe5\x8a\xa1";
  record.error = std::string("line 1\nline 2\ttab\x01") + "\xff\xfe end";
  record.params = {{"q", "a\"b\\c\n"}};
  record.steps = {{"st\"ep\n", "error", 0.125, 0, std::string(3000, 'e')}};
  record.duration_ms = 1e-7;
  // Through a buffered flush (the runtime's path) and a direct write.
  f.log.enqueue(record);
  f.log.flush();
  const auto direct = f.log.record(record);
  REQUIRE(direct);
  const auto page = f.log.browse("default", ExecFilter{});
  REQUIRE(page.at("items").size() == 2);
  for (const auto& listed : page.at("items")) {
    const auto item = f.log.get("default", listed.at("id").get<std::int64_t>());
    REQUIRE(item);
    CHECK(item->at("caller") == "user:\"o'brien\"\\");
    CHECK(item->at("path") == "/runtime/ops/caf\xc3\xa9/\xe6\x9c\x8d\xe5\x8a\xa1");
    CHECK(item->at("error") == "line 1\nline 2\ttab\x01\xef\xbf\xbd\xef\xbf\xbd end");
    CHECK(item->at("params") == nlohmann::json{{"q", "a\"b\\c\n"}});
    CHECK(item->at("duration_ms").get<double>() == Approx(1e-7));
    REQUIRE(item->at("steps").size() == 1);
    CHECK(item->at("steps")[0].at("name") == "st\"ep\n");
    const auto step_error = item->at("steps")[0].at("error").get<std::string>();
    CHECK(step_error.size() < 2100);
    CHECK(step_error.find("(3000 bytes)") != std::string::npos);
  }
}

TEST_CASE("a failed run keeps its status, class and message, and a run without rows shows null") {
  Fixture f;
  const auto id = f.log.record(run("servers", 502));
  REQUIRE(id);
  const auto item = f.log.get("default", *id);
  REQUIRE(item);
  CHECK(item->at("status") == 502);
  CHECK(item->at("outcome") == "error");
  CHECK(item->at("error_class") == "datasource");
  CHECK(item->at("error") == "it failed");
  CHECK(item->at("rows").is_null());
  CHECK(item->at("steps").empty());
}

TEST_CASE("many steps go in batches, and beyond the cap they are counted, not stored") {
  Fixture f;
  auto record = run("workflow");
  for (int i = 0; i < 230; ++i) record.steps.push_back({"step " + std::to_string(i), "ok", 0.1, i, ""});
  const auto id = f.log.record(record);
  REQUIRE(id);
  const auto item = f.log.get("default", *id);
  REQUIRE(item);
  CHECK(item->at("step_count") == 230);
  CHECK(item->at("steps_truncated") == true);
  REQUIRE(item->at("steps").size() == 200);
  CHECK(item->at("steps")[199].at("name") == "step 199");
  CHECK(item->at("steps")[60].at("rows") == 60);
}

TEST_CASE("browse lists newest first and filters by api, outcome, error class and time") {
  Fixture f;
  const auto before = system_clock::now() - std::chrono::hours(1);
  auto old_run = run("servers");
  old_run.started_at = before - std::chrono::hours(24);
  const auto a = *f.log.record(old_run);
  const auto b = *f.log.record(run("servers", 400));
  const auto c = *f.log.record(run("racks"));
  const auto d = *f.log.record(run("servers", 502));
  f.log.record(run("servers", 200, "other-tenant"));

  CHECK(ids_of(f.log.browse("default", {})) == std::vector<std::int64_t>{d, c, b, a});
  CHECK(ids_of(f.log.browse("default", {.api_id = "servers"})) == std::vector<std::int64_t>{d, b, a});
  CHECK(ids_of(f.log.browse("default", {.status = "ok"})) == std::vector<std::int64_t>{c, a});
  CHECK(ids_of(f.log.browse("default", {.status = "error"})) == std::vector<std::int64_t>{d, b});
  CHECK(ids_of(f.log.browse("default", {.error_class = "validation"})) == std::vector<std::int64_t>{b});
  CHECK(ids_of(f.log.browse("default", {.since = before})) == std::vector<std::int64_t>{d, c, b});
  CHECK(ids_of(f.log.browse("default", {.until = before})) == std::vector<std::int64_t>{a});
  CHECK(ids_of(f.log.browse("other-tenant", {})).size() == 1);
  CHECK(f.log.browse("nobody", {}).at("items").empty());

  const auto page = f.log.browse("default", {.api_id = "servers", .status = "error"});
  CHECK(page.at("next_cursor").is_null());
  CHECK(page.at("items")[0].at("step_count") == 0);
  CHECK_FALSE(page.at("items")[0].contains("steps"));
}

TEST_CASE("paging with limit and cursor visits every run once") {
  Fixture f;
  std::vector<std::int64_t> recorded;
  for (int i = 0; i < 7; ++i) recorded.push_back(*f.log.record(run("servers")));
  std::vector<std::int64_t> seen;
  ExecFilter filter{.limit = 3};
  int pages = 0;
  for (;;) {
    const auto page = f.log.browse("default", filter);
    ++pages;
    for (auto id : ids_of(page)) seen.push_back(id);
    if (page.at("next_cursor").is_null()) break;
    filter.cursor = std::stoll(page.at("next_cursor").get<std::string>());
  }
  CHECK(pages == 3);
  std::reverse(recorded.begin(), recorded.end());
  CHECK(seen == recorded);
}

TEST_CASE("get answers only the tenant's own runs") {
  Fixture f;
  const auto id = *f.log.record(run("servers", 200, "acme"));
  CHECK(f.log.get("acme", id));
  CHECK_FALSE(f.log.get("default", id));
  CHECK_FALSE(f.log.get("acme", id + 1));
}

TEST_CASE("runs recorded concurrently all get their own id") {
  Fixture f;
  std::vector<std::thread> threads;
  std::mutex mutex;
  std::set<std::int64_t> ids;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        const auto id = f.log.record(run("servers"));
        std::lock_guard lock(mutex);
        if (id) ids.insert(*id);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(ids.size() == 100);
  CHECK(f.log.write_failures() == 0);
  CHECK(f.log.browse("default", {.limit = 500}).at("items").size() == 100);
}

TEST_CASE("buffered runs wait for a flush, keep their order and steps, and reads flush first") {
  Fixture f;
  // More than one INSERT's worth, from several threads.
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) {
        auto record = run("servers");
        record.request_id = "req-" + std::to_string(t) + "-" + std::to_string(i);
        if (i == 0) record.steps = {{"lookup", "ok", 0.5, 2, ""}, {"notify", "error", 1.0, -1, "no answer"}};
        f.log.enqueue(std::move(record));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(f.log.pending() == 120);
  CHECK(f.store.query("SELECT id FROM api_manager_exec_log").size() == 0);
  f.log.flush();
  CHECK(f.log.pending() == 0);
  CHECK(f.store.query("SELECT id FROM api_manager_exec_log").size() == 120);

  // A read sees what was enqueued before it without an explicit flush.
  f.log.enqueue(run("racks"));
  const auto page = f.log.browse("default", {.limit = 500});
  REQUIRE(page.at("items").size() == 121);
  CHECK(page.at("items")[0].at("api_id") == "racks");  // newest first: enqueue order is id order
  std::size_t with_steps = 0;
  for (const auto& item : page.at("items")) {
    if (item.at("step_count") == 2) {
      ++with_steps;
      const auto run_with_steps = f.log.get("default", item.at("id").get<std::int64_t>());
      REQUIRE(run_with_steps);
      CHECK(run_with_steps->at("steps")[1].at("error") == "no answer");
    }
  }
  CHECK(with_steps == 3);
  CHECK(f.log.write_failures() == 0);
}

TEST_CASE("a buffered run that cannot be written is counted when flushed, without its parameters") {
  Fixture f;
  f.store.exec("DROP TABLE api_manager_exec_log");
  auto record = run("servers");
  record.params = {{"password", "hunter2-very-secret"}};
  f.log.enqueue(record);
  f.log.enqueue(run("servers"));
  f.log.flush();
  CHECK(f.log.write_failures() == 2);
  CHECK(f.store.metric_total("api_manager_exec_log_write_failures_total") == 2);
  for (const auto& line : f.store.log()) CHECK(line.find("hunter2") == std::string::npos);
}

TEST_CASE("a failed write neither throws nor logs the parameters, and is counted") {
  Fixture f;
  f.store.exec("DROP TABLE api_manager_exec_log");
  auto record = run("servers");
  record.params = {{"password", "hunter2-very-secret"}};
  CHECK_FALSE(f.log.record(record));
  CHECK(f.log.write_failures() == 1);
  CHECK(f.store.metric_total("api_manager_exec_log_write_failures_total") == 1);
  bool warned = false;
  for (const auto& line : f.store.log()) {
    INFO(line);
    CHECK(line.find("hunter2") == std::string::npos);
    CHECK(line.find("while executing") == std::string::npos);  // the statement and its bound values
    if (line.find("cannot record a run of API 'servers'") != std::string::npos) warned = true;
  }
  CHECK(warned);
}

TEST_CASE("prune removes runs recorded before the cut, with their steps") {
  Fixture f;
  auto with_steps = run("workflow");
  with_steps.steps = {{"a", "ok", 1, 1, ""}, {"b", "ok", 1, 1, ""}};
  const auto old1 = *f.log.record(with_steps);
  const auto old2 = *f.log.record(run("servers"));
  const auto cut = system_clock::now() + std::chrono::milliseconds(1);
  // Ids come from the clock at recording: let it pass the cut before the next runs.
  while (system_clock::now() <= cut + std::chrono::milliseconds(1)) std::this_thread::yield();
  const auto new1 = *f.log.record(with_steps);
  const auto new2 = *f.log.record(run("servers"));

  CHECK(f.log.prune(system_clock::now() - std::chrono::hours(1)) == 0);
  CHECK(f.log.prune(cut) == 2);
  CHECK_FALSE(f.log.get("default", old1));
  CHECK_FALSE(f.log.get("default", old2));
  CHECK(ids_of(f.log.browse("default", {})) == std::vector<std::int64_t>{new2, new1});
  CHECK(f.store.query("SELECT exec_id FROM api_manager_exec_step_log WHERE exec_id = :id", {{"id", old1}})
            .empty());
  CHECK(f.store.query("SELECT exec_id FROM api_manager_exec_step_log WHERE exec_id = :id", {{"id", new1}})
            .size() == 2);
}

TEST_CASE("prune works through a backlog larger than one batch") {
  Fixture f;
  for (int i = 0; i < 2100; ++i) f.log.record(run("servers"));
  CHECK(f.log.prune(system_clock::now() + std::chrono::hours(1)) == 2100);
  CHECK(f.log.browse("default", {}).at("items").empty());
}

TEST_CASE("retention: the config key, and the timers that prune") {
  CHECK(exec_log_retention(nlohmann::json::object()) == std::chrono::hours(24 * 30));
  CHECK(exec_log_retention({{"exec_log_retention", "12h"}}) == std::chrono::hours(12));
  CHECK(exec_log_retention({{"exec_log_retention", "90m"}}) == std::chrono::minutes(90));
  CHECK_THROWS_WITH(exec_log_retention({{"exec_log_retention", "soon"}}),
                    Catch::Contains("exec_log_retention"));
  CHECK_THROWS(exec_log_retention({{"exec_log_retention", 30}}));
  CHECK_THROWS(exec_log_retention({{"exec_log_retention", "0d"}}));

  Fixture f;
  f.log.record(run("servers"));
  const auto timer =
      start_exec_log_retention(f.store.host(), f.log, std::chrono::milliseconds(0), std::chrono::minutes(10));
  const auto timers = f.store.timers();
  REQUIRE(timers.size() == 2);
  CHECK(timers[0].repeat == false);  // once soon after start
  CHECK(timers[1].id == timer);
  CHECK(timers[1].repeat);
  CHECK(timers[1].interval_ms == 600'000);
  CHECK(f.store.fire_timers() == 2);
  CHECK(f.log.browse("default", {}).at("items").empty());
}

TEST_CASE("durations and times as text") {
  CHECK(parse_duration("500ms") == std::chrono::milliseconds(500));
  CHECK(parse_duration("45s") == std::chrono::seconds(45));
  CHECK(parse_duration("30d") == std::chrono::hours(720));
  for (const char* bad : {"", "d", "30", "30 d", "-1d", "1w", "3.5h", "9999999999d"}) {
    INFO(bad);
    CHECK_FALSE(parse_duration(bad));
  }

  const auto time = parse_utc("2026-11-27T09:07:03.123Z");
  REQUIRE(time);
  CHECK(format_utc(*time) == "2026-11-27T09:07:03.123Z");
  CHECK(format_utc(*parse_utc("2026-01-31T12:00:00Z")) == "2026-01-31T12:00:00.000Z");
  CHECK(*parse_utc("2026-01-31T12:00:00.5Z") - *parse_utc("2026-01-31T12:00:00Z") ==
        std::chrono::milliseconds(500));
  // Beyond what system_clock holds (2262): clamped, so a far "until" means no bound.
  CHECK(*parse_utc("2999-01-01T00:00:00Z") > *parse_utc("2200-01-01T00:00:00Z"));
  CHECK(*parse_utc("1600-01-01T00:00:00Z") < *parse_utc("1970-01-01T00:00:00Z"));
  for (const char* bad : {"2026-01-31", "2026-02-30T00:00:00Z", "2026-01-31T24:00:00Z", "2026-01-31T12:00:00",
                          "2026-01-31T12:00:00+01:00", "2026-01-31T12:00:00.Z", "yesterday"}) {
    INFO(bad);
    CHECK_FALSE(parse_utc(bad));
  }
}

TEST_CASE("REST: browse and get with the caller's tenant, and bad filters name the field") {
  Fixture f;
  register_exec_log_routes(f.store.host(), f.log, "/api/v1/api-manager");
  for (const auto& route : f.store.routes()) CHECK(route.permission == "api.read");
  CHECK(f.store.routes().size() == 2);

  auto record = run("servers", 502);
  record.steps = {{"query", "error", 3, -1, "connection refused"}};
  const auto failed = *f.log.record(record);
  const auto ok = *f.log.record(run("servers"));
  f.log.record(run("racks", 200, "acme"));

  auto response = f.store.call("GET", "/api/v1/api-manager/executions");
  REQUIRE(response.status == 200);
  CHECK(response.headers["Content-Type"] == "application/json");
  CHECK(ids_of(response.json()) == std::vector<std::int64_t>{ok, failed});

  response = f.store.call("GET", "/api/v1/api-manager/executions",
                          {{"api", "servers"},
                           {"status", "error"},
                           {"error_class", "datasource"},
                           {"since", "2000-01-01T00:00:00Z"},
                           {"until", "2999-01-01T00:00:00Z"},
                           {"limit", "10"}});
  REQUIRE(response.status == 200);
  CHECK(ids_of(response.json()) == std::vector<std::int64_t>{failed});

  response = f.store.call("GET", "/api/v1/api-manager/executions", {{"limit", "1"}});
  REQUIRE(response.status == 200);
  const auto cursor = response.json().at("next_cursor").get<std::string>();
  response = f.store.call("GET", "/api/v1/api-manager/executions", {{"limit", "1"}, {"cursor", cursor}});
  CHECK(ids_of(response.json()) == std::vector<std::int64_t>{failed});

  TestCaller acme;
  acme.tenant = "acme";
  response = f.store.call("GET", "/api/v1/api-manager/executions", {}, acme);
  REQUIRE(response.json().at("items").size() == 1);
  CHECK(response.json().at("items")[0].at("api_id") == "racks");

  response = f.store.call("GET", "/api/v1/api-manager/executions/" + std::to_string(failed));
  REQUIRE(response.status == 200);
  CHECK(response.json().at("steps")[0].at("error") == "connection refused");
  CHECK(f.store.call("GET", "/api/v1/api-manager/executions/" + std::to_string(failed), {}, acme).status ==
        404);
  CHECK(f.store.call("GET", "/api/v1/api-manager/executions/abc").status == 404);

  const std::vector<std::pair<std::string, std::string>> bad{
      {"status", "broken"},   {"error_class", "cosmic"},
      {"since", "yesterday"}, {"until", "2026-13-01T00:00:00Z"},
      {"limit", "0"},         {"limit", "501"},
      {"cursor", "abc"},      {"stauts", "ok"}};
  for (const auto& [field, value] : bad) {
    INFO(field << "=" << value);
    response = f.store.call("GET", "/api/v1/api-manager/executions", {{field, value}});
    CHECK(response.status == 400);
    const auto error = response.json().at("error");
    CHECK(error.at("code") == "invalid_parameter");
    CHECK(error.at("details").at("field") == field);
    CHECK(error.at("request_id") == "req-test-1");
  }
}
