// The kernel's datasources with an in-process driver (the connector plugins have
// their own tests): the "datasource" kind's sealed secrets, validation against the
// driver's options, pooled connections replaced on a new revision or driver,
// limits, failures named by datasource, and tenant isolation. Each case runs on
// SQLite and PostgreSQL (issue 5).
#include "kernel/datasources/datasources.hpp"

#include <atomic>
#include <memory>

#include <catch2/catch.hpp>
#include <soci/soci.h>

#include "kernel/audit/audit_log.hpp"
#include "kernel/datasources/datasource_kind.hpp"
#include "kernel/http/message.hpp"
#include "tests/support/http_error.hpp"
#include "tests/support/postgres_db.hpp"

using nlohmann::json;
using plexus::auth::Caller;
using plexus::auth::CallerKind;
using plexus::datasources::Connection;
using plexus::datasources::Driver;
using plexus::datasources::Reply;
using plexus::datasources::Statement;
using plexus::test::error_of;

namespace {

// What the fake driver saw, shared by its connections.
struct Seen {
  std::atomic<int> opened{0}, closed{0};
  std::string last_options;  // of the connection that served the last query or ping
  Statement last_statement;
};

class FakeConnection final : public Connection {
 public:
  FakeConnection(Seen& seen, std::string options) : seen_(seen), options_(std::move(options)) {}
  ~FakeConnection() override { ++seen_.closed; }
  Reply query(const Statement& statement) override {
    seen_.last_options = options_;
    seen_.last_statement = statement;
    if (statement.sql == "fail") return {PLEXUS_ERR_INVALID, "query failed: syntax error near fail"};
    if (statement.sql == "lost") return {PLEXUS_ERR_UNAVAILABLE, "server closed the connection"};
    return {PLEXUS_OK, R"({"columns":[{"name":"one","type":"integer"}],"rows":[[1]],"truncated":false})"};
  }
  Reply execute(const Statement& statement) override {
    seen_.last_statement = statement;
    return {PLEXUS_ERR_DENIED, "datasource is read-only"};
  }
  Reply schema() override { return {PLEXUS_OK, R"({"tables":[]})"}; }
  Reply ping() override {
    seen_.last_options = options_;
    return {PLEXUS_OK, R"({"ok":true})"};
  }

 private:
  Seen& seen_;
  std::string options_;  // what it was opened with
};

Driver fake_driver(Seen& seen) {
  Driver driver;
  driver.name = "fake";
  driver.options_schema = json::parse(R"({"type":"object","required":["path"],
    "properties":{"path":{"type":"string","minLength":1},"password":{"type":"string"},
                  "token":{"type":"string"},"read_only":{"type":"boolean"}},
    "additionalProperties":false})");
  driver.secret_fields = {"token"};
  driver.open = [&seen](const std::string& options, Reply& failure) -> std::unique_ptr<Connection> {
    if (json::parse(options).value("path", "") == "unreachable") {
      failure = {PLEXUS_ERR_UNAVAILABLE, "cannot connect to 127.0.0.1:1"};
      return nullptr;
    }
    ++seen.opened;
    return std::make_unique<FakeConnection>(seen, options);
  };
  return driver;
}

Caller person(const std::string& tenant = "default") {
  Caller caller;
  caller.kind = CallerKind::user;
  caller.tenant = tenant;
  caller.user_id = "id-alice";
  caller.name = "alice";
  caller.grants = {"*"};
  return caller;
}

struct Fixture {
  explicit Fixture(const plexus::test::StoreBackend& backend, plexus::datasources::Limits limits = {})
      : db(std::make_unique<plexus::store::Database>(
            plexus::store::DatabaseOptions{.url = backend.fresh_url(dir), .pool_size = 4})),
        datasources(store, plexus::secrets::SecretBox(std::string(48, 'k')), limits, metrics) {
    datasources.drivers().replace_owner("connector-fake", {fake_driver(seen)});
  }
  plexus::test::TempDir dir;
  std::unique_ptr<plexus::store::Database> db;
  plexus::audit::AuditLog audit{*db};
  plexus::resources::ResourceKinds kinds;
  plexus::resources::ResourceStore store{*db, audit, kinds};
  plexus::metrics::Registry metrics;
  Seen seen;
  plexus::datasources::Datasources datasources;
  Caller alice = person();

  // Every stored revision's content and every audit row, as the database holds them.
  std::string everything_stored() {
    soci::session sql(db->pool());
    std::string all;
    soci::rowset<std::string> contents = sql.prepare << "SELECT content FROM resource_revisions";
    for (const auto& content : contents) all += content;
    plexus::audit::AuditQuery query;
    query.limit = 1000;
    for (const auto& row : audit.query(query).items) all += row.before.dump() + row.after.dump() + row.details.dump();
    return all;
  }
};


const json kPlaceholder = {{"$secret", "set"}};

}  // namespace

TEST_CASE("a datasource's secrets are sealed at rest, never shown, and a placeholder keeps them", "[datasources]") {
  plexus::test::StoreBackend backend;
  Fixture f(backend);
  const json content = {{"driver", "fake"}, {"path", "/data/ops.db"}, {"password", "hunter2-secret"},
                        {"token", "tok-ABCDEF"}};
  const auto created = f.store.create(f.alice, "datasource", "ops", content, "first");
  CHECK(created.content["password"] == kPlaceholder);
  CHECK(created.content["token"] == kPlaceholder);
  CHECK(created.content["path"] == "/data/ops.db");

  // The driver gets the plain values.
  REQUIRE(f.datasources.ping("default", "ops").ok());
  CHECK(json::parse(f.seen.last_options)["password"] == "hunter2-secret");
  CHECK(json::parse(f.seen.last_options)["token"] == "tok-ABCDEF");

  // Saving back what the API showed keeps the stored secrets.
  auto shown = f.store.get(f.alice, "datasource", "ops").content;
  CHECK(shown["password"] == kPlaceholder);
  shown["path"] = "/data/ops2.db";
  f.store.update(f.alice, "datasource", "ops", 1, shown, "move");
  REQUIRE(f.datasources.ping("default", "ops").ok());
  CHECK(json::parse(f.seen.last_options)["password"] == "hunter2-secret");
  CHECK(json::parse(f.seen.last_options)["path"] == "/data/ops2.db");

  // Nowhere in the store, the audit log, revisions, diffs or bundles in plain text.
  const auto stored = f.everything_stored();
  CHECK(stored.find("hunter2-secret") == std::string::npos);
  CHECK(stored.find("tok-ABCDEF") == std::string::npos);
  CHECK(stored.find("$sealed") != std::string::npos);
  CHECK(f.store.revision(f.alice, "datasource", "ops", 1).content["password"] == kPlaceholder);
  const auto diff = f.store.diff(f.alice, "datasource", "ops", 1, 2);
  CHECK(diff.patch.dump().find("password") == std::string::npos);
  const auto bundle = f.store.export_bundle(f.alice, {"datasource"});
  CHECK(bundle.dump().find("hunter2") == std::string::npos);
  CHECK(bundle["resources"][0]["content"]["password"] == kPlaceholder);

  // Re-importing the export changes nothing; rollback restores the old path, same secret.
  const auto imported = f.store.import_bundle(f.alice, bundle);
  CHECK(imported.at(0).outcome == "unchanged");
  f.store.rollback(f.alice, "datasource", "ops", 1, "back");
  REQUIRE(f.datasources.ping("default", "ops").ok());
  CHECK(json::parse(f.seen.last_options)["path"] == "/data/ops.db");
  CHECK(json::parse(f.seen.last_options)["password"] == "hunter2-secret");

  // A new password replaces the old one.
  auto changed = f.store.get(f.alice, "datasource", "ops").content;
  changed["password"] = "correct-horse";
  f.store.update(f.alice, "datasource", "ops", std::nullopt, changed, "rotate");
  REQUIRE(f.datasources.ping("default", "ops").ok());
  CHECK(json::parse(f.seen.last_options)["password"] == "correct-horse");
}

TEST_CASE("a placeholder with nothing stored behind it is refused, naming the field", "[datasources]") {
  plexus::test::StoreBackend backend;
  Fixture f(backend);
  const auto error = error_of([&] {
    f.store.create(f.alice, "datasource", "ops", {{"driver", "fake"}, {"path", "/x"}, {"password", kPlaceholder}}, "");
  });
  CHECK(error.status() == 400);
  CHECK(std::string(error.what()).find("/password") != std::string::npos);
}

TEST_CASE("datasources are checked against their driver's options", "[datasources]") {
  plexus::test::StoreBackend backend;
  Fixture f(backend);
  auto error = error_of([&] { f.store.create(f.alice, "datasource", "a", {{"driver", "oracle"}}, ""); });
  CHECK(error.status() == 400);
  CHECK(error.details()["problems"][0]["pointer"] == "/driver");
  CHECK(std::string(error.what()).find("no driver 'oracle' is loaded (loaded: fake)") != std::string::npos);

  error = error_of([&] { f.store.create(f.alice, "datasource", "b", {{"driver", "fake"}}, ""); });
  CHECK(std::string(error.what()).find("path") != std::string::npos);
  error = error_of([&] {
    f.store.create(f.alice, "datasource", "c", {{"driver", "fake"}, {"path", "/x"}, {"read_only", "yes"}}, "");
  });
  CHECK(error.status() == 400);
  error = error_of([&] { f.store.create(f.alice, "datasource", "d", {{"path", "/x"}}, ""); });
  CHECK(error.status() == 400);
}

TEST_CASE("connections are pooled per revision and the driver gets limits and read_only", "[datasources]") {
  plexus::test::StoreBackend backend;
  Fixture f(backend, {.max_rows = 500, .timeout_ms = 2000, .idle_connections = 2});
  f.store.create(f.alice, "datasource", "ops", {{"driver", "fake"}, {"path", "/x"}, {"max_rows", 100}}, "");

  REQUIRE(f.datasources.query("default", "ops", {.sql = "select 1"}).ok());
  REQUIRE(f.datasources.query("default", "ops", {.sql = "select 1"}).ok());
  CHECK(f.seen.opened == 1);
  CHECK(json::parse(f.seen.last_options)["read_only"] == true);  // the default
  CHECK(!json::parse(f.seen.last_options).contains("max_rows"));  // the kernel's own key
  CHECK(f.seen.last_statement.max_rows == 100);                   // the datasource's limit
  CHECK(f.seen.last_statement.timeout_ms == 2000);                // the server's
  REQUIRE(f.datasources.query("default", "ops", {.sql = "select 1", .max_rows = 10, .timeout_ms = 50}).ok());
  CHECK(f.seen.last_statement.max_rows == 10);
  CHECK(f.seen.last_statement.timeout_ms == 50);
  REQUIRE(f.datasources.query("default", "ops", {.sql = "select 1", .max_rows = 100000}).ok());
  CHECK(f.seen.last_statement.max_rows == 100);  // capped

  // A new revision: the old connection is closed, a new one opened with the new options.
  f.store.update(f.alice, "datasource", "ops", std::nullopt,
                 {{"driver", "fake"}, {"path", "/x"}, {"read_only", false}, {"max_rows", 100000}}, "writable");
  REQUIRE(f.datasources.query("default", "ops", {.sql = "select 1"}).ok());
  CHECK(f.seen.opened == 2);
  CHECK(f.seen.closed == 1);
  CHECK(json::parse(f.seen.last_options)["read_only"] == false);
  CHECK(f.seen.last_statement.max_rows == 500);  // never above the server's limit

  // A connection that lost its server is dropped, not pooled.
  CHECK(f.datasources.query("default", "ops", {.sql = "lost"}).status == PLEXUS_ERR_UNAVAILABLE);
  CHECK(f.seen.closed == 2);
  REQUIRE(f.datasources.query("default", "ops", {.sql = "select 1"}).ok());
  CHECK(f.seen.opened == 3);

  // A reloaded driver closes the idle connections of the old one.
  Seen other;
  f.datasources.drivers().replace_owner("connector-fake", {fake_driver(other)});
  CHECK(f.seen.closed == 3);
  REQUIRE(f.datasources.query("default", "ops", {.sql = "select 1"}).ok());
  CHECK(other.opened == 1);
}

TEST_CASE("datasource failures name the datasource and say what failed", "[datasources]") {
  plexus::test::StoreBackend backend;
  Fixture f(backend);
  f.store.create(f.alice, "datasource", "ops", {{"driver", "fake"}, {"path", "/x"}, {"password", "pw-XYZ"}}, "");
  f.store.create(f.alice, "datasource", "down", {{"driver", "fake"}, {"path", "unreachable"}}, "");

  auto reply = f.datasources.query("default", "ops", {.sql = "fail"});
  CHECK(reply.status == PLEXUS_ERR_INVALID);
  CHECK(reply.text == "datasource 'ops': query failed: syntax error near fail");
  reply = f.datasources.execute("default", "ops", {.sql = "delete from t"});
  CHECK(reply.status == PLEXUS_ERR_DENIED);
  CHECK(reply.text == "datasource 'ops': datasource is read-only");
  reply = f.datasources.ping("default", "down");
  CHECK(reply.status == PLEXUS_ERR_UNAVAILABLE);
  CHECK(reply.text == "datasource 'down': cannot connect to 127.0.0.1:1");
  reply = f.datasources.query("default", "nope", {.sql = "select 1"});
  CHECK(reply.status == PLEXUS_ERR_NOT_FOUND);
  CHECK(reply.text == "datasource 'nope': no such datasource");

  // Without its driver the datasource is unavailable, saying which driver is missing.
  f.datasources.drivers().remove_owner("connector-fake");
  reply = f.datasources.query("default", "ops", {.sql = "select 1"});
  CHECK(reply.status == PLEXUS_ERR_UNAVAILABLE);
  CHECK(reply.text == "datasource 'ops': driver 'fake' is not loaded; enable its connector plugin");
}

TEST_CASE("another tenant's datasource does not exist for a tenant", "[datasources]") {
  plexus::test::StoreBackend backend;
  Fixture f(backend);
  f.store.create(f.alice, "datasource", "ops", {{"driver", "fake"}, {"path", "/x"}}, "");
  CHECK(f.datasources.query("default", "ops", {.sql = "select 1"}).ok());
  CHECK(f.datasources.query("acme", "ops", {.sql = "select 1"}).status == PLEXUS_ERR_NOT_FOUND);
  CHECK(f.datasources.schema("acme", "ops").status == PLEXUS_ERR_NOT_FOUND);
  const auto acme = person("acme");
  CHECK(error_of([&] { f.store.get(acme, "datasource", "ops"); }).status() == 404);
  // The same name in another tenant is another datasource, with its own secrets.
  f.store.create(acme, "datasource", "ops", {{"driver", "fake"}, {"path", "/acme"}}, "");
  REQUIRE(f.datasources.ping("acme", "ops").ok());
  CHECK(json::parse(f.seen.last_options)["path"] == "/acme");
  REQUIRE(f.datasources.ping("default", "ops").ok());
  CHECK(json::parse(f.seen.last_options)["path"] == "/x");
}
