// Bearer token attacks, each its own test: every malformed, forged, expired or
// misdirected token answers 401 invalid_token without echoing the token. And SSO:
// RS256 tokens of the configured OIDC issuer, verified against a JWKS file.
#include <chrono>
#include <fstream>
#include <memory>

#include <catch2/catch.hpp>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "kernel/auth/base64url.hpp"
#include "kernel/auth/jwt.hpp"
#include "tests/support/plexusd_process.hpp"
#include "tests/unit/identity_fixture.hpp"

using plexus::auth::base64url_decode;
using plexus::auth::base64url_encode;
using plexus::test::IdentityFixture;
using plexus::test::kAdminPassword;
using plexus::test::kTestJwtSecret;
using plexus::test::record_secret;

namespace {

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string segment(const nlohmann::json& value) { return base64url_encode(value.dump()); }

std::string mac(const char* digest, std::string_view key, std::string_view data) {
  unsigned char out[64];
  std::size_t length = 0;
  REQUIRE(EVP_Q_mac(nullptr, "HMAC", nullptr, digest, nullptr, key.data(), key.size(),
                    reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, sizeof out,
                    &length) != nullptr);
  return std::string(reinterpret_cast<const char*>(out), length);
}

// A token with any header, signed by HMAC with `digest` ("SHA256", "SHA512") over header.payload.
std::string hmac_token(const nlohmann::json& header, const nlohmann::json& claims, const char* digest,
                       std::string_view key) {
  const auto input = segment(header) + "." + segment(claims);
  return input + "." + base64url_encode(mac(digest, key, input));
}

nlohmann::json payload_of(const std::string& token) {
  const auto first = token.find('.');
  const auto second = token.find('.', first + 1);
  return nlohmann::json::parse(*base64url_decode(token.substr(first + 1, second - first - 1)));
}

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};

// An RSA key generated in-process, its JWK, and RS256 signing.
struct RsaKey {
  explicit RsaKey(std::string kid_)
      : kid(std::move(kid_)), key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048})) {
    REQUIRE(key);
  }

  std::string bignum(const char* name) const {
    BIGNUM* value = nullptr;
    REQUIRE(EVP_PKEY_get_bn_param(key.get(), name, &value) == 1);
    std::string bytes(static_cast<std::size_t>(BN_num_bytes(value)), '\0');
    BN_bn2bin(value, reinterpret_cast<unsigned char*>(bytes.data()));
    BN_free(value);
    return base64url_encode(bytes);
  }

  nlohmann::json jwk() const {
    return {{"kty", "RSA"},
            {"kid", kid},
            {"use", "sig"},
            {"alg", "RS256"},
            {"n", bignum(OSSL_PKEY_PARAM_RSA_N)},
            {"e", bignum(OSSL_PKEY_PARAM_RSA_E)}};
  }

  std::string sign(const nlohmann::json& claims, const std::string& header_kid = "") const {
    const auto input =
        segment({{"alg", "RS256"}, {"typ", "JWT"}, {"kid", header_kid.empty() ? kid : header_kid}}) + "." +
        segment(claims);
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    REQUIRE(EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) == 1);
    std::size_t length = 0;
    const auto* data = reinterpret_cast<const unsigned char*>(input.data());
    REQUIRE(EVP_DigestSign(ctx.get(), nullptr, &length, data, input.size()) == 1);
    std::string signature(length, '\0');
    REQUIRE(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length, data,
                           input.size()) == 1);
    signature.resize(length);
    return input + "." + base64url_encode(signature);
  }

  std::string kid;
  std::unique_ptr<EVP_PKEY, PkeyFree> key;
};

void write_jwks(const std::filesystem::path& file, const std::vector<const RsaKey*>& keys) {
  nlohmann::json jwks{{"keys", nlohmann::json::array()}};
  for (const auto* key : keys) jwks["keys"].push_back(key->jwk());
  // Written aside and renamed, as a deployment would, so a reader never sees half a file.
  const auto temporary = file.string() + ".tmp";
  std::ofstream(temporary) << jwks.dump();
  std::filesystem::rename(temporary, file);
}

// A logged-in admin and the claims of its access token, for minting variants of it.
struct TokenAttack {
  IdentityFixture f;
  std::string genuine = f.admin_token();
  nlohmann::json claims = payload_of(genuine);

  void require_rejected(const std::string& token) const {
    INFO("token under test");
    const auto result = f.get("/api/v1/auth/me", token);
    CHECK(result.status == 401);
    CHECK(result.body["error"]["code"] == "invalid_token");
    CHECK(result.header("WWW-Authenticate").find("error=\"invalid_token\"") != std::string::npos);
    if (!token.empty()) CHECK(result.raw.find(token) == std::string::npos);
  }
};

}  // namespace

TEST_CASE("token attack: a correctly minted token is the control and passes", "[identity][tokens]") {
  TokenAttack t;
  CHECK(t.f.get("/api/v1/auth/me", t.genuine).status == 200);
  CHECK(t.claims.at("iss") == "plexus");
  CHECK(t.claims.at("aud") == "plexus");
  CHECK(t.claims.at("tid") == "default");
  CHECK(t.claims.at("name") == "admin");
  CHECK(t.claims.at("roles") == nlohmann::json::array({"admin"}));
  CHECK(t.claims.contains("sid"));
  CHECK(t.claims.contains("jti"));
  CHECK(t.claims.at("exp").get<std::int64_t>() - t.claims.at("iat").get<std::int64_t>() == 15 * 60);
  const auto minted = plexus::auth::sign_hs256(t.claims, kTestJwtSecret, "plexus-1");
  CHECK(t.f.get("/api/v1/auth/me", minted).status == 200);
}

TEST_CASE("token attack: alg none is rejected", "[identity][tokens]") {
  TokenAttack t;
  t.require_rejected(segment({{"alg", "none"}, {"typ", "JWT"}}) + "." + segment(t.claims) + ".");
  t.require_rejected(segment({{"alg", "None"}, {"typ", "JWT"}}) + "." + segment(t.claims) + ".");
}

TEST_CASE("token attack: HS512 with our secret is rejected", "[identity][tokens]") {
  TokenAttack t;
  t.require_rejected(hmac_token({{"alg", "HS512"}, {"typ", "JWT"}, {"kid", "plexus-1"}}, t.claims, "SHA512",
                                kTestJwtSecret));
}

TEST_CASE("token attack: RS256 header over an HMAC of our secret is rejected", "[identity][tokens]") {
  TokenAttack t;
  t.require_rejected(hmac_token({{"alg", "RS256"}, {"typ", "JWT"}, {"kid", "plexus-1"}}, t.claims, "SHA256",
                                kTestJwtSecret));
}

TEST_CASE("token attack: a bad signature is rejected", "[identity][tokens]") {
  TokenAttack t;
  t.require_rejected(
      plexus::auth::sign_hs256(t.claims, "another-secret-0123456789-abcdefghijklmnop", "plexus-1"));
  // Same header and signature, altered claims.
  auto escalated = t.claims;
  escalated["roles"] = {"admin", "superuser"};
  const auto last_dot = t.genuine.rfind('.');
  const auto first_dot = t.genuine.find('.');
  t.require_rejected(t.genuine.substr(0, first_dot) + "." + segment(escalated) + t.genuine.substr(last_dot));
}

TEST_CASE("token attack: an expired token is rejected", "[identity][tokens]") {
  TokenAttack t;
  auto claims = t.claims;
  claims["iat"] = now_seconds() - 7200;
  claims["exp"] = now_seconds() - 3600;
  t.require_rejected(plexus::auth::sign_hs256(claims, kTestJwtSecret, "plexus-1"));
}

TEST_CASE("token attack: a token not yet valid is rejected", "[identity][tokens]") {
  TokenAttack t;
  auto claims = t.claims;
  claims["nbf"] = now_seconds() + 3600;
  claims["exp"] = now_seconds() + 7200;
  t.require_rejected(plexus::auth::sign_hs256(claims, kTestJwtSecret, "plexus-1"));
}

TEST_CASE("token attack: a wrong issuer is rejected", "[identity][tokens]") {
  TokenAttack t;
  auto claims = t.claims;
  claims["iss"] = "someone-else";
  t.require_rejected(plexus::auth::sign_hs256(claims, kTestJwtSecret, "plexus-1"));
}

TEST_CASE("token attack: a wrong audience is rejected", "[identity][tokens]") {
  TokenAttack t;
  auto claims = t.claims;
  claims["aud"] = "another-service";
  t.require_rejected(plexus::auth::sign_hs256(claims, kTestJwtSecret, "plexus-1"));
}

TEST_CASE("token attack: a token without exp is rejected", "[identity][tokens]") {
  TokenAttack t;
  auto claims = t.claims;
  claims.erase("exp");
  t.require_rejected(plexus::auth::sign_hs256(claims, kTestJwtSecret, "plexus-1"));
}

TEST_CASE("token attack: garbage is rejected", "[identity][tokens]") {
  TokenAttack t;
  t.require_rejected("garbage");
  t.require_rejected("a.b.c");
  t.require_rejected("eyJhbGciOiJIUzI1NiJ9..");
  t.require_rejected(std::string(10000, 'x'));
  // Not a bearer credential at all.
  const auto basic =
      t.f.request("GET", "/api/v1/auth/me", nullptr, {{"Authorization", "Basic YWRtaW46YWRtaW4="}});
  CHECK(basic.status == 401);
  CHECK(basic.body["error"]["code"] == "invalid_token");
}

TEST_CASE("token attack: a token of a session that does not exist is rejected", "[identity][tokens]") {
  TokenAttack t;
  auto claims = t.claims;
  claims["sid"] = "00000000000000000000000000000000";
  t.require_rejected(plexus::auth::sign_hs256(claims, kTestJwtSecret, "plexus-1"));
  // A real session but another user's id in sub.
  claims = t.claims;
  claims["sub"] = "someone-else";
  t.require_rejected(plexus::auth::sign_hs256(claims, kTestJwtSecret, "plexus-1"));
}

TEST_CASE("token attack: refresh and share tokens are not access tokens", "[identity][tokens]") {
  TokenAttack t;
  const auto tokens = t.f.tokens("admin", kAdminPassword);
  t.require_rejected(tokens.at("refresh_token").get<std::string>());
  const auto link = t.f.post("/api/v1/admin/share-links",
                             {{"action", "docs.read"}, {"resource", "7"}, {"expires_in", 600}}, t.genuine);
  REQUIRE(link.status == 201);
  const auto share_token = link.body.at("token").get<std::string>();
  record_secret(share_token);
  t.require_rejected(share_token);
}

namespace {

struct OidcSetup {
  plexus::test::TempDir keys_dir;
  std::filesystem::path jwks = keys_dir.path() / "jwks.json";
  RsaKey idp{"idp-1"};
  RsaKey stranger{"idp-1"};  // same kid, another key
  std::unique_ptr<IdentityFixture> f;

  OidcSetup() {
    write_jwks(jwks, {&idp});
    f = std::make_unique<IdentityFixture>([this](plexus::identity::IdentityOptions& options) {
      options.oidc.issuer = "https://idp.example.test/realms/plexus";
      options.oidc.audience = "plexus-sso";
      options.oidc.jwks = jwks.string();
      options.oidc.role_map = {{"ops-admins", "admin"}, {"readers", "viewer"}};
    });
  }

  nlohmann::json claims(nlohmann::json extra = nlohmann::json::object()) const {
    nlohmann::json claims{{"iss", "https://idp.example.test/realms/plexus"},
                          {"aud", "plexus-sso"},
                          {"sub", "f3a9-alice"},
                          {"preferred_username", "alice"},
                          {"roles", {"readers", "not-a-plexus-role"}},
                          {"iat", now_seconds()},
                          {"exp", now_seconds() + 300}};
    claims.update(extra);
    return claims;
  }
};

}  // namespace

TEST_CASE("OIDC: an RS256 token of the issuer is accepted and its roles mapped", "[identity][oidc]") {
  OidcSetup o;
  const auto token = o.idp.sign(o.claims());
  record_secret(token);
  const auto me = o.f->get("/api/v1/test/whoami", token);
  INFO(me.raw);
  REQUIRE(me.status == 200);
  CHECK(me.body.at("kind") == "oidc");
  CHECK(me.body.at("tenant") == "default");
  CHECK(me.body.at("name") == "alice");
  CHECK(me.body.at("user_id") == "f3a9-alice");
  CHECK(me.body.at("roles") == nlohmann::json::array({"viewer"}));
  // A viewer reads but does not administer.
  CHECK(o.f->get("/api/v1/test/docs/1", token).status == 200);
  CHECK(o.f->post("/api/v1/test/docs/1", nlohmann::json::object(), token).status == 403);
  CHECK(o.f->get("/api/v1/admin/users", token).status == 403);

  const auto admin = o.idp.sign(o.claims({{"roles", {"ops-admins"}}}));
  record_secret(admin);
  CHECK(o.f->get("/api/v1/admin/users", admin).status == 200);
}

TEST_CASE("OIDC: the tenant claim picks an existing tenant and its own roles", "[identity][oidc]") {
  OidcSetup o;
  const auto admin = o.f->admin_token();
  REQUIRE(o.f->post("/api/v1/admin/tenants", {{"id", "b"}, {"name", "Tenant B"}}, admin).status == 201);

  // A custom role of tenant b, created by b's administrator (an OIDC admin of b).
  const auto b_admin = o.idp.sign(o.claims({{"tenant", "b"}, {"roles", {"ops-admins"}}}));
  record_secret(b_admin);
  REQUIRE(
      o.f->post("/api/v1/admin/roles", {{"name", "auditor"}, {"grants", {"docs.read"}}}, b_admin).status ==
      201);

  const auto token = o.idp.sign(o.claims({{"tenant", "b"}, {"roles", {"auditor", "ghost"}}}));
  record_secret(token);
  const auto me = o.f->get("/api/v1/test/whoami", token);
  REQUIRE(me.status == 200);
  CHECK(me.body.at("tenant") == "b");
  CHECK(me.body.at("roles") == nlohmann::json::array({"auditor"}));
  CHECK(me.body.at("grants") == nlohmann::json::array({"docs.read"}));

  // The same role name means nothing in tenant default, where it does not exist.
  const auto in_default = o.idp.sign(o.claims({{"roles", {"auditor"}}}));
  record_secret(in_default);
  CHECK(o.f->get("/api/v1/test/whoami", in_default).body.at("roles").empty());

  const auto unknown_tenant = o.idp.sign(o.claims({{"tenant", "nowhere"}}));
  record_secret(unknown_tenant);
  CHECK(o.f->get("/api/v1/test/whoami", unknown_tenant).status == 401);
  REQUIRE(o.f->patch("/api/v1/admin/tenants/b", {{"disabled", true}}, admin).status == 200);
  CHECK(o.f->get("/api/v1/test/whoami", token).status == 401);
}

TEST_CASE("OIDC: tokens from another key, audience or algorithm are rejected", "[identity][oidc]") {
  OidcSetup o;
  const auto check_rejected = [&](const std::string& token) {
    record_secret(token);
    const auto result = o.f->get("/api/v1/test/whoami", token);
    CHECK(result.status == 401);
    CHECK(result.body["error"]["code"] == "invalid_token");
  };
  check_rejected(o.stranger.sign(o.claims()));
  check_rejected(o.idp.sign(o.claims({{"aud", "someone-else"}})));
  check_rejected(o.idp.sign(o.claims({{"exp", now_seconds() - 3600}})));
  check_rejected(o.idp.sign(o.claims(), "unknown-kid"));
  // HS256 with the issuer's name, signed with our own secret: the issuer only speaks RS256.
  check_rejected(plexus::auth::sign_hs256(o.claims(), kTestJwtSecret));
}

TEST_CASE("OIDC: a rotated JWKS file is picked up when it changes", "[identity][oidc]") {
  OidcSetup o;
  RsaKey next("idp-2");
  const auto token = next.sign(o.claims());
  record_secret(token);
  CHECK(o.f->get("/api/v1/test/whoami", token).status == 401);
  write_jwks(o.jwks, {&o.idp, &next});
  // Make sure the modification time differs even on coarse file systems.
  std::filesystem::last_write_time(o.jwks,
                                   std::filesystem::last_write_time(o.jwks) + std::chrono::seconds(2));
  CHECK(o.f->get("/api/v1/test/whoami", token).status == 200);
}
