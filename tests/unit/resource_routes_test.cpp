// /api/v1/resources through a real HTTP server: ETag and If-Match, concurrent
// writers, validation errors, permissions, tenants, delete and restore, stages
// with approval and hooks, references and bundles (JSON and YAML).
#include "kernel/resources/resource_routes.hpp"

#include <httplib.h>

#include <atomic>
#include <memory>
#include <thread>

#include <catch2/catch.hpp>

#include "kernel/audit/audit_log.hpp"
#include "kernel/http/server.hpp"
#include "kernel/metrics/registry.hpp"
#include "tests/support/postgres_db.hpp"

using nlohmann::json;
using plexus::auth::Caller;
using plexus::auth::CallerKind;
using plexus::resources::Kind;
using plexus::resources::ResourceRef;

namespace {

// "Bearer <role>:<name>@<tenant>" is a user <name> of <tenant> holding the built-in
// <role>; "approver" is an editor who may also approve. The real authenticator
// (kernel/identity) has its own tests.
class TestAuthenticator : public plexus::http::Authenticator {
 public:
  std::shared_ptr<const Caller> authenticate(const plexus::http::Request& request) override {
    auto caller = std::make_shared<Caller>();
    caller->ip = request.remote_address;
    caller->request_id = request.request_id;
    const auto header = request.header("Authorization");
    if (!header) return caller;
    const std::string token(header->substr(7));
    const auto colon = token.find(':');
    const auto at = token.find('@');
    if (colon == std::string::npos || at == std::string::npos || at < colon) {
      throw plexus::http::HttpError(401, "invalid_token", "the token is not valid");
    }
    const auto role = token.substr(0, colon);
    caller->kind = CallerKind::user;
    caller->name = token.substr(colon + 1, at - colon - 1);
    caller->user_id = "id-" + caller->name;
    caller->tenant = token.substr(at + 1);
    caller->roles = {role};
    if (role == "approver") {
      caller->grants = {"*.read", "*.write", "*.approve"};
    } else if (const auto* grants = plexus::auth::builtin_role_grants(role)) {
      caller->grants = *grants;
    } else {
      throw plexus::http::HttpError(401, "invalid_token", "the token is not valid");
    }
    return caller;
  }
};

// The one place the tests' database is made: each test case runs once per backend
// (SQLite, and PostgreSQL when PLEXUS_TEST_POSTGRES_URL is set; tests/support/postgres_db.hpp).
std::unique_ptr<plexus::store::Database> test_database(const plexus::test::StoreBackend& backend,
                                                       const plexus::test::TempDir& dir) {
  return std::make_unique<plexus::store::Database>(
      plexus::store::DatabaseOptions{.url = backend.fresh_url(dir), .pool_size = 4});
}

const json kNoteSchema = json::parse(R"({
  "type": "object",
  "required": ["title"],
  "properties": {
    "title": {"type": "string", "minLength": 1},
    "uses": {"type": "array", "items": {"type": "string"}}
  },
  "additionalProperties": false
})");

struct Reply {
  int status = 0;
  json body;
  httplib::Headers headers;
  std::string header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct Fixture {
  explicit Fixture(const plexus::test::StoreBackend& backend) : db(test_database(backend, dir)) {
    Kind note;
    note.name = "note";
    note.json_schema = kNoteSchema;
    note.references = [](const json& content) {
      std::vector<ResourceRef> refs;
      for (const auto& id : content.value("uses", json::array()))
        refs.push_back({"note", id.get<std::string>()});
      return refs;
    };
    kinds.add(note);
    // "gated": production needs approval, and a hook that passes only when told to.
    Kind gated;
    gated.name = "gated";
    gated.requires_approval = true;
    gated.pre_promotion = [this](const plexus::resources::PromotionCheck&) {
      return hook_passes ? std::vector<std::string>{} : std::vector<std::string>{"smoke test failed"};
    };
    kinds.add(gated);
    plexus::resources::register_resource_routes(router, store);
    plexus::http::ServerOptions options;
    options.listeners[0].port = 0;
    options.authenticator = std::make_shared<TestAuthenticator>();
    server = std::make_unique<plexus::http::Server>(std::move(options), router, registry);
    server->start();
  }
  ~Fixture() { server->stop(std::chrono::seconds(5)); }

  Reply call(const std::string& method, const std::string& path, const std::string& who,
             const json& body = nullptr, httplib::Headers headers = {}) {
    httplib::Client client("127.0.0.1", server->port());
    if (!who.empty()) headers.emplace("Authorization", "Bearer " + who);
    const std::string text = body.is_null() ? std::string() : body.dump();
    auto result = method == "GET"    ? client.Get(path, headers)
                  : method == "POST" ? client.Post(path, headers, text, "application/json")
                  : method == "PUT"  ? client.Put(path, headers, text, "application/json")
                                     : client.Delete(path, headers);
    REQUIRE(result);
    Reply reply{result->status, json(), result->headers};
    if (!result->body.empty()) reply.body = json::parse(result->body);
    return reply;
  }
  Reply put(const std::string& path, const std::string& who, const json& body, const std::string& if_match) {
    return call("PUT", path, who, body, {{"If-Match", if_match}});
  }

  std::atomic<bool> hook_passes{true};
  plexus::test::TempDir dir;
  std::unique_ptr<plexus::store::Database> db;
  plexus::audit::AuditLog audit{*db};
  plexus::resources::ResourceKinds kinds;
  plexus::resources::ResourceStore store{*db, audit, kinds};
  plexus::metrics::Registry registry;
  plexus::http::Router router;
  std::unique_ptr<plexus::http::Server> server;
};

const std::string kNotes = "/api/v1/resources/note";
const std::string kAlice = "editor:alice@default";
const std::string kBob = "editor:bob@default";

json create_body(const std::string& id, const std::string& title, json extra = json::object()) {
  extra["title"] = title;
  return {{"id", id}, {"content", extra}, {"reason", "first draft"}};
}

}  // namespace

TEST_CASE("create then read then update with history and diff and rollback over REST", "[resources]") {
  plexus::test::StoreBackend backend;
  Fixture f(backend);
  const auto created = f.call("POST", kNotes, kAlice, create_body("n1", "first"));
  REQUIRE(created.status == 201);
  CHECK(created.header("ETag") == "\"1\"");
  CHECK(created.header("Location") == "/api/v1/resources/note/n1");
  CHECK(created.body["revision"] == 1);
  CHECK(created.body["content"] == json{{"title", "first"}});

  const auto read = f.call("GET", kNotes + "/n1", kAlice);
  CHECK(read.status == 200);
  CHECK(read.header("ETag") == "\"1\"");
  CHECK(read.body["stages"] == json{{"draft", 1}, {"staging", nullptr}, {"production", nullptr}});

  const auto updated =
      f.put(kNotes + "/n1", kBob, {{"content", {{"title", "second"}}}, {"reason", "retitle"}}, "\"1\"");
  CHECK(updated.status == 200);
  CHECK(updated.header("ETag") == "\"2\"");

  const auto revisions = f.call("GET", kNotes + "/n1/revisions", kAlice);
  REQUIRE(revisions.body["items"].size() == 2);
  CHECK(revisions.body["items"][0]["revision"] == 2);
  CHECK(revisions.body["items"][0]["author"] == "user:bob");
  CHECK(revisions.body["items"][0]["reason"] == "retitle");
  CHECK_FALSE(revisions.body["items"][0].contains("content"));
  CHECK(f.call("GET", kNotes + "/n1/revisions/1", kAlice).body["content"] == json{{"title", "first"}});
  CHECK(f.call("GET", kNotes + "/n1/revisions/7", kAlice).status == 404);
  CHECK(f.call("GET", kNotes + "/n1/revisions/x", kAlice).body["error"]["details"]["field"] == "rev");

  const auto diff = f.call("GET", kNotes + "/n1/diff?from=1&to=2", kAlice);
  CHECK(diff.status == 200);
  CHECK(diff.body["patch"] == json::parse(R"([{"op": "replace", "path": "/title", "value": "second"}])"));
  CHECK(diff.body["readable"] ==
        json::parse(R"([{"path": "/title", "change": "changed", "from": "first", "to": "second"}])"));
  CHECK(f.call("GET", kNotes + "/n1/diff?to=2", kAlice).body["error"]["details"]["field"] == "from");

  const auto rolled =
      f.call("POST", kNotes + "/n1/rollback", kAlice, {{"to_revision", 1}, {"reason", "undo"}});
  CHECK(rolled.status == 200);
  CHECK(rolled.header("ETag") == "\"3\"");
  CHECK(rolled.body["content"] == json{{"title", "first"}});
  CHECK(f.call("GET", kNotes + "/n1/revisions/3", kAlice).body["reason"] == "undo");

  const auto listed = f.call("GET", kNotes, kAlice);
  REQUIRE(listed.body["items"].size() == 1);
  CHECK(listed.body["items"][0]["id"] == "n1");
  CHECK(listed.body["items"][0]["revision"] == 3);
  CHECK(f.call("POST", kNotes, kAlice, create_body("n1", "again")).status == 409);
}

TEST_CASE("undo: the last save undone as a new revision, a delete restored", "[resources]") {
  plexus::test::StoreBackend backend;
  Fixture f(backend);
  f.call("POST", kNotes, kAlice, create_body("n1", "first"));
  const auto lonely = f.call("POST", kNotes + "/n1/undo", kAlice);
  CHECK(lonely.status == 409);
  CHECK(lonely.body["error"]["code"] == "nothing_to_undo");
  f.put(kNotes + "/n1", kBob, {{"content", {{"title", "second"}}}, {"reason", "retitle"}}, "\"1\"");

  const auto undone = f.call("POST", kNotes + "/n1/undo", kAlice);
  REQUIRE(undone.status == 200);
  CHECK(undone.header("ETag") == "\"3\"");
  CHECK(undone.body["content"] == json{{"title", "first"}});
  CHECK(f.call("GET", kNotes + "/n1/revisions/3", kAlice).body["reason"] == "undo of revision 2");
  // If-Match names the revision to undo: a stale one is refused, nothing saved.
  auto stale = f.call("POST", kNotes + "/n1/undo", kAlice, nullptr, {{"If-Match", "\"2\""}});
  CHECK(stale.status == 412);
  CHECK(f.call("GET", kNotes + "/n1", kAlice).body["revision"] == 3);

  CHECK(f.call("DELETE", kNotes + "/n1", kAlice).status == 200);
  const auto restored = f.call("POST", kNotes + "/n1/undo", kAlice);
  CHECK(restored.status == 200);
  CHECK(f.call("GET", kNotes + "/n1", kAlice).status == 200);
  CHECK(f.call("POST", kNotes + "/n1/undo", "viewer:vera@default").status == 403);
  CHECK(f.call("POST", kNotes + "/missing/undo", kAlice).status == 404);
}

TEST_CASE("PUT without If-Match is 428 and with a stale one 412 naming the current revision", "[resources]") {
  plexus::test::StoreBackend backend;
  Fixture f(backend);
  f.call("POST", kNotes, kAlice, create_body("n1", "a"));
  f.put(kNotes + "/n1", kAlice, {{"content", {{"title", "b"}}}}, "\"1\"");

  const auto missing = f.call("PUT", kNotes + "/n1", kAlice, {{"content", {{"title", "c"}}}});
  CHECK(missing.status == 428);
  CHECK(missing.body["error"]["details"]["header"] == "If-Match");
  const auto stale = f.put(kNotes + "/n1", kAlice, {{"content", {{"title", "c"}}}}, "\"1\"");
  CHECK(stale.status == 412);
  CHECK(stale.body["error"]["details"]["current_revision"] == 2);
  CHECK(f.put(kNotes + "/n1", kAlice, {{"content", {{"title", "c"}}}}, "1").status == 400);
  CHECK(f.put(kNotes + "/n1", kAlice, {{"content", {{"title", "c"}}}}, "*").status == 200);
  CHECK(f.call("GET", kNotes + "/n1", kAlice).body["content"] == json{{"title", "c"}});
}

TEST_CASE("two writers with the same If-Match: exactly one wins", "[resources]") {
  plexus::test::StoreBackend backend;
  Fixture f(backend);
  f.call("POST", kNotes, kAlice, create_body("n1", "start"));
  for (int round = 1; round <= 8; ++round) {
    const auto tag = "\"" + std::to_string(round) + "\"";
    std::atomic<bool> go{false};
    int statuses[2] = {0, 0};
    std::thread writers[2];
    for (int w = 0; w < 2; ++w) {
      writers[w] = std::thread([&, w] {
        while (!go) std::this_thread::yield();
        httplib::Client client("127.0.0.1", f.server->port());
        const json body = {
            {"content", {{"title", "round " + std::to_string(round) + " by " + std::to_string(w)}}}};
        auto result = client.Put(
            kNotes + "/n1",
            {{"Authorization", "Bearer " + std::string(w == 0 ? kAlice : kBob)}, {"If-Match", tag}},
            body.dump(), "application/json");
        statuses[w] = result ? result->status : -1;
      });
    }
    go = true;
    for (auto& writer : writers) writer.join();
    INFO("round " << round << ": " << statuses[0] << " and " << statuses[1]);
    CHECK(std::min(statuses[0], statuses[1]) == 200);
    CHECK(std::max(statuses[0], statuses[1]) == 412);
    CHECK(f.call("GET", kNotes + "/n1", kAlice).header("ETag") == "\"" + std::to_string(round + 1) + "\"");
  }
  CHECK(f.call("GET", kNotes + "/n1/revisions?limit=100", kAlice).body["items"].size() == 9);
}

TEST_CASE("two creators of the same id: exactly one wins", "[resources]") {
  plexus::test::StoreBackend backend;
  Fixture f(backend);
  for (int round = 1; round <= 5; ++round) {
    const auto id = "n" + std::to_string(round);
    std::atomic<bool> go{false};
    int statuses[2] = {0, 0};
    std::thread creators[2];
    for (int w = 0; w < 2; ++w) {
      creators[w] = std::thread([&, w] {
        while (!go) std::this_thread::yield();
        httplib::Client client("127.0.0.1", f.server->port());
        auto result =
            client.Post(kNotes, {{"Authorization", "Bearer " + std::string(w == 0 ? kAlice : kBob)}},
                        create_body(id, "by " + std::to_string(w)).dump(), "application/json");
        statuses[w] = result ? result->status : -1;
      });
    }
    go = true;
    for (auto& creator : creators) creator.join();
    INFO("round " << round << ": " << statuses[0] << " and " << statuses[1]);
    CHECK(std::min(statuses[0], statuses[1]) == 201);
    CHECK(std::max(statuses[0], statuses[1]) == 409);
    CHECK(f.call("GET", kNotes + "/" + id + "/revisions", kAlice).body["items"].size() == 1);
  }
}

TEST_CASE("invalid content is a 400 listing each problem's pointer", "[resources]") {
  plexus::test::StoreBackend backend;
  Fixture f(backend);
  const auto reply =
      f.call("POST", kNotes, kAlice,
             {{"id", "n1"}, {"content", {{"title", 3}, {"uses", {"a", false}}, {"extra", 1}}}});
  CHECK(reply.status == 400);
  CHECK(reply.body["error"]["code"] == "invalid_content");
  CHECK(reply.body["error"]["details"]["field"] == "content");
  std::set<std::string> pointers;
  for (const auto& problem : reply.body["error"]["details"]["problems"]) pointers.insert(problem["pointer"]);
  CHECK(pointers == std::set<std::string>{"/title", "/uses/1", "/extra"});
  CHECK(f.call("POST", kNotes, kAlice, {{"content", {{"title", "x"}}}}).body["error"]["details"]["field"] ==
        "id");
  CHECK(f.call("POST", kNotes, kAlice, {{"id", "n1"}}).body["error"]["details"]["field"] == "content");

  const auto unknown = f.call("GET", "/api/v1/resources/widget/w1", kAlice);
  CHECK(unknown.status == 404);
  CHECK(unknown.body["error"]["code"] == "unknown_kind");
  CHECK(unknown.body["error"]["details"]["kind"] == "widget");
}

TEST_CASE("viewers read and editors write while anonymous callers are turned away", "[resources]") {
  plexus::test::StoreBackend backend;
  Fixture f(backend);
  CHECK(f.call("POST", kNotes, "viewer:vera@default", create_body("n1", "x")).status == 403);
  CHECK(f.call("POST", kNotes, kAlice, create_body("n1", "x")).status == 201);
  CHECK(f.call("GET", kNotes + "/n1", "viewer:vera@default").status == 200);
  const auto denied = f.put(kNotes + "/n1", "viewer:vera@default", {{"content", {{"title", "y"}}}}, "\"1\"");
  CHECK(denied.status == 403);
  CHECK(denied.body["error"]["details"]["permission"] == "note.write");
  CHECK(f.call("DELETE", kNotes + "/n1", "viewer:vera@default").status == 403);
  CHECK(f.call("GET", kNotes + "/n1", "").status == 401);
}

TEST_CASE("another tenant's resource is not found over REST", "[resources]") {
  plexus::test::StoreBackend backend;
  Fixture f(backend);
  f.call("POST", kNotes, kAlice, create_body("n1", "mine"));
  const std::string mallory = "admin:mallory@other";
  CHECK(f.call("GET", kNotes + "/n1", mallory).status == 404);
  CHECK(f.put(kNotes + "/n1", mallory, {{"content", {{"title", "x"}}}}, "\"1\"").status == 404);
  CHECK(f.call("GET", kNotes + "/n1/revisions", mallory).status == 404);
  CHECK(f.call("DELETE", kNotes + "/n1", mallory).status == 404);
  CHECK(f.call("GET", kNotes, mallory).body["items"].empty());
  CHECK(f.call("GET", "/api/v1/resources:export?kinds=note", mallory).body["resources"].empty());
}

TEST_CASE("DELETE is soft and honours If-Match and restore brings the resource back", "[resources]") {
  plexus::test::StoreBackend backend;
  Fixture f(backend);
  f.call("POST", kNotes, kAlice, create_body("n1", "a"));
  CHECK(f.call("DELETE", kNotes + "/n1", kAlice, nullptr, {{"If-Match", "\"5\""}}).status == 412);
  const auto removed =
      f.call("DELETE", kNotes + "/n1?reason=obsolete", kAlice, nullptr, {{"If-Match", "\"1\""}});
  CHECK(removed.status == 200);
  CHECK(removed.body["deleted"] == true);
  CHECK(f.call("GET", kNotes + "/n1", kAlice).status == 404);
  CHECK(f.call("GET", kNotes + "/n1?include_deleted=true", kAlice).body["deleted"] == true);
  CHECK(f.call("GET", kNotes, kAlice).body["items"].empty());
  const auto restored = f.call("POST", kNotes + "/n1/restore", kAlice, {{"reason", "still needed"}});
  CHECK(restored.status == 200);
  CHECK(restored.body["content"] == json{{"title", "a"}});
  CHECK(f.call("GET", kNotes + "/n1", kAlice).status == 200);
}

TEST_CASE("promotion to production waits for approval by a second person", "[resources]") {
  plexus::test::StoreBackend backend;
  Fixture f(backend);
  const std::string gated = "/api/v1/resources/gated";
  const std::string alice = "approver:alice@default", bob = "approver:bob@default";
  f.call("POST", gated, alice, {{"id", "g1"}, {"content", {{"v", 1}}}});
  CHECK(f.call("POST", gated + "/g1/promote", alice, {{"stage", "staging"}}).status == 200);

  const auto asked =
      f.call("POST", gated + "/g1/promote", alice, {{"stage", "production"}, {"reason", "v1"}});
  CHECK(asked.status == 202);
  CHECK(asked.body["pending_promotion"]["requested_by"] == "user:alice");
  CHECK(asked.body["stages"]["production"].is_null());

  const auto self = f.call("POST", gated + "/g1/approve", alice, json::object());
  CHECK(self.status == 403);
  CHECK(self.body["error"]["code"] == "same_person");
  const auto editor = f.call("POST", gated + "/g1/approve", kBob, json::object());
  CHECK(editor.status == 403);
  CHECK(editor.body["error"]["details"]["permission"] == "gated.approve");

  const auto approved = f.call("POST", gated + "/g1/approve", bob, {{"reason", "reviewed"}});
  CHECK(approved.status == 200);
  CHECK(approved.body["stages"]["production"] == 1);
  CHECK(approved.body["pending_promotion"].is_null());
  CHECK(f.call("GET", gated + "/g1", kBob).body["stages"] ==
        json{{"draft", 1}, {"staging", 1}, {"production", 1}});
  CHECK(f.call("POST", gated + "/g1/approve", bob, json::object()).status == 409);
}

TEST_CASE("a failing pre-promotion hook blocks promotion with 409 and its problems", "[resources]") {
  plexus::test::StoreBackend backend;
  Fixture f(backend);
  const std::string gated = "/api/v1/resources/gated";
  f.call("POST", gated, kAlice, {{"id", "g1"}, {"content", {{"v", 1}}}});
  f.hook_passes = false;
  const auto blocked = f.call("POST", gated + "/g1/promote", kAlice, {{"stage", "staging"}});
  CHECK(blocked.status == 409);
  CHECK(blocked.body["error"]["code"] == "promotion_blocked");
  CHECK(blocked.body["error"]["details"]["problems"] == json{"smoke test failed"});
  CHECK(f.call("GET", gated + "/g1", kAlice).body["stages"]["staging"].is_null());
  f.hook_passes = true;
  CHECK(f.call("POST", gated + "/g1/promote", kAlice, {{"stage", "staging"}}).status == 200);
  CHECK(f.call("POST", gated + "/g1/promote", kAlice, {{"stage", "qa"}}).body["error"]["details"]["field"] ==
        "stage");
}

TEST_CASE("deleting a resource still referred to is refused with the referrers", "[resources]") {
  plexus::test::StoreBackend backend;
  Fixture f(backend);
  f.call("POST", kNotes, kAlice, create_body("base", "base"));
  f.call("POST", kNotes, kAlice, create_body("user", "user", {{"uses", {"base"}}}));
  const auto refused = f.call("DELETE", kNotes + "/base", kAlice);
  CHECK(refused.status == 409);
  CHECK(refused.body["error"]["code"] == "still_referenced");
  CHECK(refused.body["error"]["details"]["referrers"] == json::parse(R"([{"kind": "note", "id": "user"}])"));
  CHECK(f.call("GET", kNotes + "/base/referrers", kAlice).body["items"].size() == 1);
  CHECK(f.call("GET", kNotes + "/base", kAlice).status == 200);
}

TEST_CASE("a bundle exported over REST imports into an empty server as the same resources", "[resources]") {
  plexus::test::StoreBackend backend;
  Fixture source(backend);
  source.call("POST", kNotes, kAlice, create_body("a", "A"));
  source.put(kNotes + "/a", kAlice, {{"content", {{"title", "A2"}}}}, "\"1\"");
  source.call("POST", kNotes + "/a/promote", kAlice, {{"stage", "staging"}});
  source.call("POST", kNotes, kAlice, create_body("b", "B", {{"uses", {"a"}}}));
  source.call("POST", "/api/v1/resources/gated", kAlice, {{"id", "g"}, {"content", {1, 2, 3}}});
  const auto bundle = source.call("GET", "/api/v1/resources:export?kinds=note,gated", kAlice);
  REQUIRE(bundle.status == 200);
  CHECK(bundle.body["resources"].size() == 3);

  Fixture target(backend);
  CHECK(target.call("POST", "/api/v1/resources:import", "viewer:vera@default", bundle.body).status == 403);
  const auto imported = target.call("POST", "/api/v1/resources:import", kBob, bundle.body);
  REQUIRE(imported.status == 200);
  CHECK(imported.body["items"][0] ==
        json{{"kind", "note"}, {"id", "a"}, {"revision", 1}, {"outcome", "created"}});
  CHECK(target.call("GET", "/api/v1/resources:export?kinds=note,gated", kBob).body == bundle.body);
  CHECK(target.call("GET", "/api/v1/resources:export", kBob).body["resources"].size() == 3);
  CHECK(target.call("GET", kNotes + "/a", kBob).body["stages"]["staging"] == 1);
  CHECK(target.call("GET", "/api/v1/resources:export?kinds=nope", kBob).status == 404);
}

TEST_CASE("bundles travel as YAML both ways and bad YAML names its line and column", "[resources]") {
  plexus::test::StoreBackend backend;
  Fixture source(backend);
  source.call("POST", kNotes, kAlice, create_body("a", "007"));
  source.call("POST", kNotes, kAlice, create_body("b", "true\nsecond line\n"));
  source.call(
      "POST", "/api/v1/resources/gated", kAlice,
      {{"id", "g"}, {"content", {{"number", 1e3}, {"text", "1e3"}, {"none", nullptr}, {"word", "yes"}}}});
  const auto as_json = source.call("GET", "/api/v1/resources:export?kinds=note,gated", kAlice);
  REQUIRE(as_json.status == 200);

  httplib::Client client("127.0.0.1", source.server->port());
  const httplib::Headers alice{{"Authorization", "Bearer " + kAlice}};
  const auto by_accept = client.Get("/api/v1/resources:export?kinds=note,gated",
                                    {{"Authorization", "Bearer " + kAlice}, {"Accept", "application/yaml"}});
  REQUIRE(by_accept);
  CHECK(by_accept->status == 200);
  CHECK(by_accept->get_header_value("Content-Type").starts_with("application/yaml"));
  CHECK(by_accept->get_header_value("Vary") == "Accept");
  CHECK_THAT(by_accept->body, Catch::Matchers::Contains("title: \"007\""));
  const auto by_query = client.Get("/api/v1/resources:export?kinds=note,gated&format=yaml", alice);
  REQUIRE(by_query);
  CHECK(by_query->body == by_accept->body);
  CHECK(json::parse(client.Get("/api/v1/resources:export?kinds=note,gated", alice)->body) == as_json.body);
  CHECK(client.Get("/api/v1/resources:export?format=xml", alice)->status == 400);

  // The YAML export imports into an empty server as the same resources, whichever
  // YAML content type it is sent with, or none.
  for (const std::string type : {"application/yaml", "application/x-yaml", "text/plain"}) {
    INFO(type);
    Fixture target(backend);
    httplib::Client to("127.0.0.1", target.server->port());
    const auto imported = to.Post("/api/v1/resources:import", {{"Authorization", "Bearer " + kBob}},
                                  by_accept->body, type.c_str());
    REQUIRE(imported);
    CHECK(imported->status == 200);
    CHECK(target.call("GET", "/api/v1/resources:export?kinds=note,gated", kBob).body == as_json.body);
  }

  const auto bad = client.Post("/api/v1/resources:import", alice,
                               "format: plexus-bundle/1\nresources: [\n  {kind: note\n", "application/yaml");
  REQUIRE(bad);
  CHECK(bad->status == 400);
  const auto error = json::parse(bad->body)["error"];
  CHECK(error["code"] == "invalid_yaml");
  CHECK(error["details"]["line"].get<int>() > 0);
  CHECK(error["details"]["column"].get<int>() > 0);
  CHECK_THAT(error["message"].get<std::string>(), Catch::Matchers::StartsWith("request body: line "));
  const auto infinite = client.Post(
      "/api/v1/resources:import", alice,
      "format: plexus-bundle/1\nresources:\n  - {kind: gated, id: i, content: .inf}\n", "application/yaml");
  REQUIRE(infinite);
  CHECK(infinite->status == 400);
  CHECK(json::parse(infinite->body)["error"]["details"]["field"] == "/resources/0/content");
}
