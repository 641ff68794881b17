// The versioned resource store on its own: kinds and validation, revisions,
// history, diff, rollback, optimistic concurrency, tenants, soft delete, audit,
// stages and approval, references, bundles (JSON, YAML, bootstrap) and retention
// (also on its configured schedule), and the change events published after each commit.
#include "kernel/resources/resource_store.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <thread>

#include <catch2/catch.hpp>

#include "kernel/audit/audit_log.hpp"
#include "kernel/config/config.hpp"
#include "kernel/events/bus.hpp"
#include "kernel/http/message.hpp"
#include "kernel/json/json_patch.hpp"
#include "kernel/json/yaml_json.hpp"
#include "kernel/metrics/registry.hpp"
#include "kernel/resources/bootstrap_bundles.hpp"
#include "kernel/resources/change_events.hpp"
#include "kernel/resources/retention_worker.hpp"
#include "tests/support/http_error.hpp"
#include "tests/support/postgres_db.hpp"

using Catch::Matchers::Contains;
using nlohmann::json;
using plexus::auth::Caller;
using plexus::auth::CallerKind;
using plexus::http::HttpError;
using plexus::test::error_of;
using plexus::resources::Kind;
using plexus::resources::Problem;
using plexus::resources::ResourceKinds;
using plexus::resources::ResourceRef;
using plexus::resources::ResourceStore;

namespace {

// The one place the tests' database is made: each test case runs once per backend
// (SQLite, and PostgreSQL when PLEXUS_TEST_POSTGRES_URL is set; tests/support/postgres_db.hpp),
// every Fixture on a new, empty database of the run's backend.
std::unique_ptr<plexus::store::Database> test_database(const plexus::test::StoreBackend& backend,
                                                       const plexus::test::TempDir& dir) {
  return std::make_unique<plexus::store::Database>(
      plexus::store::DatabaseOptions{.url = backend.fresh_url(dir), .pool_size = 4});
}

Caller person(const std::string& name, const std::string& tenant = "default",
              std::vector<std::string> grants = {"*"}) {
  Caller caller;
  caller.kind = CallerKind::user;
  caller.tenant = tenant;
  caller.user_id = "id-" + name;
  caller.name = name;
  caller.grants = std::move(grants);
  return caller;
}

const json kNoteSchema = json::parse(R"({
  "type": "object",
  "required": ["title"],
  "properties": {
    "title": {"type": "string", "minLength": 1},
    "body": {"type": "string"},
    "tags": {"type": "array", "items": {"type": "string"}},
    "uses": {"type": "array", "items": {"type": "string"}}
  },
  "additionalProperties": false
})");

// "note": the kind the tests register; "uses" lists the ids of notes it refers to.
Kind note_kind() {
  Kind kind;
  kind.name = "note";
  kind.json_schema = kNoteSchema;
  kind.validator = [](const json& content) {
    std::vector<Problem> problems;
    if (content.value("title", "").find("forbidden") != std::string::npos) {
      problems.push_back({"/title", "must not say forbidden"});
    }
    return problems;
  };
  kind.references = [](const json& content) {
    std::vector<ResourceRef> refs;
    for (const auto& id : content.value("uses", json::array()))
      refs.push_back({"note", id.get<std::string>()});
    return refs;
  };
  return kind;
}

json note(const std::string& title, json extra = json::object()) {
  extra["title"] = title;
  return extra;
}

struct Fixture {
  explicit Fixture(const plexus::test::StoreBackend& backend, std::function<void(Kind&)> adjust = {})
      : db(test_database(backend, dir)) {
    auto kind = note_kind();
    if (adjust) adjust(kind);
    kinds.add(std::move(kind));
  }
  plexus::test::TempDir dir;
  std::unique_ptr<plexus::store::Database> db;
  plexus::audit::AuditLog audit{*db};
  ResourceKinds kinds;
  plexus::events::Bus bus;  // the store publishes its changes here, as in plexusd
  ResourceStore store{*db, audit, kinds, plexus::resources::publish_changes_on(bus)};
  Caller alice = person("alice");
  Caller bob = person("bob");

  std::vector<plexus::audit::AuditRecord> audit_of(const std::string& target) {
    plexus::audit::AuditQuery query;
    query.target = target;
    query.limit = 1000;
    auto items = audit.query(query).items;
    std::reverse(items.begin(), items.end());  // oldest first
    return items;
  }
};


}  // namespace

// ---- kinds ------------------------------------------------------------------------

TEST_CASE("bad kind names and duplicates and broken schemas are refused at registration", "[resources]") {
  ResourceKinds kinds;
  for (const char* name : {"", "Note", "1note", "no_te", "note!", "-note"}) {
    Kind kind;
    kind.name = name;
    INFO(name);
    CHECK_THROWS_AS(kinds.add(kind), std::invalid_argument);
  }
  Kind ok;
  ok.name = "saved-query2";
  kinds.add(ok);
  CHECK_THROWS_AS(kinds.add(ok), std::invalid_argument);
  Kind broken;
  broken.name = "broken";
  broken.json_schema = json::parse(R"({"type": 12})");
  CHECK_THROWS_AS(kinds.add(broken), std::invalid_argument);
  CHECK(kinds.names() == std::vector<std::string>{"saved-query2"});
  CHECK(kinds.remove("saved-query2"));
  CHECK_FALSE(kinds.find("saved-query2"));
}

TEST_CASE("schema and validator problems are listed with their JSON pointers", "[resources]") {
  plexus::test::StoreBackend backend;
  Fixture f(backend);
  const auto error = error_of([&] {
    f.store.create(f.alice, "note", "n1",
                   json{{"title", ""}, {"tags", json::array({"a", 3})}, {"colour", "red"}}, "");
  });
  CHECK(error.status() == 400);
  CHECK(error.code() == "invalid_content");
  CHECK(error.details()["field"] == "content");
  std::vector<std::string> pointers;
  for (const auto& problem : error.details()["problems"]) pointers.push_back(problem["pointer"]);
  CHECK(std::count(pointers.begin(), pointers.end(), "/title") == 1);
  CHECK(std::count(pointers.begin(), pointers.end(), "/tags/1") == 1);
  CHECK(std::count(pointers.begin(), pointers.end(), "/colour") == 1);

  const auto missing = error_of([&] { f.store.create(f.alice, "note", "n1", json::object(), ""); });
  CHECK(missing.details()["problems"][0]["pointer"] == "/title");

  const auto refused = error_of([&] { f.store.create(f.alice, "note", "n1", note("forbidden words"), ""); });
  REQUIRE(refused.details()["problems"].size() == 1);
  CHECK(refused.details()["problems"][0] ==
        json{{"pointer", "/title"}, {"message", "must not say forbidden"}});
}

TEST_CASE("an unknown kind is a 404 naming it", "[resources]") {
  plexus::test::StoreBackend backend;
  Fixture f(backend);
  const auto error = error_of([&] { f.store.get(f.alice, "dashboard", "x"); });
  CHECK(error.status() == 404);
  CHECK(error.code() == "unknown_kind");
  CHECK(error.details()["kind"] == "dashboard");
  CHECK(std::string(error.what()).find("dashboard") != std::string::npos);
}

// ---- revisions ----------------------------------------------------------------------

TEST_CASE("create then update with history and diff and rollback", "[resources]") {
  plexus::test::StoreBackend backend;
  Fixture f(backend);
  auto created = f.store.create(f.alice, "note", "n1", note("first", {{"body", "hello"}}), "start");
  CHECK(created.revision == 1);
  CHECK(created.stages.draft == 1);
  CHECK(created.created_by == "user:alice");

  auto updated = f.store.update(f.bob, "note", "n1", 1, note("second", {{"tags", {"x"}}}), "retitle");
  CHECK(updated.revision == 2);
  CHECK(f.store.get(f.alice, "note", "n1").content == note("second", {{"tags", {"x"}}}));
  CHECK(f.store.get(f.alice, "note", "n1").updated_by == "user:bob");

  const auto page = f.store.revisions(f.alice, "note", "n1", 50);
  REQUIRE(page.items.size() == 2);
  CHECK(page.items[0].number == 2);
  CHECK(page.items[0].author == "user:bob");
  CHECK(page.items[0].reason == "retitle");
  CHECK(page.items[1].number == 1);
  CHECK(page.items[1].hash.size() == 64);
  CHECK(f.store.revision(f.alice, "note", "n1", 1).content == note("first", {{"body", "hello"}}));

  const auto diff = f.store.diff(f.alice, "note", "n1", 1, 2);
  CHECK(plexus::jsonpatch::apply_patch(note("first", {{"body", "hello"}}), diff.patch) ==
        note("second", {{"tags", {"x"}}}));
  REQUIRE(diff.patch.size() == 3);
  REQUIRE(diff.readable.size() == 3);
  CHECK(std::count(diff.readable.begin(), diff.readable.end(),
                   json{{"path", "/title"}, {"change", "changed"}, {"from", "first"}, {"to", "second"}}) ==
        1);
  CHECK(std::count(diff.readable.begin(), diff.readable.end(),
                   json{{"path", "/body"}, {"change", "removed"}, {"value", "hello"}}) == 1);
  CHECK(f.store.diff(f.alice, "note", "n1", 2, 2).patch.empty());

  auto rolled = f.store.rollback(f.alice, "note", "n1", 1, "", std::nullopt);
  CHECK(rolled.revision == 3);
  CHECK(rolled.content == note("first", {{"body", "hello"}}));
  const auto third = f.store.revision(f.alice, "note", "n1", 3);
  CHECK(third.reason == "rollback to revision 1");
  CHECK(third.hash == f.store.revision(f.alice, "note", "n1", 1).hash);

  CHECK(error_of([&] { f.store.revision(f.alice, "note", "n1", 9); }).status() == 404);
  CHECK(error_of([&] { f.store.rollback(f.alice, "note", "n1", 9, "", std::nullopt); }).status() == 404);
  CHECK(error_of([&] { f.store.create(f.alice, "note", "n1", note("again"), ""); }).status() == 409);
  CHECK(error_of([&] { f.store.create(f.alice, "note", "bad id", note("x"), ""); }).details()["field"] ==
        "id");
}

TEST_CASE("revisions page newest first", "[resources]") {
  plexus::test::StoreBackend backend;
  Fixture f(backend);
  f.store.create(f.alice, "note", "n1", note("v1"), "");
  for (int i = 2; i <= 5; ++i)
    f.store.update(f.alice, "note", "n1", i - 1, note("v" + std::to_string(i)), "");
  const auto first = f.store.revisions(f.alice, "note", "n1", 2);
  REQUIRE(first.items.size() == 2);
  CHECK(first.items[0].number == 5);
  REQUIRE(first.next_before);
  const auto second = f.store.revisions(f.alice, "note", "n1", 2, first.next_before);
  CHECK(second.items[0].number == 3);
  const auto last = f.store.revisions(f.alice, "note", "n1", 2, second.next_before);
  CHECK(last.items.size() == 1);
  CHECK_FALSE(last.next_before);
}

TEST_CASE("an update with a stale revision is refused with the current one", "[resources]") {
  plexus::test::StoreBackend backend;
  Fixture f(backend);
  f.store.create(f.alice, "note", "n1", note("a"), "");
  f.store.update(f.alice, "note", "n1", 1, note("b"), "");
  const auto error = error_of([&] { f.store.update(f.bob, "note", "n1", 1, note("c"), ""); });
  CHECK(error.status() == 412);
  CHECK(error.details()["current_revision"] == 2);
  CHECK(error.details()["expected_revision"] == 1);
  CHECK(f.store.get(f.alice, "note", "n1").content == note("b"));
}

TEST_CASE("list pages by id and hides deleted resources", "[resources]") {
  plexus::test::StoreBackend backend;
  Fixture f(backend);
  for (const char* id : {"c", "a", "d", "b"}) f.store.create(f.alice, "note", id, note(id), "");
  f.store.remove(f.alice, "note", "c", std::nullopt, "");
  const auto first = f.store.list(f.alice, "note", 2);
  REQUIRE(first.items.size() == 2);
  CHECK(first.items[0].id == "a");
  CHECK(first.items[1].id == "b");
  REQUIRE(first.next_after);
  const auto second = f.store.list(f.alice, "note", 2, *first.next_after);
  REQUIRE(second.items.size() == 1);
  CHECK(second.items[0].id == "d");
  CHECK_FALSE(second.next_after);
  CHECK(f.store.list(f.alice, "note", 10, "", true).items.size() == 4);
}

// ---- tenants -------------------------------------------------------------------------

TEST_CASE("another tenant's resources do not exist for the caller", "[resources]") {
  plexus::test::StoreBackend backend;
  Fixture f(backend);
  const auto mallory = person("mallory", "other");
  f.store.create(f.alice, "note", "n1", note("mine"), "");
  for (const auto& error : {error_of([&] { f.store.get(mallory, "note", "n1"); }),
                            error_of([&] { f.store.update(mallory, "note", "n1", 1, note("x"), ""); }),
                            error_of([&] { f.store.revisions(mallory, "note", "n1", 10); }),
                            error_of([&] { f.store.revision(mallory, "note", "n1", 1); }),
                            error_of([&] { f.store.diff(mallory, "note", "n1", 1, 1); }),
                            error_of([&] { f.store.rollback(mallory, "note", "n1", 1, "", std::nullopt); }),
                            error_of([&] { f.store.remove(mallory, "note", "n1", std::nullopt, ""); }),
                            error_of([&] { f.store.promote(mallory, "note", "n1", "staging", ""); })}) {
    CHECK(error.status() == 404);
  }
  CHECK(f.store.list(mallory, "note", 10).items.empty());
  CHECK(f.store.export_bundle(mallory, {"note"})["resources"].empty());
  // The same id is free in the other tenant, and separate.
  f.store.create(mallory, "note", "n1", note("theirs"), "");
  CHECK(f.store.get(f.alice, "note", "n1").content == note("mine"));
  CHECK(f.store.get(mallory, "note", "n1").content == note("theirs"));
}

// ---- delete and restore ----------------------------------------------------------------

TEST_CASE("soft delete hides a resource and restore brings it back with its history", "[resources]") {
  plexus::test::StoreBackend backend;
  Fixture f(backend);
  f.store.create(f.alice, "note", "n1", note("a"), "");
  f.store.update(f.alice, "note", "n1", 1, note("b"), "");
  CHECK(error_of([&] { f.store.remove(f.alice, "note", "n1", 1, ""); }).status() == 412);
  const auto removed = f.store.remove(f.alice, "note", "n1", 2, "no longer needed");
  CHECK(removed.deleted);
  CHECK(error_of([&] { f.store.get(f.alice, "note", "n1"); }).status() == 404);
  CHECK(f.store.get(f.alice, "note", "n1", true).deleted);
  CHECK(error_of([&] { f.store.update(f.alice, "note", "n1", 2, note("c"), ""); }).status() == 404);
  const auto taken = error_of([&] { f.store.create(f.alice, "note", "n1", note("new"), ""); });
  CHECK(taken.status() == 409);
  CHECK(taken.details()["deleted"] == true);
  CHECK(f.store.revisions(f.alice, "note", "n1", 10).items.size() == 2);

  const auto restored = f.store.restore(f.alice, "note", "n1", "needed after all");
  CHECK_FALSE(restored.deleted);
  CHECK(restored.revision == 2);
  CHECK(restored.content == note("b"));
  CHECK(error_of([&] { f.store.restore(f.alice, "note", "n1", ""); }).status() == 409);
}

// ---- audit -------------------------------------------------------------------------------

TEST_CASE("every change is audited with before and after", "[resources]") {
  plexus::test::StoreBackend backend;
  Fixture f(backend);
  f.store.create(f.alice, "note", "n1", note("a"), "start");
  f.store.update(f.bob, "note", "n1", 1, note("b"), "edit");
  f.store.rollback(f.alice, "note", "n1", 1, "undo", std::nullopt);
  f.store.remove(f.alice, "note", "n1", std::nullopt, "gone");
  f.store.restore(f.alice, "note", "n1", "back");
  f.store.promote(f.alice, "note", "n1", "staging", "ship");

  const auto rows = f.audit_of("note/n1");
  REQUIRE(rows.size() == 6);
  CHECK(rows[0].action == "resource.create");
  CHECK(rows[0].actor == "user:alice");
  CHECK(rows[0].before.is_null());
  CHECK(rows[0].after == json{{"revision", 1}, {"content", note("a")}});
  CHECK(rows[0].details["reason"] == "start");
  CHECK(rows[1].action == "resource.update");
  CHECK(rows[1].actor == "user:bob");
  CHECK(rows[1].before == json{{"revision", 1}, {"content", note("a")}});
  CHECK(rows[1].after == json{{"revision", 2}, {"content", note("b")}});
  CHECK(rows[2].action == "resource.rollback");
  CHECK(rows[2].after == json{{"revision", 3}, {"content", note("a")}});
  CHECK(rows[2].details["to_revision"] == 1);
  CHECK(rows[3].action == "resource.delete");
  CHECK(rows[3].before["deleted"] == false);
  CHECK(rows[3].after["deleted"] == true);
  CHECK(rows[4].action == "resource.restore");
  CHECK(rows[5].action == "resource.promote");
  CHECK(rows[5].after["stages"]["staging"] == 3);
  CHECK(f.audit.verify().ok);
}

TEST_CASE("a refused change leaves neither a revision nor an audit row", "[resources]") {
  plexus::test::StoreBackend backend;
  Fixture f(backend);
  f.store.create(f.alice, "note", "n1", note("a"), "");
  error_of([&] { f.store.update(f.alice, "note", "n1", 7, note("b"), ""); });
  error_of([&] { f.store.update(f.alice, "note", "n1", 1, json::object(), ""); });
  CHECK(f.store.revisions(f.alice, "note", "n1", 10).items.size() == 1);
  CHECK(f.audit_of("note/n1").size() == 1);
}

// ---- stages ---------------------------------------------------------------------------------

TEST_CASE("promotion moves stage pointers draft to staging to production", "[resources]") {
  plexus::test::StoreBackend backend;
  Fixture f(backend);
  f.store.create(f.alice, "note", "n1", note("a"), "");
  const auto unstaged = error_of([&] { f.store.promote(f.alice, "note", "n1", "production", ""); });
  CHECK(unstaged.status() == 409);
  CHECK(unstaged.code() == "not_staged");
  CHECK(error_of([&] { f.store.promote(f.alice, "note", "n1", "live", ""); }).details()["field"] == "stage");

  auto staged = f.store.promote(f.alice, "note", "n1", "staging", "try it");
  CHECK_FALSE(staged.pending);
  CHECK(staged.resource.stages.staging == 1);
  f.store.update(f.alice, "note", "n1", 1, note("b"), "");
  auto live = f.store.promote(f.alice, "note", "n1", "production", "ship");
  CHECK(live.resource.stages.production == 1);  // what staging held, not the newer draft
  const auto now = f.store.get(f.alice, "note", "n1");
  CHECK(now.stages.draft == 2);
  CHECK(now.stages.staging == 1);
  CHECK(now.stages.production == 1);
  CHECK(f.store.promote(f.alice, "note", "n1", "production", "", 2).resource.stages.production == 2);
}

TEST_CASE("promotion to production can require a second person's approval", "[resources]") {
  plexus::test::StoreBackend backend;
  Fixture f(backend, [](Kind& kind) { kind.requires_approval = true; });
  f.store.create(f.alice, "note", "n1", note("a"), "");
  f.store.promote(f.alice, "note", "n1", "staging", "");  // staging needs no approval
  CHECK(error_of([&] { f.store.approve(f.bob, "note", "n1", ""); }).code() == "nothing_to_approve");

  const auto asked = f.store.promote(f.alice, "note", "n1", "production", "release 1");
  REQUIRE(asked.pending);
  CHECK(asked.pending->revision == 1);
  CHECK(asked.pending->requested_by == "user:alice");
  CHECK_FALSE(asked.resource.stages.production);
  CHECK(f.store.get(f.bob, "note", "n1").pending_promotion->id == asked.pending->id);

  // The same person through another credential is still the same person.
  auto alice_key = f.alice;
  alice_key.kind = CallerKind::api_key;
  alice_key.name = "alice-ci";
  for (const auto& same : {f.alice, alice_key}) {
    const auto refused = error_of([&] { f.store.approve(same, "note", "n1", ""); });
    CHECK(refused.status() == 403);
    CHECK(refused.code() == "same_person");
  }
  CHECK_FALSE(f.store.get(f.alice, "note", "n1").stages.production);

  const auto approved = f.store.approve(f.bob, "note", "n1", "looks good");
  CHECK(approved.stages.production == 1);
  CHECK_FALSE(approved.pending_promotion);
  const auto rows = f.audit_of("note/n1");
  CHECK(rows.back().action == "resource.approve");
  CHECK(rows.back().actor == "user:bob");
  CHECK(rows.back().details["requested_by"] == "user:alice");
}

TEST_CASE("a failing pre-promotion hook blocks promotion with its problems", "[resources]") {
  bool pass = false;
  std::vector<std::string> checked_stages;
  plexus::test::StoreBackend backend;
  Fixture f(backend, [&](Kind& kind) {
    kind.pre_promotion = [&](const plexus::resources::PromotionCheck& check) {
      checked_stages.push_back(check.stage + "@" + std::to_string(check.revision) + ":" +
                               check.content["title"].get<std::string>());
      return pass ? std::vector<std::string>{} : std::vector<std::string>{"test 3 failed", "test 4 failed"};
    };
  });
  f.store.create(f.alice, "note", "n1", note("a"), "");
  const auto blocked = error_of([&] { f.store.promote(f.alice, "note", "n1", "staging", ""); });
  CHECK(blocked.status() == 409);
  CHECK(blocked.code() == "promotion_blocked");
  CHECK(blocked.details()["problems"] == json{"test 3 failed", "test 4 failed"});
  CHECK_FALSE(f.store.get(f.alice, "note", "n1").stages.staging);
  pass = true;
  CHECK(f.store.promote(f.alice, "note", "n1", "staging", "").resource.stages.staging == 1);
  CHECK(checked_stages == std::vector<std::string>{"staging@1:a", "staging@1:a"});
}

// ---- references -----------------------------------------------------------------------------

TEST_CASE("a resource still referred to cannot be deleted", "[resources]") {
  plexus::test::StoreBackend backend;
  Fixture f(backend);
  f.store.create(f.alice, "note", "base", note("base"), "");
  f.store.create(f.alice, "note", "user1", note("u1", {{"uses", {"base"}}}), "");
  f.store.create(f.alice, "note", "user2", note("u2", {{"uses", {"base", "base"}}}), "");
  const auto refused = error_of([&] { f.store.remove(f.alice, "note", "base", std::nullopt, ""); });
  CHECK(refused.status() == 409);
  CHECK(refused.code() == "still_referenced");
  CHECK(refused.details()["referrers"] ==
        json::parse(R"([{"kind": "note", "id": "user1"}, {"kind": "note", "id": "user2"}])"));

  // An update that drops the reference, and a deleted referrer, free it.
  f.store.update(f.alice, "note", "user1", 1, note("u1"), "");
  f.store.remove(f.alice, "note", "user2", std::nullopt, "");
  CHECK(f.store.referrers(f.alice, "note", "base").empty());
  CHECK(f.store.remove(f.alice, "note", "base", std::nullopt, "").deleted);
}

// ---- bundles ---------------------------------------------------------------------------------

TEST_CASE("a bundle exported and imported into an empty database gives the same resources", "[resources]") {
  plexus::test::StoreBackend backend;
  Fixture source(backend);
  source.store.create(source.alice, "note", "a", note("A", {{"tags", {"x", "y"}}}), "");
  source.store.update(source.alice, "note", "a", 1, note("A2"), "");
  source.store.promote(source.alice, "note", "a", "staging", "");
  source.store.promote(source.alice, "note", "a", "production", "");
  source.store.create(source.alice, "note", "b", note("B", {{"uses", {"a"}}}), "");
  source.store.create(source.alice, "note", "gone", note("G"), "");
  source.store.remove(source.alice, "note", "gone", std::nullopt, "");
  const auto bundle = source.store.export_bundle(source.alice, {"note"});
  CHECK(bundle["format"] == "plexus-bundle/1");
  REQUIRE(bundle["resources"].size() == 2);
  CHECK(bundle["resources"][0] ==
        json{{"kind", "note"}, {"id", "a"}, {"content", note("A2")}, {"stages", {"staging", "production"}}});

  Fixture target(backend);
  const auto imported = target.store.import_bundle(target.bob, json::parse(bundle.dump()));
  REQUIRE(imported.size() == 2);
  CHECK(imported[0].outcome == "created");
  CHECK(target.store.export_bundle(target.bob, {"note"}) == bundle);
  CHECK(target.store.revision(target.bob, "note", "a", 1).reason == "import");
  CHECK(target.store.referrers(target.bob, "note", "a").size() == 1);

  // Importing the same again changes nothing; a changed resource gets a revision.
  CHECK(target.store.import_bundle(target.bob, bundle)[0].outcome == "unchanged");
  auto changed = bundle;
  changed["resources"][1]["content"]["title"] = "B2";
  const auto again = target.store.import_bundle(target.bob, changed);
  CHECK(again[1].outcome == "updated");
  CHECK(again[1].revision == 2);
}

TEST_CASE("a bad bundle is refused whole naming the place", "[resources]") {
  plexus::test::StoreBackend backend;
  Fixture f(backend);
  json bundle = {{"format", "plexus-bundle/1"},
                 {"resources",
                  {{{"kind", "note"}, {"id", "ok"}, {"content", note("fine")}},
                   {{"kind", "note"}, {"id", "bad"}, {"content", {{"title", 5}}}}}}};
  const auto error = error_of([&] { f.store.import_bundle(f.alice, bundle); });
  CHECK(error.status() == 400);
  CHECK(error.details()["problems"][0]["pointer"] == "/resources/1/content/title");
  CHECK(f.store.list(f.alice, "note", 10).items.empty());
  bundle["resources"][1] = {{"kind", "widget"}, {"id", "w"}, {"content", 1}};
  CHECK(error_of([&] { f.store.import_bundle(f.alice, bundle); }).details()["field"] == "/resources/1/kind");
  CHECK(error_of([&] { f.store.import_bundle(f.alice, {{"format", "x"}}); }).details()["field"] == "/format");
}

TEST_CASE("a bundle written as YAML imports as the same resources, tricky strings included", "[resources]") {
  plexus::test::StoreBackend backend;
  Fixture source(backend);
  // Strings a careless YAML writer would turn into numbers, booleans or null, and text
  // whose line breaks and indentation must survive.
  const json tricky = note("007", {{"body", "SELECT id,\n       name\n  FROM servers\n\n -- done\n"},
                                   {"tags",
                                    {"true", "1e3", "null", "~", "yes", "0x1F", "- a", "a: b", " lead", "",
                                     "no final newline\nhere", "caf\u00e9"}}});
  source.store.create(source.alice, "note", "tricky", tricky, "");
  source.store.create(source.alice, "note", "plain", note("Plain"), "");
  source.store.promote(source.alice, "note", "plain", "staging", "");
  const auto yaml = plexus::yaml_json::to_yaml(source.store.export_bundle(source.alice, {"note"}));
  INFO(yaml);
  CHECK_THAT(yaml, Contains("title: \"007\""));
  CHECK_THAT(yaml, Contains("body: |"));

  Fixture target(backend);
  const auto imported = target.store.import_bundle(target.bob, plexus::yaml_json::parse(yaml));
  REQUIRE(imported.size() == 2);
  CHECK(target.store.get(target.bob, "note", "tricky").content == tricky);
  CHECK(target.store.get(target.bob, "note", "plain").stages.staging == 1);
  CHECK(plexus::yaml_json::to_yaml(target.store.export_bundle(target.bob, {"note"})) == yaml);
}

// ---- bootstrap bundles ---------------------------------------------------------------------

namespace {

std::vector<std::string> outcomes(const plexus::resources::BootstrapResult& result) {
  std::vector<std::string> out;
  for (const auto& item : result.items) out.push_back(item.kind + "/" + item.id + " " + item.outcome);
  return out;
}

std::string bootstrap_error(ResourceStore& store, const std::filesystem::path& path) {
  try {
    plexus::resources::import_bootstrap_bundles(store, path);
  } catch (const std::runtime_error& error) {
    return error.what();
  }
  FAIL("expected the bootstrap of " << path << " to fail");
  return {};
}

}  // namespace

TEST_CASE("bootstrap bundles create what is missing and never touch what exists", "[resources]") {
  using plexus::resources::import_bootstrap_bundles;
  plexus::test::StoreBackend backend;
  Fixture f(backend);
  plexus::test::TempDir bundles;
  bundles.write("10-notes.yaml", R"(format: plexus-bundle/1
resources:
  - kind: note
    id: welcome
    content: {title: Hello}
    stages: [staging]
  - kind: note
    id: gone
    content: {title: Gone}
  - kind: widget
    id: w1
    content: {size: 3}
)");
  bundles.write(
      "20-more.json",
      R"({"format": "plexus-bundle/1", "resources": [{"kind": "note", "id": "other", "content": {"title": "Other"}}]})");
  bundles.write("README.md", "not a bundle: ignored");

  CHECK(import_bootstrap_bundles(f.store, "").empty());
  const auto first = import_bootstrap_bundles(f.store, bundles.path());
  REQUIRE(first.size() == 2);
  CHECK(first[0].file.filename() == "10-notes.yaml");
  CHECK(outcomes(first[0]) ==
        std::vector<std::string>{"note/welcome created", "note/gone created", "widget/w1 unknown_kind"});
  CHECK(outcomes(first[1]) == std::vector<std::string>{"note/other created"});
  const auto welcome = f.store.get(f.alice, "note", "welcome");
  CHECK(welcome.content == note("Hello"));
  CHECK(welcome.stages.staging == 1);
  CHECK(welcome.created_by == "system:bootstrap");
  const auto audited = f.audit_of("note/welcome");
  REQUIRE_FALSE(audited.empty());
  CHECK(audited.front().action == "resource.create");
  CHECK(audited.front().actor == "system:bootstrap");
  CHECK(audited.front().tenant == "default");
  CHECK(audited.front().details["reason"] == "bootstrap bundle 10-notes.yaml");

  // What an operator changed or deleted since stays so, start after start.
  f.store.update(f.alice, "note", "welcome", 1, note("Changed"), "");
  f.store.remove(f.alice, "note", "gone", std::nullopt, "");
  const auto again = import_bootstrap_bundles(f.store, bundles.path());
  CHECK(outcomes(again[0]) ==
        std::vector<std::string>{"note/welcome skipped", "note/gone skipped", "widget/w1 unknown_kind"});
  CHECK(outcomes(again[1]) == std::vector<std::string>{"note/other skipped"});
  CHECK(f.store.get(f.alice, "note", "welcome").content == note("Changed"));
  CHECK(f.store.get(f.alice, "note", "gone", true).deleted);
  CHECK(f.audit_of("note/welcome").size() == audited.size() + 1);  // the operator's update only

  // A single file works as well; a file that is not a valid bundle stops the start, named.
  CHECK(import_bootstrap_bundles(f.store, bundles.path() / "20-more.json").size() == 1);
  bundles.write("30-broken.yaml", "format: plexus-bundle/1\nresources: [\n");
  CHECK_THAT(bootstrap_error(f.store, bundles.path()), Contains("30-broken.yaml") && Contains("line 3"));
  bundles.write("30-broken.yaml",
                "format: plexus-bundle/1\nresources:\n  - {kind: note, id: x, content: {}}\n");
  CHECK_THAT(bootstrap_error(f.store, bundles.path()),
             Contains("30-broken.yaml: /resources/0/content: the content is not a valid note"));
  CHECK_THAT(bootstrap_error(f.store, bundles.path() / "missing"),
             Contains("missing: no such file or directory"));
  CHECK_THROWS(f.store.get(f.alice, "note", "x"));
}

// ---- retention -----------------------------------------------------------------------------

TEST_CASE("prune keeps the last revisions and pinned and young ones and the current one", "[resources]") {
  plexus::test::StoreBackend backend;
  Fixture f(backend, [](Kind& kind) { kind.requires_approval = true; });
  f.store.create(f.alice, "note", "n1", note("v1"), "");
  for (int i = 2; i <= 10; ++i)
    f.store.update(f.alice, "note", "n1", i - 1, note("v" + std::to_string(i)), "");
  f.store.promote(f.alice, "note", "n1", "staging", "", 2);
  f.store.promote(f.alice, "note", "n1", "production", "", 4);  // pending approval: pinned too
  f.store.create(f.alice, "note", "single", note("only"), "");

  const auto now = std::chrono::system_clock::now();
  // Everything is younger than a day: nothing goes.
  CHECK(f.store.prune({.keep_last = 3, .keep_younger_than = std::chrono::hours(24)}, now).removed == 0);
  // A year later: all but the last 3 (8, 9, 10), staging's 2 and the pending 4.
  const auto later = now + std::chrono::hours(24 * 365);
  CHECK(f.store.prune({.keep_last = 3, .keep_younger_than = std::chrono::hours(24)}, later).removed == 5);
  std::vector<std::int64_t> kept;
  for (const auto& revision : f.store.revisions(f.alice, "note", "n1", 100).items)
    kept.push_back(revision.number);
  CHECK(kept == std::vector<std::int64_t>{10, 9, 8, 4, 2});
  CHECK(f.store.revisions(f.alice, "note", "single", 100).items.size() == 1);
  CHECK(error_of([&] { f.store.revision(f.alice, "note", "n1", 5); }).code() == "revision_not_found");
  CHECK(f.store.get(f.alice, "note", "n1").content == note("v10"));

  // keep_last = 1 still keeps the current revision and the pinned ones.
  CHECK(f.store.prune({.keep_last = 1, .keep_younger_than = std::chrono::hours(1)}, later).removed == 2);
  kept.clear();
  for (const auto& revision : f.store.revisions(f.alice, "note", "n1", 100).items)
    kept.push_back(revision.number);
  CHECK(kept == std::vector<std::int64_t>{10, 4, 2});
  CHECK(f.audit_of("resources").back().action == "resource.prune");
}

TEST_CASE("plexusd's retention schedule prunes by config and counts what it removed", "[resources]") {
  using namespace std::chrono_literals;
  plexus::test::StoreBackend backend;
  Fixture f(backend);
  f.store.create(f.alice, "note", "n", note("v1"), "");
  for (int i = 2; i <= 5; ++i) f.store.update(f.alice, "note", "n", i - 1, note("v" + std::to_string(i)), "");

  auto config = plexus::config::Config::defaults(plexus::config::kernel_schema());
  const auto defaults = plexus::resources::retention_schedule_of(config);
  CHECK(defaults.policy.keep_last == 20);
  CHECK(defaults.policy.keep_younger_than == std::chrono::hours(24 * 30));
  CHECK(defaults.interval == std::chrono::hours(1));
  config.set("resources.retention.keep_last", "2");
  config.set("resources.retention.keep_younger_than", "0");
  config.set("resources.retention.interval", "20ms");
  CHECK_THROWS_AS(config.set("resources.retention.keep_last", "0"), plexus::config::ConfigError);
  std::this_thread::sleep_for(5ms);  // every revision strictly older than "now - 0"

  plexus::metrics::Registry metrics;
  {
    plexus::resources::RetentionWorker worker(f.store, plexus::resources::retention_schedule_of(config),
                                              metrics, 0ms);
    CHECK(worker.running());
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (metrics.render().find("plexus_resource_revisions_pruned_total 3") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(10ms);
    }
    CHECK_THAT(metrics.render(), Contains("plexus_resource_revisions_pruned_total 3"));
  }
  std::vector<std::int64_t> kept;
  for (const auto& revision : f.store.revisions(f.alice, "note", "n", 100).items)
    kept.push_back(revision.number);
  CHECK(kept == std::vector<std::int64_t>{5, 4});

  config.set("resources.retention.interval", "0");
  CHECK_FALSE(
      plexus::resources::RetentionWorker(f.store, plexus::resources::retention_schedule_of(config), metrics)
          .running());
}

// ---- change events ----------------------------------------------------------------------------

namespace {

// Every resource.> event on the fixture's bus, each with whether a reader on another
// connection already saw the change when the event arrived (so: after the commit).
struct ChangeLog {
  explicit ChangeLog(Fixture& fixture) : f(fixture) {
    plexus::events::SubscriptionOptions options;
    options.owner = "test";
    subscription = f.bus.subscribe_events(
        "resource.>",
        [this](const plexus::events::Event& event) {
          const auto payload = json::parse(event.payload);
          const std::string tenant = payload["tenant"], kind = payload["kind"], id = payload["id"];
          const std::string stage = payload["stage"].is_null() ? "" : payload["stage"].get<std::string>();
          const auto now = f.store.stored_revision(tenant, kind, id, stage);
          const bool visible =
              payload["action"] == "deleted" ? !now : now && now->number == payload["revision"];
          events.push_back({event.topic, event.key, payload, visible});
        },
        options);
  }
  ~ChangeLog() { f.bus.unsubscribe(subscription); }

  struct Seen {
    std::string topic, key;
    json payload;
    bool visible = false;
  };
  // "action revision stage" of each event, and checks what every event has in common.
  std::vector<std::string> summary() const {
    std::vector<std::string> out;
    for (const auto& seen : events) {
      INFO(seen.payload.dump());
      CHECK(seen.topic == "resource." + seen.payload["kind"].get<std::string>() + ".changed");
      CHECK(seen.key == seen.payload["tenant"].get<std::string>() + "/" +
                            seen.payload["kind"].get<std::string>() + "/" +
                            seen.payload["id"].get<std::string>());
      CHECK(seen.visible);
      CHECK_FALSE(seen.payload.contains("content"));
      CHECK(seen.payload.size() == 6);
      out.push_back(seen.payload["id"].get<std::string>() + " " + seen.payload["action"].get<std::string>() +
                    " " + std::to_string(seen.payload["revision"].get<std::int64_t>()) +
                    (seen.payload["stage"].is_null() ? "" : " " + seen.payload["stage"].get<std::string>()));
    }
    return out;
  }

  Fixture& f;
  std::uint64_t subscription = 0;
  std::vector<Seen> events;
};

using Summary = std::vector<std::string>;

}  // namespace

TEST_CASE("every committed change is published once as resource.<kind>.changed", "[resources][events]") {
  plexus::test::StoreBackend backend;
  Fixture f(backend);
  ChangeLog log(f);
  f.store.create(f.alice, "note", "n1", note("a", {{"body", "secret body"}}), "");
  f.store.update(f.alice, "note", "n1", 1, note("b"), "");
  f.store.promote(f.alice, "note", "n1", "staging", "");
  f.store.promote(f.alice, "note", "n1", "production", "");
  f.store.rollback(f.alice, "note", "n1", 1, "");
  f.store.remove(f.alice, "note", "n1", std::nullopt, "");
  f.store.restore(f.alice, "note", "n1", "");
  const auto changes = log.summary();
  CHECK(changes == Summary{"n1 saved 1", "n1 saved 2", "n1 promoted 2 staging", "n1 promoted 2 production",
                           "n1 rolled_back 3", "n1 deleted 3", "n1 restored 3"});
  CHECK(log.events[0].payload == json{{"tenant", "default"},
                                      {"kind", "note"},
                                      {"id", "n1"},
                                      {"revision", 1},
                                      {"stage", nullptr},
                                      {"action", "saved"}});
  CHECK(log.events[0].payload.dump().find("secret body") == std::string::npos);

  // An import: one event per resource it created, changed, restored or re-staged; none
  // for what it left as it was.
  log.events.clear();
  f.store.create(f.alice, "note", "same", note("same"), "");
  log.events.clear();
  const auto bundle = json::parse(R"({"format": "plexus-bundle/1", "resources": [
      {"kind": "note", "id": "same", "content": {"title": "same"}},
      {"kind": "note", "id": "new", "content": {"title": "new"}},
      {"kind": "note", "id": "n1", "content": {"title": "b"}, "stages": ["staging"]}]})");
  f.store.import_bundle(f.bob, bundle);
  const auto imported = log.summary();
  CHECK(imported == Summary{"new imported 1", "n1 imported 4"});
  log.events.clear();
  f.store.import_bundle(f.bob, bundle);
  CHECK(log.events.empty());

  // Another tenant's change names that tenant.
  f.store.create(person("carol", "acme"), "note", "n1", note("c"), "");
  REQUIRE(log.events.size() == 1);
  CHECK(log.events[0].payload["tenant"] == "acme");
  CHECK(log.events[0].key == "acme/note/n1");
}

TEST_CASE("nothing is published for a refused or rolled-back write", "[resources][events]") {
  plexus::test::StoreBackend backend;
  bool boom = false;
  Fixture f(backend, [&](Kind& kind) {
    kind.pre_promotion = [](const plexus::resources::PromotionCheck& check) {
      return check.stage == "production" ? std::vector<std::string>{"not yet"} : std::vector<std::string>{};
    };
    auto references = kind.references;
    kind.references = [&boom, references](const json& content) {
      if (boom && content["title"] == "boom") throw std::runtime_error("cannot read the references");
      return references(content);
    };
  });
  f.store.create(f.alice, "note", "base", note("base"), "");
  f.store.create(f.alice, "note", "user", note("user", {{"uses", {"base"}}}), "");
  ChangeLog log(f);
  error_of([&] { f.store.create(f.alice, "note", "base", note("again"), ""); });      // exists
  error_of([&] { f.store.update(f.alice, "note", "base", 7, note("stale"), ""); });   // stale revision
  error_of([&] { f.store.update(f.alice, "note", "base", 1, json::object(), ""); });  // invalid
  error_of([&] { f.store.remove(f.alice, "note", "base", std::nullopt, ""); });       // still referenced
  error_of([&] { f.store.restore(f.alice, "note", "base", ""); });                    // not deleted
  error_of([&] { f.store.rollback(f.alice, "note", "base", 9, ""); });                // no such revision
  f.store.promote(f.alice, "note", "base", "staging", "");
  log.events.clear();
  error_of([&] { f.store.promote(f.alice, "note", "base", "production", ""); });  // blocked
  // The first resource of the bundle is written, the second fails inside the same
  // transaction: it rolls back whole, and the first one's change is never announced.
  boom = true;
  const auto bundle = json::parse(R"({"format": "plexus-bundle/1", "resources": [
      {"kind": "note", "id": "fresh", "content": {"title": "fresh"}},
      {"kind": "note", "id": "bad", "content": {"title": "boom"}}]})");
  error_of([&] { f.store.import_bundle(f.alice, bundle); });
  CHECK_FALSE(f.store.stored_revision("default", "note", "fresh"));
  CHECK(log.events.empty());
}

TEST_CASE("a promotion waiting for approval is published when it is approved", "[resources][events]") {
  plexus::test::StoreBackend backend;
  Fixture f(backend, [](Kind& kind) { kind.requires_approval = true; });
  f.store.create(f.alice, "note", "n1", note("a"), "");
  f.store.promote(f.alice, "note", "n1", "staging", "");
  ChangeLog log(f);
  REQUIRE(f.store.promote(f.alice, "note", "n1", "production", "").pending);
  CHECK(log.events.empty());  // nothing served changed yet
  f.store.approve(f.bob, "note", "n1", "");
  const auto approved = log.summary();
  CHECK(approved == Summary{"n1 promoted 1 production"});
}

TEST_CASE("a failing change listener does not undo or fail the write", "[resources][events]") {
  plexus::test::StoreBackend backend;
  plexus::test::TempDir dir;
  const auto db = test_database(backend, dir);
  plexus::audit::AuditLog audit{*db};
  ResourceKinds kinds;
  kinds.add(note_kind());
  int calls = 0;
  ResourceStore store{*db, audit, kinds, [&](const plexus::resources::ResourceChange&) {
                        ++calls;
                        throw std::runtime_error("listener down");
                      }};
  CHECK(store.create(person("alice"), "note", "n1", note("a"), "").revision == 1);
  CHECK(calls == 1);
  CHECK(store.stored_revision("default", "note", "n1"));
}
