// Share links (COM-10): one action on one resource, expiring, revocable, every use
// recorded and audited.
#include <thread>

#include <catch2/catch.hpp>

#include "kernel/audit/audit_log.hpp"
#include "tests/support/plexusd_process.hpp"
#include "tests/unit/identity_fixture.hpp"

using plexus::test::IdentityFixture;
using plexus::test::record_secret;

namespace {

nlohmann::json share(const IdentityFixture& f, const std::string& token, const nlohmann::json& body) {
  const auto result = f.post("/api/v1/admin/share-links", body, token);
  INFO(result.raw);
  REQUIRE(result.status == 201);
  record_secret(result.body.at("token").get<std::string>());
  return result.body;
}

plexus::test::HttpResult with_share(const IdentityFixture& f, const std::string& method,
                                    const std::string& path, const std::string& token) {
  return f.request(method, path, method == "POST" ? nlohmann::json::object() : nlohmann::json(),
                   {{"X-Share-Token", token}});
}

}  // namespace

TEST_CASE("a share link grants exactly one action on one resource", "[identity][share]") {
  IdentityFixture f;
  const auto admin = f.admin_token();
  const auto link = share(f, admin, {{"action", "docs.read"}, {"resource", "42"}, {"expires_in", "1h"}});
  const auto token = link.at("token").get<std::string>();
  CHECK(link.at("action") == "docs.read");
  CHECK(link.at("resource") == "42");
  CHECK(link.at("expires_at").is_string());

  const auto ok = with_share(f, "GET", "/api/v1/test/docs/42", token);
  REQUIRE(ok.status == 200);
  CHECK(ok.body.at("kind") == "share_link");
  CHECK(ok.body.at("tenant") == "default");
  CHECK(ok.body.at("name") == link.at("id"));
  CHECK(ok.body.at("grants") == nlohmann::json::array({"docs.read:42"}));

  // Nothing else: another resource, another action, administration.
  CHECK(with_share(f, "GET", "/api/v1/test/docs/43", token).status == 403);
  CHECK(with_share(f, "GET", "/api/v1/test/docs/420", token).status == 403);
  CHECK(with_share(f, "POST", "/api/v1/test/docs/42", token).status == 403);
  CHECK(with_share(f, "GET", "/api/v1/admin/users", token).status == 403);
  CHECK(with_share(f, "GET", "/api/v1/test/admin-secret", token).status == 403);
  // A share link cannot mint more share links.
  CHECK(f.request("POST", "/api/v1/admin/share-links", {{"action", "docs.read"}, {"resource", "42"}},
                  {{"X-Share-Token", token}})
            .status == 403);

  // The query parameter works too.
  CHECK(f.get("/api/v1/test/docs/42?share_token=" + token).status == 200);
}

TEST_CASE("every use of a share link is recorded and audited", "[identity][share]") {
  IdentityFixture f;
  const auto admin = f.admin_token();
  const auto link = share(f, admin, {{"action", "docs.read"}, {"resource", "7"}, {"expires_in", 600}});
  const auto token = link.at("token").get<std::string>();
  const auto id = link.at("id").get<std::string>();
  for (int i = 0; i < 3; ++i) REQUIRE(with_share(f, "GET", "/api/v1/test/docs/7", token).status == 200);

  const auto uses = f.get("/api/v1/admin/share-links/" + id + "/uses", admin);
  REQUIRE(uses.status == 200);
  REQUIRE(uses.body.at("items").size() == 3);
  CHECK(uses.body["items"][0].at("ip") == "127.0.0.1");
  CHECK_FALSE(uses.body["items"][0].at("request_id").get<std::string>().empty());
  CHECK(uses.body["items"][0].at("time").is_string());

  plexus::audit::AuditQuery query;
  query.tenant = "default";
  query.action_prefix = "share.use";
  const auto rows = f.audit->query(query);
  REQUIRE(rows.items.size() == 3);
  CHECK(rows.items[0].actor == "share:" + id);
  CHECK(rows.items[0].target == "share-link/" + id);
}

TEST_CASE("a revoked share link is refused", "[identity][share]") {
  IdentityFixture f;
  const auto admin = f.admin_token();
  const auto link = share(f, admin, {{"action", "docs.read"}, {"resource", "7"}, {"expires_in", 600}});
  const auto token = link.at("token").get<std::string>();
  REQUIRE(with_share(f, "GET", "/api/v1/test/docs/7", token).status == 200);
  CHECK(f.del("/api/v1/admin/share-links/" + link.at("id").get<std::string>(), admin).status == 204);
  const auto refused = with_share(f, "GET", "/api/v1/test/docs/7", token);
  CHECK(refused.status == 401);
  CHECK(refused.body["error"]["code"] == "invalid_token");
  CHECK(refused.raw.find(token) == std::string::npos);
}

TEST_CASE("an expired share link is refused", "[identity][share]") {
  IdentityFixture f;
  const auto admin = f.admin_token();
  const auto link = share(f, admin, {{"action", "docs.read"}, {"resource", "7"}, {"expires_in", 1}});
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  CHECK(with_share(f, "GET", "/api/v1/test/docs/7", link.at("token").get<std::string>()).status == 401);
}

TEST_CASE("a share link is only for what the creator may do, within the maximum lifetime",
          "[identity][share]") {
  IdentityFixture f([](auto& options) { options.share_max_ttl = std::chrono::hours(24); });
  const auto admin = f.admin_token();
  f.create_user(admin, "val", "Meadow-Secret-123!", {"viewer"});
  const auto viewer = f.access_token("val", "Meadow-Secret-123!");

  CHECK(f.post("/api/v1/admin/share-links", {{"action", "docs.read"}, {"resource", "1"}, {"expires_in", 60}},
               viewer)
            .status == 201);
  const auto denied = f.post("/api/v1/admin/share-links",
                             {{"action", "docs.write"}, {"resource", "1"}, {"expires_in", 60}}, viewer);
  CHECK(denied.status == 403);
  const auto too_long = f.post("/api/v1/admin/share-links",
                               {{"action", "docs.read"}, {"resource", "1"}, {"expires_in", "2d"}}, viewer);
  CHECK(too_long.status == 400);
  CHECK(too_long.body["error"]["details"]["field"] == "expires_in");
  const auto wildcard = f.post("/api/v1/admin/share-links",
                               {{"action", "docs.read"}, {"resource", "*"}, {"expires_in", 60}}, admin);
  CHECK(wildcard.status == 400);
  CHECK(wildcard.body["error"]["details"]["field"] == "resource");
}

TEST_CASE("share links are listed to their creator, and to all with the view permission",
          "[identity][share]") {
  IdentityFixture f;
  const auto admin = f.admin_token();
  f.create_user(admin, "sam", "Summit-Secret-123!", {"viewer"});
  f.create_user(admin, "tom", "Tundra-Secret-123!", {"viewer"});
  const auto sam = f.access_token("sam", "Summit-Secret-123!");
  const auto tom = f.access_token("tom", "Tundra-Secret-123!");
  const auto link = share(f, sam, {{"action", "docs.read"}, {"resource", "5"}, {"expires_in", 60}});
  const auto id = link.at("id").get<std::string>();

  CHECK(f.get("/api/v1/admin/share-links", sam).body.at("items").size() == 1);
  CHECK(f.get("/api/v1/admin/share-links", tom).body.at("items").empty());
  CHECK(f.get("/api/v1/admin/share-links", admin).body.at("items").size() == 1);
  CHECK(f.get("/api/v1/admin/share-links/" + id + "/uses", tom).status == 404);
  CHECK(f.del("/api/v1/admin/share-links/" + id, tom).status == 404);
  CHECK(f.del("/api/v1/admin/share-links/" + id, sam).status == 204);
}
