// The audit log in a real database: every test that opens one runs on SQLite and on
// PostgreSQL (tests/support/postgres_db.hpp), each run in a new, empty database.
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <soci/soci.h>

#include "kernel/audit/audit_log.hpp"
#include "kernel/audit/audit_routes.hpp"
#include "kernel/audit/record_json.hpp"
#include "kernel/audit/retention_worker.hpp"
#include "kernel/store/migrations.hpp"
#include "tests/support/postgres_db.hpp"
#include "tests/support/test_support.hpp"

using nlohmann::json;
using plexus::audit::AuditEvent;
using plexus::audit::AuditLog;
using plexus::audit::AuditQuery;
using plexus::audit::AuditRecord;
using plexus::test::TempDir;

namespace {

// One run per backend (the test case runs again for each), in a new, empty database.
struct Fixture {
  plexus::test::StoreBackend backend;
  TempDir dir;
  std::unique_ptr<plexus::store::Database> database =
      std::make_unique<plexus::store::Database>(plexus::store::DatabaseOptions{backend.fresh_url(dir)});
  std::unique_ptr<AuditLog> log = std::make_unique<AuditLog>(*database);

  void exec(const std::string& statement) {
    soci::session sql(database->pool());
    sql << statement;
  }
};

AuditEvent event(std::string action, std::string target, std::string actor = "user:admin",
                 std::string tenant = "default") {
  AuditEvent e;
  e.tenant = std::move(tenant);
  e.actor = std::move(actor);
  e.action = std::move(action);
  e.target = std::move(target);
  e.ip = "10.0.0.7";
  e.request_id = "req-1";
  return e;
}

// Records `count` events "thing.update" on thing/1..count.
std::vector<AuditRecord> record_many(AuditLog& log, int count) {
  std::vector<AuditRecord> records;
  for (int i = 1; i <= count; ++i) records.push_back(log.record(event("thing.update", "thing/" + std::to_string(i))));
  return records;
}

// Returns once the clock has moved past `time` + `margin`, so the next record gets a later time.
void wait_past(const std::string& time, std::chrono::milliseconds margin = std::chrono::milliseconds(0)) {
  const auto until = plexus::store::format_time(*plexus::store::parse_time(time) + margin);
  while (plexus::store::utc_now() <= until) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

std::vector<json> json_lines(const std::filesystem::path& file) {
  std::vector<json> lines;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line));
  return lines;
}

std::vector<std::int64_t> sequences(const plexus::audit::AuditPage& page) {
  std::vector<std::int64_t> out;
  for (const auto& record : page.items) out.push_back(record.sequence);
  return out;
}

}  // namespace

TEST_CASE("records get consecutive sequences, a chain and the event's fields", "[audit]") {
  Fixture f;
  auto e = event("user.update", "user/42");
  e.before = {{"name", "ann"}, {"roles", {"viewer"}}};
  e.after = {{"name", "ann"}, {"roles", {"editor"}}};
  e.details = {{"reason", "promotion"}};
  const auto first = f.log->record(e);
  const auto second = f.log->record(event("user.delete", "user/43"));
  REQUIRE(first.sequence == 1);
  REQUIRE(second.sequence == 2);
  REQUIRE(first.previous_hash == plexus::audit::genesis_hash);
  REQUIRE(second.previous_hash == first.hash);
  REQUIRE(first.hash == plexus::audit::compute_hash(first));
  REQUIRE(plexus::store::parse_time(first.time));

  AuditQuery query;
  const auto page = f.log->query(query);
  REQUIRE(sequences(page) == std::vector<std::int64_t>{2, 1});
  const auto& stored = page.items[1];
  REQUIRE(stored.before == e.before);
  REQUIRE(stored.after == e.after);
  REQUIRE(stored.details == e.details);
  REQUIRE(stored.tenant == "default");
  REQUIRE(stored.actor == "user:admin");
  REQUIRE(stored.ip == "10.0.0.7");
  REQUIRE(stored.request_id == "req-1");
  REQUIRE(stored.outcome == "success");
  REQUIRE(stored.hash == first.hash);
  REQUIRE(page.items[0].before.is_null());
  REQUIRE_FALSE(page.next_cursor);
}

TEST_CASE("record_within commits and rolls back with the caller's transaction", "[audit]") {
  Fixture f;
  f.log->record(event("thing.update", "thing/1"));
  const bool postgresql = f.database->backend() == "postgresql";
  soci::session sql(f.database->pool());
  sql << (postgresql ? "BEGIN" : "BEGIN IMMEDIATE");
  f.log->record_within(sql, event("thing.update", "thing/rolled-back"));
  sql << "ROLLBACK";
  REQUIRE(f.log->query({}).items.size() == 1);
  REQUIRE(f.log->verify().ok);

  sql << (postgresql ? "BEGIN" : "BEGIN IMMEDIATE");
  const auto kept = f.log->record_within(sql, event("thing.update", "thing/kept"));
  sql << "COMMIT";
  REQUIRE(kept.sequence == 2);
  REQUIRE(f.log->query({}).items.front().target == "thing/kept");
  REQUIRE(f.log->record(event("thing.update", "thing/3")).sequence == 3);
  REQUIRE(f.log->verify().ok);
}

TEST_CASE("event_of takes tenant, actor, ip and request id from the caller", "[audit]") {
  plexus::auth::Caller caller;
  caller.kind = plexus::auth::CallerKind::api_key;
  caller.name = "ci";
  caller.tenant = "acme";
  caller.ip = "192.0.2.1";
  caller.request_id = "r-9";
  const auto e = plexus::audit::event_of(caller, "apikey.use", "apikey/7");
  REQUIRE(e.tenant == "acme");
  REQUIRE(e.actor == "apikey:ci");
  REQUIRE(e.ip == "192.0.2.1");
  REQUIRE(e.request_id == "r-9");
  REQUIRE(e.action == "apikey.use");
  REQUIRE(e.target == "apikey/7");
}

TEST_CASE("query filters by tenant, actor, action prefix, target, outcome and time", "[audit]") {
  Fixture f;
  f.log->record(event("user.create", "user/1", "user:admin", "default"));                 // 1
  f.log->record(event("user.update", "user/1", "user:bob", "acme"));                      // 2
  f.log->record(event("role.create", "role/ops", "user:admin", "acme"));                   // 3
  auto failed = event("auth.login", "user/2", "anonymous", "default");
  failed.outcome = "failure";
  const auto last_before_wait = f.log->record(failed);  // 4
  wait_past(last_before_wait.time);
  const auto late = f.log->record(event("users.export", "user/*", "user:admin", "default"));  // 5

  auto run = [&](AuditQuery query) { return sequences(f.log->query(query)); };
  using seqs = std::vector<std::int64_t>;
  AuditQuery q;
  q.tenant = "acme";
  REQUIRE(run(q) == seqs{3, 2});
  q = {};
  q.actor = "user:admin";
  REQUIRE(run(q) == seqs{5, 3, 1});
  q = {};
  q.action_prefix = "user.";
  REQUIRE(run(q) == seqs{2, 1});  // not users.export: a prefix, not a pattern
  q = {};
  q.action_prefix = "user";
  REQUIRE(run(q) == seqs{5, 2, 1});
  q = {};
  q.action_prefix = "USER.";
  REQUIRE(run(q).empty());  // case-sensitive on every database
  q = {};
  q.target = "user/1";
  REQUIRE(run(q) == seqs{2, 1});
  q = {};
  q.outcome = "failure";
  REQUIRE(run(q) == seqs{4});
  q = {};
  q.from = late.time;
  REQUIRE(run(q) == seqs{5});
  q = {};
  q.to = last_before_wait.time;
  REQUIRE(run(q) == seqs{4, 3, 2, 1});
  q = {};
  q.tenant = "default";
  q.actor = "user:admin";
  q.action_prefix = "user.";
  REQUIRE(run(q) == seqs{1});

  SECTION("a from/to without milliseconds compares as time, not as text") {
    auto whole_second = late.time.substr(0, 19) + "Z";  // "...:SSZ", at or before late.time
    q = {};
    q.from = whole_second;
    REQUIRE_FALSE(run(q).empty());
  }
  SECTION("bad limits and times are refused naming the field") {
    q = {};
    q.limit = 0;
    REQUIRE_THROWS_WITH(f.log->query(q), Catch::StartsWith("limit"));
    q.limit = 1001;
    REQUIRE_THROWS_WITH(f.log->query(q), Catch::StartsWith("limit"));
    q = {};
    q.from = "yesterday";
    REQUIRE_THROWS_WITH(f.log->query(q), Catch::StartsWith("from"));
  }
}

TEST_CASE("query pages newest first with limit and cursor", "[audit]") {
  Fixture f;
  record_many(*f.log, 7);
  AuditQuery q;
  q.limit = 3;
  auto page = f.log->query(q);
  REQUIRE(sequences(page) == std::vector<std::int64_t>{7, 6, 5});
  REQUIRE(page.next_cursor == 5);
  q.before_sequence = page.next_cursor;
  page = f.log->query(q);
  REQUIRE(sequences(page) == std::vector<std::int64_t>{4, 3, 2});
  REQUIRE(page.next_cursor == 2);
  q.before_sequence = page.next_cursor;
  page = f.log->query(q);
  REQUIRE(sequences(page) == std::vector<std::int64_t>{1});
  REQUIRE_FALSE(page.next_cursor);

  q.limit = 7;
  q.before_sequence.reset();
  REQUIRE_FALSE(f.log->query(q).next_cursor);  // exactly one full page
}

TEST_CASE("verify passes on an untouched log, empty or not", "[audit][verify]") {
  Fixture f;
  auto result = f.log->verify();
  REQUIRE(result.ok);
  REQUIRE(result.checked == 0);
  REQUIRE(result.head_sequence == 0);
  record_many(*f.log, 25);
  result = f.log->verify();
  INFO(result.reason);
  REQUIRE(result.ok);
  REQUIRE(result.checked == 25);
  REQUIRE(result.head_sequence == 25);
  REQUIRE_FALSE(result.first_bad_sequence);
}

TEST_CASE("verify walks logs longer than one batch", "[audit][verify]") {
  Fixture f;
  record_many(*f.log, 2100);
  const auto result = f.log->verify();
  INFO(result.reason);
  REQUIRE(result.ok);
  REQUIRE(result.checked == 2100);
}

TEST_CASE("an edited row makes verify fail at that row", "[audit][verify][security]") {
  Fixture f;
  record_many(*f.log, 10);
  SECTION("actor changed") { f.exec("UPDATE audit_log SET actor = 'user:mallory' WHERE sequence = 6"); }
  SECTION("after changed") { f.exec("UPDATE audit_log SET after_json = '{\"role\":\"admin\"}' WHERE sequence = 6"); }
  SECTION("details made unreadable") { f.exec("UPDATE audit_log SET details_json = '{not json' WHERE sequence = 6"); }
  SECTION("a null JSON column filled") { f.exec("UPDATE audit_log SET before_json = '{}' WHERE sequence = 6"); }
  const auto result = f.log->verify();
  REQUIRE_FALSE(result.ok);
  REQUIRE(result.first_bad_sequence == 6);
  REQUIRE(result.checked == 5);
  REQUIRE_THAT(result.reason, Catch::Contains("6"));
}

TEST_CASE("an edited row with its hash recomputed breaks the link of the next row", "[audit][verify][security]") {
  Fixture f;
  const auto records = record_many(*f.log, 5);
  auto forged = records[2];
  forged.actor = "user:mallory";
  forged.hash = plexus::audit::compute_hash(forged);
  f.exec("UPDATE audit_log SET actor = 'user:mallory', hash = '" + forged.hash + "' WHERE sequence = 3");
  const auto result = f.log->verify();
  REQUIRE_FALSE(result.ok);
  REQUIRE(result.first_bad_sequence == 4);
}

TEST_CASE("a deleted middle row makes verify name the missing sequence", "[audit][verify][security]") {
  Fixture f;
  record_many(*f.log, 10);
  f.exec("DELETE FROM audit_log WHERE sequence = 4");
  const auto result = f.log->verify();
  REQUIRE_FALSE(result.ok);
  REQUIRE(result.first_bad_sequence == 4);
  REQUIRE_THAT(result.reason, Catch::Contains("missing"));
}

TEST_CASE("a deleted last row is detected through the head", "[audit][verify][security]") {
  Fixture f;
  record_many(*f.log, 10);
  SECTION("one row") {
    f.exec("DELETE FROM audit_log WHERE sequence = 10");
    const auto result = f.log->verify();
    REQUIRE_FALSE(result.ok);
    REQUIRE(result.first_bad_sequence == 10);
    REQUIRE(result.checked == 9);
    REQUIRE_THAT(result.reason, Catch::Contains("end"));
  }
  SECTION("every row") {
    f.exec("DELETE FROM audit_log");
    const auto result = f.log->verify();
    REQUIRE_FALSE(result.ok);
    REQUIRE(result.first_bad_sequence == 1);
  }
}

TEST_CASE("a row appended behind the log's back is detected through the head", "[audit][verify][security]") {
  Fixture f;
  const auto records = record_many(*f.log, 3);
  auto extra = records.back();
  extra.sequence = 4;
  extra.previous_hash = records.back().hash;
  extra.hash = plexus::audit::compute_hash(extra);
  f.exec("INSERT INTO audit_log (sequence, time, tenant_id, actor, action, target, outcome, ip, request_id, "
         "previous_hash, hash) VALUES (4, '" + extra.time + "', 'default', 'user:admin', 'thing.update', 'thing/3', "
         "'success', '10.0.0.7', 'req-1', '" + extra.previous_hash + "', '" + extra.hash + "')");
  const auto result = f.log->verify();
  REQUIRE_FALSE(result.ok);
  REQUIRE(result.first_bad_sequence == 4);
}

TEST_CASE("malformed UTF-8 and NaN in an event are stored hashable", "[audit]") {
  Fixture f;
  auto e = event("auth.login", "user/\xFF\xFE");
  e.outcome = "failure";
  e.details = {{"username", "bad\xC3"}, {"score", std::nan("")}};
  const auto stored = f.log->record(e);
  REQUIRE(stored.target == "user/\xEF\xBF\xBD\xEF\xBF\xBD");
  REQUIRE(stored.details["score"].is_null());
  REQUIRE(f.log->verify().ok);
}

TEST_CASE("retention exports old rows, deletes them and keeps the chain verifiable", "[audit][retention]") {
  Fixture f;
  const auto old = record_many(*f.log, 3);
  wait_past(old.back().time);
  const auto young = f.log->record(event("thing.update", "thing/4"));
  f.log->record(event("thing.update", "thing/5"));
  const auto export_dir = f.dir.path() / "exports" / "audit";

  const auto result = f.log->apply_retention(*plexus::store::parse_time(young.time), export_dir);
  REQUIRE(result.exported == 3);
  REQUIRE(result.first_sequence == 1);
  REQUIRE(result.last_sequence == 3);
  REQUIRE(result.file == export_dir / "audit-1-3.jsonl");

  struct stat info {};
  REQUIRE(::stat(export_dir.c_str(), &info) == 0);
  REQUIRE((info.st_mode & 0777) == 0700);
  REQUIRE(::stat(result.file.c_str(), &info) == 0);
  REQUIRE((info.st_mode & 0077) == 0);

  const auto lines = json_lines(result.file);
  REQUIRE(lines.size() == 3);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto exported = plexus::audit::record_from_json(lines[i]);
    REQUIRE(exported.sequence == old[i].sequence);
    REQUIRE(exported.hash == old[i].hash);
    REQUIRE(exported.target == old[i].target);
    REQUIRE(plexus::audit::compute_hash(exported) == exported.hash);
  }
  // Nothing but the finished file: no temporary left behind.
  REQUIRE(std::distance(std::filesystem::directory_iterator(export_dir), std::filesystem::directory_iterator()) == 1);

  REQUIRE(plexus::audit::verify({plexus::audit::record_from_json(lines[0]), plexus::audit::record_from_json(lines[1]),
                                 plexus::audit::record_from_json(lines[2])})
              .ok);
  REQUIRE(sequences(f.log->query({})) == std::vector<std::int64_t>{5, 4});

  auto verified = f.log->verify();
  INFO(verified.reason);
  REQUIRE(verified.ok);
  REQUIRE(verified.checked == 2);
  REQUIRE(verified.anchor_sequence == 3);

  const auto appended = f.log->record(event("thing.update", "thing/6"));
  REQUIRE(appended.sequence == 6);
  verified = f.log->verify();
  INFO(verified.reason);
  REQUIRE(verified.ok);
  REQUIRE(verified.checked == 3);

  SECTION("nothing old enough: no file") {
    const auto again = f.log->apply_retention(*plexus::store::parse_time(young.time), export_dir);
    REQUIRE(again.exported == 0);
    REQUIRE(again.file.empty());
  }
  SECTION("a second run continues from the anchor") {
    wait_past(appended.time);
    const auto again = f.log->apply_retention(std::chrono::system_clock::now(), export_dir);
    REQUIRE(again.exported == 3);
    REQUIRE(again.file == export_dir / "audit-4-6.jsonl");
    REQUIRE(json_lines(again.file).front()["previous_hash"] == old.back().hash);
    verified = f.log->verify();
    INFO(verified.reason);
    REQUIRE(verified.ok);
    REQUIRE(verified.checked == 0);
    REQUIRE(f.log->record(event("thing.update", "thing/7")).sequence == 7);
    REQUIRE(f.log->verify().ok);
  }
  SECTION("deleting a row right after the anchor is still detected") {
    f.exec("DELETE FROM audit_log WHERE sequence = 4");
    const auto broken = f.log->verify();
    REQUIRE_FALSE(broken.ok);
    REQUIRE(broken.first_bad_sequence == 4);
  }
}

TEST_CASE("retention refuses to delete rows that do not verify", "[audit][retention][security]") {
  Fixture f;
  const auto records = record_many(*f.log, 4);
  wait_past(records.back().time);
  f.exec("UPDATE audit_log SET actor = 'user:mallory' WHERE sequence = 2");
  const auto export_dir = f.dir.path() / "exports";
  REQUIRE_THROWS_WITH(f.log->apply_retention(std::chrono::system_clock::now(), export_dir),
                      Catch::Contains("sequence 2"));
  REQUIRE(f.log->query({}).items.size() == 4);
  REQUIRE(f.log->verify().first_bad_sequence == 2);
  // No file for rows that stayed.
  REQUIRE((!std::filesystem::exists(export_dir) || std::filesystem::is_empty(export_dir)));
}

TEST_CASE("records from 4 threads at once form one valid chain", "[audit][concurrency]") {
  Fixture f;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        try {
          f.log->record(event("thing.update", "thing/" + std::to_string(t) + "-" + std::to_string(i)));
        } catch (...) {
          ++failures;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  REQUIRE(failures == 0);
  AuditQuery q;
  q.limit = 1000;
  REQUIRE(f.log->query(q).items.size() == 200);
  const auto result = f.log->verify();
  INFO(result.reason);
  REQUIRE(result.ok);
  REQUIRE(result.checked == 200);
}

TEST_CASE("two AuditLogs on one database share one chain", "[audit][concurrency]") {
  Fixture f;
  AuditLog other(*f.database);
  std::thread a([&] { record_many(*f.log, 30); });
  std::thread b([&] { record_many(other, 30); });
  a.join();
  b.join();
  const auto result = f.log->verify();
  INFO(result.reason);
  REQUIRE(result.ok);
  REQUIRE(result.checked == 60);
}

TEST_CASE("a database with a newer audit schema is refused", "[audit][migrations]") {
  Fixture f;
  f.exec("INSERT INTO plexus_migrations (component, version, description, applied_at) "
         "VALUES ('kernel.audit', 2, 'from the future', '2030-01-01T00:00:00.000Z')");
  REQUIRE_THROWS_AS(AuditLog(*f.database), plexus::store::MigrationError);
  REQUIRE_THROWS_AS(AuditLog(*f.database, AuditLog::SchemaPolicy::existing_only), plexus::store::MigrationError);
}

TEST_CASE("existing_only opens a log without creating one", "[audit][migrations]") {
  Fixture f;
  plexus::store::Database empty({f.backend.fresh_url(f.dir)});
  REQUIRE_THROWS_WITH(AuditLog(empty, AuditLog::SchemaPolicy::existing_only), Catch::Contains("no audit log"));
  f.log->record(event("thing.update", "thing/1"));
  AuditLog reader(*f.database, AuditLog::SchemaPolicy::existing_only);
  REQUIRE(reader.verify().checked == 1);
}

TEST_CASE("the retention worker exports in the background and stops promptly", "[audit][retention]") {
  Fixture f;
  const auto records = record_many(*f.log, 3);
  wait_past(records.back().time, std::chrono::milliseconds(1));  // older than the 1 ms retention
  const auto export_dir = f.dir.path() / "audit-export";
  {
    plexus::audit::RetentionWorker worker(*f.log, std::chrono::milliseconds(1), export_dir, std::chrono::hours(1),
                                          std::chrono::milliseconds(0));
    REQUIRE(worker.running());
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!std::filesystem::exists(export_dir / "audit-1-3.jsonl") && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    REQUIRE(std::filesystem::exists(export_dir / "audit-1-3.jsonl"));
  }  // the destructor wakes the worker out of its one-hour wait
  REQUIRE(f.log->verify().ok);
  REQUIRE(f.log->verify().anchor_sequence == 3);

  plexus::audit::RetentionWorker off(*f.log, std::chrono::milliseconds(0), export_dir);
  REQUIRE_FALSE(off.running());
}

// ---- REST routes, called through a Router as the dispatcher would ----

namespace {

std::shared_ptr<plexus::auth::Caller> caller(std::string tenant, std::vector<std::string> grants,
                                             std::string name = "admin") {
  auto c = std::make_shared<plexus::auth::Caller>();
  c->kind = plexus::auth::CallerKind::user;
  c->name = std::move(name);
  c->tenant = std::move(tenant);
  c->grants = std::move(grants);
  c->ip = "198.51.100.4";
  c->request_id = "req-api";
  return c;
}

struct Call {
  int status = 0;
  json body;
};

Call call(plexus::http::Router& router, const std::string& path, std::map<std::string, std::string> query,
          std::shared_ptr<plexus::auth::Caller> who) {
  auto match = router.match("GET", path, plexus::http::Surface::api);
  REQUIRE(match.outcome == plexus::http::RouteMatch::Outcome::found);
  REQUIRE(match.route->permission == "admin.audit.view");
  plexus::http::Request request;
  request.method = "GET";
  request.path = path;
  request.query = std::move(query);
  request.caller = std::move(who);
  try {
    const auto response = match.route->handler(request);
    return {response.status, json::parse(response.body)};
  } catch (const plexus::http::HttpError& error) {
    return {error.status(), {{"code", error.code()}, {"details", error.details()}}};
  }
}

}  // namespace

TEST_CASE("GET /api/v1/admin/audit lists the caller's tenant with diffs and records the read", "[audit][routes]") {
  Fixture f;
  plexus::http::Router router;
  plexus::audit::register_audit_routes(router, *f.log);
  auto change = event("role.update", "role/ops", "user:admin", "acme");
  change.before = {{"grants", {"a.read"}}, {"name", "ops"}};
  change.after = {{"grants", {"a.read", "a.write"}}, {"name", "ops"}};
  f.log->record(change);                                              // 1
  f.log->record(event("user.create", "user/9", "user:root", "default"));  // 2

  const auto acme_admin = caller("acme", {"*"});
  auto result = call(router, "/api/v1/admin/audit", {}, acme_admin);
  REQUIRE(result.status == 200);
  REQUIRE(result.body["items"].size() == 1);
  const auto& item = result.body["items"][0];
  REQUIRE(item["sequence"] == 1);
  REQUIRE(item["tenant"] == "acme");
  REQUIRE(item["action"] == "role.update");
  REQUIRE(item["before"] == change.before);
  REQUIRE(item["after"] == change.after);
  REQUIRE(item["changes"] == json::parse(R"([{"op":"add","path":"/grants/-","value":"a.write"}])"));
  for (const char* key : {"time", "actor", "target", "outcome", "ip", "request_id", "details", "hash", "previous_hash"}) {
    REQUIRE(item.contains(key));
  }
  REQUIRE(result.body["next_cursor"].is_null());

  // The read itself is in the log, in the reader's tenant, with the filters.
  AuditQuery reads;
  reads.action_prefix = "audit.read";
  const auto logged = f.log->query(reads);
  REQUIRE(logged.items.size() == 1);
  REQUIRE(logged.items[0].tenant == "acme");
  REQUIRE(logged.items[0].actor == "user:admin");
  REQUIRE(logged.items[0].ip == "198.51.100.4");
  REQUIRE(logged.items[0].request_id == "req-api");

  result = call(router, "/api/v1/admin/audit", {{"limit", "1"}}, acme_admin);
  REQUIRE(result.status == 200);
  REQUIRE(result.body["items"].size() == 1);
  REQUIRE(result.body["items"][0]["action"] == "audit.read");
  REQUIRE(result.body["next_cursor"] == "3");
  REQUIRE(f.log->query(reads).items[0].details["filters"] == json{{"limit", "1"}});

  SECTION("paging with the cursor") {
    result = call(router, "/api/v1/admin/audit",
                  {{"limit", "1"}, {"cursor", result.body["next_cursor"].get<std::string>()}}, acme_admin);
    REQUIRE(result.status == 200);
    REQUIRE(result.body["items"].size() == 1);
    REQUIRE(result.body["items"][0]["sequence"] == 1);
    REQUIRE(result.body["next_cursor"].is_null());
  }
  SECTION("a tenant administrator may not look into other tenants") {
    for (const auto& tenant : {"default", "*"}) {
      result = call(router, "/api/v1/admin/audit", {{"tenant", tenant}}, acme_admin);
      REQUIRE(result.status == 403);
      REQUIRE(result.body["details"]["field"] == "tenant");
    }
    result = call(router, "/api/v1/admin/audit", {{"tenant", "acme"}}, acme_admin);
    REQUIRE(result.status == 200);
  }
  SECTION("a default-tenant viewer without admin.tenants.manage sees only its tenant") {
    const auto viewer = caller("default", {"admin.audit.view"}, "auditor");
    result = call(router, "/api/v1/admin/audit", {{"action", "user."}}, viewer);
    REQUIRE(result.status == 200);
    REQUIRE(result.body["items"].size() == 1);
    REQUIRE(result.body["items"][0]["tenant"] == "default");
    REQUIRE(call(router, "/api/v1/admin/audit", {{"tenant", "acme"}}, viewer).status == 403);
  }
  SECTION("a system administrator may choose a tenant or all") {
    const auto root = caller("default", {"*"}, "root");
    result = call(router, "/api/v1/admin/audit", {{"tenant", "acme"}, {"action", "role."}}, root);
    REQUIRE(result.status == 200);
    REQUIRE(result.body["items"].size() == 1);
    result = call(router, "/api/v1/admin/audit", {{"tenant", "*"}, {"action", "role."}}, root);
    REQUIRE(result.body["items"].size() == 1);
    result = call(router, "/api/v1/admin/audit", {{"tenant", "*"}, {"action", "user."}}, root);
    REQUIRE(result.body["items"].size() == 1);
    REQUIRE(result.body["items"][0]["tenant"] == "default");
  }
}

TEST_CASE("GET /api/v1/admin/audit rejects bad parameters naming the field", "[audit][routes]") {
  Fixture f;
  plexus::http::Router router;
  plexus::audit::register_audit_routes(router, *f.log);
  const auto admin = caller("default", {"*"});
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"limit", "0"},     {"limit", "1001"}, {"limit", "ten"},   {"limit", "5x"},     {"cursor", "-3"},
      {"cursor", "abc"},  {"from", "today"}, {"to", "2026-13-01T00:00:00Z"}, {"outcome", "maybe"},
  };
  for (const auto& [field, value] : bad) {
    INFO(field << "=" << value);
    const auto result = call(router, "/api/v1/admin/audit", {{field, value}}, admin);
    REQUIRE(result.status == 400);
    REQUIRE(result.body["code"] == "invalid_parameter");
    REQUIRE(result.body["details"]["field"] == field);
  }
  REQUIRE(f.log->query({}).items.empty());  // refused reads are not reads
  REQUIRE(call(router, "/api/v1/admin/audit", {{"limit", "1000"}, {"from", "2026-01-01T00:00:00Z"}}, admin).status ==
          200);
}

TEST_CASE("GET /api/v1/admin/audit/verify reports the chain's state", "[audit][routes][verify]") {
  Fixture f;
  plexus::http::Router router;
  plexus::audit::register_audit_routes(router, *f.log);
  record_many(*f.log, 5);
  const auto admin = caller("default", {"admin.audit.view"});
  auto result = call(router, "/api/v1/admin/audit/verify", {}, admin);
  REQUIRE(result.status == 200);
  REQUIRE(result.body == json{{"ok", true}, {"checked", 5}, {"first_bad_sequence", nullptr}, {"reason", nullptr},
                              {"head_sequence", 5}});
  f.exec("UPDATE audit_log SET target = 'thing/99' WHERE sequence = 2");
  result = call(router, "/api/v1/admin/audit/verify", {}, admin);
  REQUIRE(result.status == 200);
  REQUIRE(result.body["ok"] == false);
  REQUIRE(result.body["first_bad_sequence"] == 2);
  REQUIRE(result.body["checked"] == 1);
  REQUIRE(result.body["reason"].is_string());
  REQUIRE(result.body["head_sequence"] == 5);
}
