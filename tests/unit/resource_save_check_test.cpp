// A kind's save hook (Kind::check_save, ABI 1.5 check_save): run on every save of new
// content after the schema and the validator, told who saves (no one for the server's
// own bootstrap saves), and on soft delete and restore; its problems refuse with 422, a
// denial with 403, a failure with 500, and nothing is written when it refuses. Imports
// run it per resource.
#include <memory>
#include <optional>

#include <catch2/catch.hpp>

#include "kernel/audit/audit_log.hpp"
#include "kernel/http/message.hpp"
#include "kernel/resources/bootstrap_bundles.hpp"
#include "kernel/resources/resource_store.hpp"
#include "tests/support/http_error.hpp"
#include "tests/support/postgres_db.hpp"

using nlohmann::json;
using plexus::auth::Caller;
using plexus::auth::CallerKind;
using plexus::resources::Kind;
using plexus::resources::Problem;
using plexus::resources::ResourceKinds;
using plexus::resources::ResourceStore;
using plexus::resources::SaveCheck;
using plexus::resources::SaveVerdict;
using plexus::test::error_of;

namespace {

Caller person(const std::string& name) {
  Caller caller;
  caller.kind = CallerKind::user;
  caller.tenant = "default";
  caller.user_id = "id-" + name;
  caller.name = name;
  caller.grants = {"*"};
  return caller;
}

// What the hook was asked, copied (SaveCheck holds references).
struct Seen {
  std::optional<std::string> caller;  // the caller's name; nullopt: none
  std::string tenant, id, operation;
  json content, previous;
};

// Kind "memo" with a schema; its hook refuses titles with `refused_word` (at /title), denies
// callers named mallory, throws on "boom", and records every call.
struct Fixture {
  explicit Fixture(const plexus::test::StoreBackend& backend)
      : db(std::make_unique<plexus::store::Database>(
            plexus::store::DatabaseOptions{.url = backend.fresh_url(dir), .pool_size = 4})) {
    Kind kind;
    kind.name = "memo";
    kind.json_schema = json::parse(
        R"({"type":"object","required":["title"],"properties":{"title":{"type":"string","minLength":1}}})");
    kind.validator = [](const json& content) {
      std::vector<Problem> problems;
      if (content.value("title", "") == "invalid") problems.push_back({"/title", "is invalid"});
      return problems;
    };
    kind.check_save = [this](const SaveCheck& check) {
      seen.push_back({check.caller ? std::optional<std::string>(check.caller->name) : std::nullopt, check.tenant,
                      check.id, check.operation, check.content, check.previous});
      if (during_check) std::exchange(during_check, nullptr)();
      SaveVerdict verdict;
      // Content is null on delete: the title judged is the one going away.
      const auto& judged = check.content.is_null() ? check.previous : check.content;
      const auto title = judged.value("title", "");
      if (title == "boom") throw std::runtime_error("the hook broke");
      if (title.find(refused_word) != std::string::npos) verdict.problems.push_back({"/title", "says " + refused_word});
      if (check.caller && check.caller->name == "mallory") verdict.denied = "mallory may not save memos";
      return verdict;
    };
    kinds.add(std::move(kind));
  }
  json stored(const std::string& id) { return store.get(alice, "memo", id).content; }
  std::int64_t revision(const std::string& id) { return store.get(alice, "memo", id).revision; }

  plexus::test::TempDir dir;
  std::unique_ptr<plexus::store::Database> db;
  plexus::audit::AuditLog audit{*db};
  ResourceKinds kinds;
  ResourceStore store{*db, audit, kinds};
  Caller alice = person("alice");
  Caller mallory = person("mallory");
  std::vector<Seen> seen;
  std::function<void()> during_check;  // run once inside the next hook call
  std::string refused_word = "bad";
};

json memo(const std::string& title) { return {{"title", title}}; }

}  // namespace

TEST_CASE("a save hook sees the caller, the operation and the previous content of every save", "[resources]") {
  plexus::test::StoreBackend backend;
  Fixture f(backend);
  f.store.create(f.alice, "memo", "m1", memo("one"), "");
  f.store.update(f.alice, "memo", "m1", 1, memo("two"), "");
  f.store.rollback(f.alice, "memo", "m1", 1, "");
  REQUIRE(f.seen.size() == 3);
  CHECK(f.seen[0].caller == "alice");
  CHECK(f.seen[0].tenant == "default");
  CHECK(f.seen[0].id == "m1");
  CHECK(f.seen[0].operation == "create");
  CHECK(f.seen[0].content == memo("one"));
  CHECK(f.seen[0].previous.is_null());
  CHECK(f.seen[1].operation == "update");
  CHECK(f.seen[1].content == memo("two"));
  CHECK(f.seen[1].previous == memo("one"));
  CHECK(f.seen[2].operation == "rollback");
  CHECK(f.seen[2].content == memo("one"));
  CHECK(f.seen[2].previous == memo("two"));
  // Delete: no content, the live content as previous. Restore: what comes back, no previous.
  f.store.remove(f.alice, "memo", "m1", std::nullopt, "");
  f.store.restore(f.alice, "memo", "m1", "");
  REQUIRE(f.seen.size() == 5);
  CHECK(f.seen[3].caller == "alice");
  CHECK(f.seen[3].id == "m1");
  CHECK(f.seen[3].operation == "delete");
  CHECK(f.seen[3].content.is_null());
  CHECK(f.seen[3].previous == memo("one"));
  CHECK(f.seen[4].caller == "alice");
  CHECK(f.seen[4].operation == "restore");
  CHECK(f.seen[4].content == memo("one"));
  CHECK(f.seen[4].previous.is_null());
}

TEST_CASE("a save hook that refuses a delete leaves the resource live, and a restore leaves it deleted",
          "[resources]") {
  plexus::test::StoreBackend backend;
  Fixture f(backend);
  f.store.create(f.alice, "memo", "m1", memo("keep"), "");

  auto error = error_of([&] { f.store.remove(f.mallory, "memo", "m1", std::nullopt, ""); });
  CHECK(error.status() == 403);
  CHECK(error.code() == "forbidden");
  CHECK(std::string(error.what()) == "mallory may not save memos");
  CHECK(error.details()["field"] == "id");  // a delete sends no content
  CHECK_FALSE(f.store.get(f.alice, "memo", "m1").deleted);

  f.refused_word = "keep";
  error = error_of([&] { f.store.remove(f.alice, "memo", "m1", std::nullopt, ""); });
  CHECK(error.status() == 422);
  CHECK(std::string(error.what()).find("cannot be deleted") != std::string::npos);
  CHECK(error.details()["field"] == "id");
  CHECK(f.stored("m1") == memo("keep"));

  f.refused_word = "bad";
  f.store.remove(f.alice, "memo", "m1", std::nullopt, "");
  error = error_of([&] { f.store.restore(f.mallory, "memo", "m1", ""); });
  CHECK(error.status() == 403);
  CHECK(f.store.get(f.alice, "memo", "m1", true).deleted);
  CHECK(error_of([&] { f.store.get(f.alice, "memo", "m1"); }).status() == 404);

  f.refused_word = "keep";
  error = error_of([&] { f.store.restore(f.alice, "memo", "m1", ""); });
  CHECK(error.status() == 422);
  CHECK(std::string(error.what()).find("cannot be restored") != std::string::npos);
  CHECK(error.details()["field"] == "id");
  CHECK(f.store.get(f.alice, "memo", "m1", true).deleted);

  // A hook that fails refuses too (500), and the resource stays as it was.
  f.during_check = [] { throw std::runtime_error("the hook broke"); };
  error = error_of([&] { f.store.restore(f.alice, "memo", "m1", ""); });
  CHECK(error.status() == 500);
  CHECK(error.code() == "save_check_failed");
  CHECK(f.store.get(f.alice, "memo", "m1", true).deleted);

  f.refused_word = "bad";
  f.store.restore(f.alice, "memo", "m1", "");
  f.during_check = [] { throw std::runtime_error("the hook broke"); };
  error = error_of([&] { f.store.remove(f.alice, "memo", "m1", std::nullopt, ""); });
  CHECK(error.status() == 500);
  CHECK(std::string(error.what()).find("nothing was deleted") != std::string::npos);
  CHECK_FALSE(f.store.get(f.alice, "memo", "m1").deleted);
  CHECK(f.stored("m1") == memo("keep"));
}

TEST_CASE("a save hook runs after the schema and the validator, which refuse first with 400", "[resources]") {
  plexus::test::StoreBackend backend;
  Fixture f(backend);
  CHECK(error_of([&] { f.store.create(f.alice, "memo", "m1", memo(""), ""); }).status() == 400);
  CHECK(error_of([&] { f.store.create(f.alice, "memo", "m1", memo("invalid"), ""); }).status() == 400);
  CHECK(f.seen.empty());
}

TEST_CASE("a save hook's problems refuse create, update and rollback with 422 and nothing is written",
          "[resources]") {
  plexus::test::StoreBackend backend;
  Fixture f(backend);
  auto error = error_of([&] { f.store.create(f.alice, "memo", "m1", memo("bad"), ""); });
  CHECK(error.status() == 422);
  CHECK(error.code() == "invalid_content");
  CHECK(error.details()["field"] == "content");
  CHECK(error.details()["problems"] == json::array({{{"pointer", "/title"}, {"message", "says bad"}}}));
  CHECK(std::string(error.what()).find("/title: says bad") != std::string::npos);
  CHECK(error_of([&] { f.store.get(f.alice, "memo", "m1"); }).status() == 404);

  f.store.create(f.alice, "memo", "m1", memo("good"), "");
  CHECK(error_of([&] { f.store.update(f.alice, "memo", "m1", 1, memo("bad again"), ""); }).status() == 422);
  CHECK(f.revision("m1") == 1);
  CHECK(f.stored("m1") == memo("good"));

  // A revision the hook would refuse today is not brought back by a rollback (nor an undo).
  f.store.update(f.alice, "memo", "m1", 1, memo("old words"), "");
  f.store.update(f.alice, "memo", "m1", 2, memo("new words"), "");
  f.refused_word = "old";
  error = error_of([&] { f.store.rollback(f.alice, "memo", "m1", 2, "", 3); });
  CHECK(error.status() == 422);
  CHECK(error.details()["problems"][0]["message"] == "says old");
  CHECK(f.revision("m1") == 3);
  CHECK(f.store.revisions(f.alice, "memo", "m1", 10).items.size() == 3);
}

TEST_CASE("a save hook that denies refuses with 403 and its message, and one that fails with 500",
          "[resources]") {
  plexus::test::StoreBackend backend;
  Fixture f(backend);
  auto error = error_of([&] { f.store.create(f.mallory, "memo", "m1", memo("fine"), ""); });
  CHECK(error.status() == 403);
  CHECK(error.code() == "forbidden");
  CHECK(std::string(error.what()) == "mallory may not save memos");
  CHECK(error_of([&] { f.store.get(f.alice, "memo", "m1"); }).status() == 404);

  f.store.create(f.alice, "memo", "m1", memo("fine"), "");
  CHECK(error_of([&] { f.store.update(f.mallory, "memo", "m1", std::nullopt, memo("mine"), ""); }).status() == 403);
  error = error_of([&] { f.store.update(f.alice, "memo", "m1", std::nullopt, memo("boom"), ""); });
  CHECK(error.status() == 500);
  CHECK(error.code() == "save_check_failed");
  CHECK(std::string(error.what()).find("the hook broke") != std::string::npos);
  CHECK(f.revision("m1") == 1);
  CHECK(f.stored("m1") == memo("fine"));
}

TEST_CASE("a save checked against a revision that moved meanwhile is refused with 409 changed", "[resources]") {
  plexus::test::StoreBackend backend;
  Fixture f(backend);
  f.store.create(f.alice, "memo", "m1", memo("one"), "");
  // Someone else saves while the hook checks alice's update against revision 1.
  f.during_check = [&] { f.store.update(f.alice, "memo", "m1", 1, memo("theirs"), ""); };
  const auto error = error_of([&] { f.store.update(f.alice, "memo", "m1", std::nullopt, memo("mine"), ""); });
  CHECK(error.status() == 409);
  CHECK(error.code() == "changed");
  CHECK(f.revision("m1") == 2);
  CHECK(f.stored("m1") == memo("theirs"));
}

TEST_CASE("an import runs the save hook per resource it writes and is refused whole, naming the resource",
          "[resources]") {
  plexus::test::StoreBackend backend;
  Fixture f(backend);
  f.store.create(f.alice, "memo", "same", memo("same"), "");
  f.seen.clear();
  const json bundle = {{"format", "plexus-bundle/1"},
                       {"resources",
                        {{{"kind", "memo"}, {"id", "same"}, {"content", memo("same")}},
                         {{"kind", "memo"}, {"id", "new"}, {"content", memo("new")}},
                         {{"kind", "memo"}, {"id", "worse"}, {"content", memo("bad")}}}}};
  const auto error = error_of([&] { f.store.import_bundle(f.alice, bundle); });
  CHECK(error.status() == 422);
  CHECK(error.details()["field"] == "/resources/2/content");
  CHECK(error.details()["problems"][0]["pointer"] == "/resources/2/content/title");
  CHECK(error_of([&] { f.store.get(f.alice, "memo", "new"); }).status() == 404);
  // Unchanged content is no save: only "new" and "worse" were checked.
  REQUIRE(f.seen.size() == 2);
  CHECK(f.seen[0].id == "new");
  CHECK(f.seen[0].operation == "import");
  CHECK(f.seen[0].previous.is_null());
  CHECK(f.seen[1].id == "worse");

  f.seen.clear();
  auto fixed = bundle;
  fixed["resources"][2]["content"] = memo("better");
  fixed["resources"][0]["content"] = memo("changed");
  const auto items = f.store.import_bundle(f.alice, fixed);
  REQUIRE(items.size() == 3);
  CHECK(items[0].outcome == "updated");
  CHECK(items[1].outcome == "created");
  REQUIRE(f.seen.size() == 3);
  CHECK(f.seen[0].previous == memo("same"));
  CHECK(f.stored("worse") == memo("better"));
  CHECK(error_of([&] { f.store.import_bundle(f.mallory, bundle); }).status() == 403);
}

TEST_CASE("an import that brings a deleted resource back unchanged asks the save hook as a restore",
          "[resources]") {
  plexus::test::StoreBackend backend;
  Fixture f(backend);
  f.store.create(f.alice, "memo", "m1", memo("same"), "");
  f.store.remove(f.alice, "memo", "m1", std::nullopt, "");
  f.seen.clear();
  const json bundle = {{"format", "plexus-bundle/1"},
                       {"resources", {{{"kind", "memo"}, {"id", "m1"}, {"content", memo("same")}}}}};
  CHECK(error_of([&] { f.store.import_bundle(f.mallory, bundle); }).status() == 403);
  CHECK(f.store.get(f.alice, "memo", "m1", true).deleted);
  REQUIRE(f.seen.size() == 1);
  CHECK(f.seen[0].operation == "restore");
  CHECK(f.seen[0].content == memo("same"));
  CHECK(f.seen[0].previous.is_null());
  const auto items = f.store.import_bundle(f.alice, bundle);
  REQUIRE(items.size() == 1);
  CHECK(items[0].outcome == "restored");
  CHECK_FALSE(f.store.get(f.alice, "memo", "m1").deleted);
}

TEST_CASE("an import is refused with 409 changed when a resource it would leave as it is was deleted meanwhile",
          "[resources]") {
  plexus::test::StoreBackend backend;
  Fixture f(backend);
  f.store.create(f.alice, "memo", "m1", memo("same"), "");
  const json bundle = {{"format", "plexus-bundle/1"},
                       {"resources",
                        {{{"kind", "memo"}, {"id", "m1"}, {"content", memo("same")}},
                         {{"kind", "memo"}, {"id", "m2"}, {"content", memo("new")}}}}};
  // m1 is live and unchanged when the hooks run (nothing to ask for it); deleted before the
  // write, the import would bring it back unasked: a delete keeps the revision number.
  f.during_check = [&] { f.store.remove(f.alice, "memo", "m1", std::nullopt, ""); };
  const auto error = error_of([&] { f.store.import_bundle(f.alice, bundle); });
  CHECK(error.status() == 409);
  CHECK(error.code() == "changed");
  CHECK(f.store.get(f.alice, "memo", "m1", true).deleted);
  CHECK(error_of([&] { f.store.get(f.alice, "memo", "m2"); }).status() == 404);
  // Imported again, it is asked as the restore it is.
  f.seen.clear();
  CHECK(error_of([&] { f.store.import_bundle(f.mallory, bundle); }).status() == 403);
  REQUIRE_FALSE(f.seen.empty());
  CHECK(f.seen[0].operation == "restore");
}

TEST_CASE("bootstrap bundles reach the save hook without a caller, and only for what they create",
          "[resources]") {
  plexus::test::StoreBackend backend;
  Fixture f(backend);
  plexus::test::TempDir bundles;
  bundles.write("memos.yaml", R"(format: plexus-bundle/1
resources:
  - kind: memo
    id: welcome
    content: {title: Hello}
)");
  plexus::resources::import_bootstrap_bundles(f.store, bundles.path());
  REQUIRE(f.seen.size() == 1);
  CHECK_FALSE(f.seen[0].caller.has_value());
  CHECK(f.seen[0].operation == "import");
  CHECK(f.stored("welcome") == memo("Hello"));
  // The second start skips what exists: no save, no hook.
  plexus::resources::import_bootstrap_bundles(f.store, bundles.path());
  CHECK(f.seen.size() == 1);

  // A bootstrap bundle the hook refuses stops the start, naming the file and the place.
  plexus::test::TempDir refused;
  refused.write("bad.yaml", R"(format: plexus-bundle/1
resources:
  - kind: memo
    id: doomed
    content: {title: bad}
)");
  try {
    plexus::resources::import_bootstrap_bundles(f.store, refused.path());
    FAIL("expected the bootstrap to fail");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find("/resources/0/content") != std::string::npos);
  }
  CHECK(error_of([&] { f.store.get(f.alice, "memo", "doomed"); }).status() == 404);
}
