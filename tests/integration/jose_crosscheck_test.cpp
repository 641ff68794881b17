// Issue 4's cross-check with an independent JWT implementation, the npm package jose
// (tests/js): the access tokens plexusd issues verify with jose, RS256 tokens jose
// mints against a JWKS file the test writes are accepted through OIDC, and forgeries
// (a key outside the JWKS, HS256 keyed with the public key) are refused.
// Needs node and tests/js/node_modules (tools/test runs npm ci); fails without them.
#include <filesystem>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/node_js.hpp"
#include "tests/support/plexusd_process.hpp"

using plexus::test::bearer;
using plexus::test::Plexusd;
using plexus::test::record_secret;
using plexus::test::TempDir;

namespace {

// 48 characters; known to the test so jose can check the signature.
constexpr const char* kJwtSecret = "jose-crosscheck-HS256-secret-0123456789-abcdefgh";
constexpr const char* kOidcIssuer = "https://idp.plexus.test";
constexpr const char* kOidcAudience = "plexus-oidc-crosscheck";

// The JWKS file and the tokens tests/js/oidc_setup.mjs minted with jose.
struct OidcTokens {
  std::filesystem::path jwks_file;
  std::string token, foreign_token, confusion_token;
};

OidcTokens mint_oidc_tokens(const TempDir& dir, const nlohmann::json& claims) {
  const auto result = plexus::test::run_command(
      {plexus::test::node_binary("jose"), (plexus::test::js_dir() / "oidc_setup.mjs").string(), "--dir",
       dir.path().string(), "--issuer", kOidcIssuer, "--audience", kOidcAudience, "--claims", claims.dump()});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  const auto out = nlohmann::json::parse(result.out);
  OidcTokens tokens{out.at("jwks_file").get<std::string>(), out.at("token").get<std::string>(),
                    out.at("foreign_token").get<std::string>(), out.at("confusion_token").get<std::string>()};
  for (const auto* token : {&tokens.token, &tokens.foreign_token, &tokens.confusion_token})
    record_secret(*token);
  REQUIRE(std::filesystem::exists(tokens.jwks_file));
  return tokens;
}

// A plexusd with a known HS256 secret that trusts the test's JWKS for OIDC.
std::map<std::string, std::string> crosscheck_env(const std::filesystem::path& jwks_file) {
  record_secret(kJwtSecret);
  return {{"PLEXUS_AUTH__JWT_SECRET", kJwtSecret},
          {"PLEXUS_AUTH__OIDC__ISSUER", kOidcIssuer},
          {"PLEXUS_AUTH__OIDC__JWKS", jwks_file.string()},
          {"PLEXUS_AUTH__OIDC__AUDIENCE", kOidcAudience}};
}

// jose's verdict on an HS256 token: the payload, or nullopt when jose rejects it.
std::optional<nlohmann::json> jose_verify_hs256(const std::string& token, const std::string& secret) {
  const nlohmann::json request{
      {"token", token}, {"secret", secret}, {"issuer", "plexus"}, {"audience", "plexus"}};
  const auto result = plexus::test::run_command(
      {plexus::test::node_binary("jose"), (plexus::test::js_dir() / "verify_hs256.mjs").string()},
      request.dump());
  if (result.exit_code != 0) return std::nullopt;
  return nlohmann::json::parse(result.out);
}

int me_status(const Plexusd& plexus, const std::string& token, nlohmann::json* body = nullptr) {
  auto client = plexus.client();
  const auto result = client.Get("/api/v1/auth/me", bearer(token));
  REQUIRE(result);
  if (body != nullptr && result->status == 200) *body = nlohmann::json::parse(result->body);
  return result->status;
}

const nlohmann::json kAliceClaims = {
    {"preferred_username", "alice"}, {"roles", {"viewer"}}, {"tenant", "default"}};

}  // namespace

TEST_CASE("access tokens plexusd issues verify with jose") {
  TempDir oidc;
  const auto tokens = mint_oidc_tokens(oidc, kAliceClaims);
  Plexusd plexus(crosscheck_env(tokens.jwks_file));
  const auto token = plexus.admin_token();

  const auto payload = jose_verify_hs256(token, kJwtSecret);
  REQUIRE(payload);
  nlohmann::json me;
  REQUIRE(me_status(plexus, token, &me) == 200);
  CHECK(payload->at("sub") == me.at("user_id"));
  CHECK(payload->at("tid") == "default");
  CHECK(payload->at("name") == "admin");
  CHECK(payload->at("iss") == "plexus");
  CHECK(payload->at("aud") == "plexus");
  const auto& roles = payload->at("roles");
  CHECK(std::find(roles.begin(), roles.end(), "admin") != roles.end());
  for (const auto* claim : {"sid", "jti", "iat", "exp"}) CHECK(payload->contains(claim));
  CHECK(payload->at("exp").get<std::int64_t>() > payload->at("iat").get<std::int64_t>());

  // The check has teeth: jose refuses the same token under another secret.
  CHECK_FALSE(jose_verify_hs256(token, std::string(kJwtSecret) + "-other"));
}

TEST_CASE("an RS256 token minted by jose against the JWKS is accepted with its claims mapped") {
  TempDir oidc;
  const auto tokens = mint_oidc_tokens(oidc, kAliceClaims);
  Plexusd plexus(crosscheck_env(tokens.jwks_file));
  nlohmann::json me;
  REQUIRE(me_status(plexus, tokens.token, &me) == 200);
  CHECK(me.at("username") == "alice");
  CHECK(me.at("tenant") == "default");
  CHECK(me.at("roles") == nlohmann::json{"viewer"});
  CHECK(me.at("kind") == "oidc");
}

TEST_CASE("a jose token signed by a key outside the JWKS is refused") {
  TempDir oidc;
  const auto tokens = mint_oidc_tokens(oidc, kAliceClaims);
  Plexusd plexus(crosscheck_env(tokens.jwks_file));
  CHECK(me_status(plexus, tokens.foreign_token) == 401);
  CHECK(me_status(plexus, tokens.token) == 200);  // the same claims, properly signed, pass
}

TEST_CASE("an HS256 token keyed with the OIDC public key is refused (algorithm confusion)") {
  TempDir oidc;
  const auto tokens = mint_oidc_tokens(oidc, kAliceClaims);
  Plexusd plexus(crosscheck_env(tokens.jwks_file));
  CHECK(me_status(plexus, tokens.confusion_token) == 401);
}
