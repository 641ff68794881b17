// Secrets at rest (issue 5, item 3): sealed values open only with the same key and
// the same place, tampering is detected, generated key files are private, and a
// document's secret fields are sealed, opened and redacted as a whole.
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "kernel/secrets/sealed_fields.hpp"
#include "kernel/secrets/secret_box.hpp"
#include "kernel/secrets/secret_file.hpp"
#include "tests/support/test_support.hpp"

using plexus::secrets::SealError;
using plexus::secrets::SecretBox;

namespace {
const std::string kKey = "0123456789abcdef0123456789abcdef-test-key";
}

TEST_CASE("a sealed secret opens with its key and context only", "[secrets]") {
  const SecretBox box(kKey);
  const auto sealed = box.seal("hunter2-db-password", "datasource/default/ops#/password");
  CHECK(SecretBox::looks_sealed(sealed));
  CHECK(sealed.find("hunter2") == std::string::npos);
  CHECK(box.open(sealed, "datasource/default/ops#/password") == "hunter2-db-password");
  // The same plaintext seals differently each time (fresh nonce).
  CHECK(box.seal("hunter2-db-password", "x") != box.seal("hunter2-db-password", "x"));
  CHECK_THROWS_AS(box.open(sealed, "datasource/other-tenant/ops#/password"), SealError);
  CHECK_THROWS_AS(SecretBox(kKey + "-other").open(sealed, "datasource/default/ops#/password"), SealError);
  CHECK(box.open(box.seal("", "ctx"), "ctx").empty());
}

TEST_CASE("any change to a sealed value is detected", "[secrets]") {
  const SecretBox box(kKey);
  const auto sealed = box.seal("token-value-123", "ctx");
  for (std::size_t i = 3; i < sealed.size(); ++i) {
    std::string altered = sealed;
    altered[i] = altered[i] == 'A' ? 'B' : 'A';
    INFO("position " << i);
    CHECK_THROWS_AS(box.open(altered, "ctx"), SealError);
  }
  CHECK_THROWS_AS(box.open("v1:", "ctx"), SealError);
  CHECK_THROWS_AS(box.open("plain text", "ctx"), SealError);
  CHECK_THROWS_AS(SecretBox("too short"), std::invalid_argument);
}

TEST_CASE("a generated secret file is private and reused", "[secrets]") {
  plexus::test::TempDir dir;
  const auto file = dir.path() / "secrets" / "store-key";
  const auto first = plexus::secrets::read_or_create_secret(file, "test key");
  CHECK(first.size() >= 60);
  struct stat info {};
  REQUIRE(::stat(file.c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0600);
  REQUIRE(::stat(file.parent_path().c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0700);
  CHECK(plexus::secrets::read_or_create_secret(file, "test key") == first);
}

TEST_CASE("secret fields of a document are sealed, opened and redacted", "[secrets]") {
  const SecretBox box(kKey);
  const auto plain = nlohmann::json::parse(
      R"({"driver":"postgres","host":"db1","password":"pg-secret-1","options":{"token":"tok-2","port":5432},"list":[{"password":"list-pass-3"}]})");
  auto document = plain;
  plexus::secrets::seal_fields(document, box, {"password", "token"}, "datasource/default/ops");
  const auto stored = document.dump();
  // Secrets long enough that random base64 cannot contain them by chance ("p3" did, one run in ~20).
  for (const char* secret : {"pg-secret-1", "tok-2", "list-pass-3"}) CHECK(stored.find(secret) == std::string::npos);
  CHECK(document["host"] == "db1");
  CHECK(document["options"]["port"] == 5432);

  auto shown = document;
  plexus::secrets::redact_fields(shown);
  CHECK(shown["password"] == plexus::secrets::placeholder());
  CHECK(shown["list"][0]["password"] == plexus::secrets::placeholder());

  auto opened = document;
  plexus::secrets::open_fields(opened, box, "datasource/default/ops");
  CHECK(opened == plain);
  // Bound to the record: the same document under another id does not open.
  auto moved = document;
  CHECK_THROWS_AS(plexus::secrets::open_fields(moved, box, "datasource/default/other"), SealError);
}

TEST_CASE("a placeholder sent back keeps the stored secret", "[secrets]") {
  const SecretBox box(kKey);
  auto previous = nlohmann::json::parse(R"({"host":"db1","password":"old-pass"})");
  plexus::secrets::seal_fields(previous, box, {"password"}, "ctx");
  auto edited = nlohmann::json{{"host", "db2"}, {"password", plexus::secrets::placeholder()}};
  plexus::secrets::seal_fields(edited, box, {"password"}, "ctx", previous);
  plexus::secrets::open_fields(edited, box, "ctx");
  CHECK(edited == nlohmann::json{{"host", "db2"}, {"password", "old-pass"}});

  auto fresh = nlohmann::json{{"password", plexus::secrets::placeholder()}};
  CHECK_THROWS_WITH(plexus::secrets::seal_fields(fresh, box, {"password"}, "ctx"), Catch::Contains("/password"));
}
