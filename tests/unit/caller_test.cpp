// Permission grants (COM-1): what a role's grant covers, and the built-in roles.
#include <catch2/catch.hpp>

#include "kernel/auth/caller.hpp"

using plexus::auth::Caller;
using plexus::auth::CallerKind;
using plexus::auth::grant_covers;

TEST_CASE("a literal grant covers exactly its permission", "[caller]") {
  CHECK(grant_covers("cep.rule.write", "cep.rule.write"));
  CHECK_FALSE(grant_covers("cep.rule.write", "cep.rule.read"));
  CHECK_FALSE(grant_covers("cep.rule.write", "cep.rule.writer"));
  CHECK_FALSE(grant_covers("", "cep.rule.write"));
  CHECK_FALSE(grant_covers("cep.rule.write", ""));
}

TEST_CASE("a grant without a resource covers every resource of the permission", "[caller]") {
  CHECK(grant_covers("api-manager.api.execute", "api-manager.api.execute:42"));
  CHECK(grant_covers("api-manager.api.execute:42", "api-manager.api.execute:42"));
  CHECK_FALSE(grant_covers("api-manager.api.execute:42", "api-manager.api.execute:43"));
  CHECK_FALSE(grant_covers("api-manager.api.execute:42", "api-manager.api.execute"));
  CHECK(grant_covers("api-manager.api.execute:*", "api-manager.api.execute:43"));
}

TEST_CASE("wildcards match within the permission and never across the resource separator", "[caller]") {
  CHECK(grant_covers("*", "anything.at.all"));
  CHECK(grant_covers("*", "api.execute:7"));
  CHECK(grant_covers("cep.*", "cep.rule.write"));
  CHECK_FALSE(grant_covers("cep.*", "cmdb.ci.write"));
  CHECK(grant_covers("*.read", "cmdb.ci.read"));
  CHECK(grant_covers("*.read", "cmdb.ci.read:server-1"));
  // A resource id that happens to end in ".read" must not turn a write into a read.
  CHECK_FALSE(grant_covers("*.read", "cmdb.ci.write:x.read"));
  CHECK_FALSE(grant_covers("*.read", "admin.users.view"));
  CHECK(grant_covers("menu.*", "menu.cep"));
}

TEST_CASE("built-in roles: viewers read, editors change, neither administers", "[caller]") {
  Caller viewer;
  viewer.kind = CallerKind::user;
  viewer.grants = *plexus::auth::builtin_role_grants("viewer");
  CHECK(viewer.can("cep.rule.read"));
  CHECK(viewer.can("menu.cep"));
  CHECK_FALSE(viewer.can("cep.rule.write"));
  CHECK_FALSE(viewer.can("admin.users.view"));

  Caller editor = viewer;
  editor.grants = *plexus::auth::builtin_role_grants("editor");
  CHECK(editor.can("cep.rule.write"));
  CHECK(editor.can("api-manager.api.execute:9"));
  CHECK_FALSE(editor.can("admin.users.manage"));
  CHECK_FALSE(editor.can("admin.audit.view"));

  Caller admin = viewer;
  admin.grants = *plexus::auth::builtin_role_grants("admin");
  CHECK(admin.can("admin.users.manage"));
  CHECK(plexus::auth::builtin_role_grants("operator") == nullptr);
}

TEST_CASE("the actor names the kind of caller for the audit log", "[caller]") {
  Caller caller;
  CHECK(caller.anonymous());
  CHECK(caller.actor() == "anonymous");
  CHECK_FALSE(caller.can("anything"));
  caller.kind = CallerKind::api_key;
  caller.name = "ci-bot";
  CHECK(caller.actor() == "apikey:ci-bot");
  caller.kind = CallerKind::user;
  caller.name = "kim";
  CHECK(caller.actor() == "user:kim");
  caller.kind = CallerKind::system;
  caller.name = "bootstrap";
  CHECK(caller.actor() == "system:bootstrap");
}
