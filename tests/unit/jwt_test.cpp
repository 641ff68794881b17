// JWT signing and verification (issue 4, "Tokens"): every token attack is one case here.
// Hand-made HS256 and all RS256 tokens are signed by the openssl CLI, independently of the code under test.
#include "kernel/auth/jwt.hpp"

#include <functional>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "kernel/auth/base64url.hpp"
#include "tests/support/test_support.hpp"

using namespace plexus::auth;
using nlohmann::json;
using plexus::test::run_command;
using plexus::test::TempDir;

namespace {

const std::string kSecret = "a-test-secret-of-at-least-32-bytes!!";
constexpr std::int64_t kNow = 1'700'000'000;

// The error code `action` throws, "" when it succeeds.
std::string code_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const JwtError& e) {
    return e.code();
  }
  return "";
}

VerifyOptions options_for(std::vector<std::string> algorithms, std::int64_t now = kNow) {
  VerifyOptions options;
  options.algorithms = std::move(algorithms);
  options.now = [now] { return now; };
  return options;
}

KeySet hmac_keys(const std::string& kid = "") {
  KeySet keys;
  keys.add_hmac(kid, kSecret);
  return keys;
}

json valid_claims() { return {{"sub", "alice"}, {"exp", kNow + 300}}; }

std::string b64(const std::string& bytes) { return base64url_encode(bytes); }

// HMAC-SHA256 by the openssl CLI, independent of the code under test.
std::string hmac_sha256(const std::string& key, const std::string& data) {
  const auto mac =
      run_command({"openssl", "dgst", "-sha256", "-mac", "HMAC", "-macopt", "key:" + key, "-binary"}, data);
  REQUIRE(mac.exit_code == 0);
  REQUIRE(mac.out.size() == 32);
  return mac.out;
}

// A token with any header and payload text, correctly HMAC-signed with `key`.
std::string hs_token_raw(const std::string& header, const std::string& payload,
                         const std::string& key = kSecret) {
  const std::string input = b64(header) + "." + b64(payload);
  return input + "." + b64(hmac_sha256(key, input));
}

std::vector<std::string> segments(const std::string& token) {
  const auto a = token.find('.');
  const auto b = token.find('.', a + 1);
  return {token.substr(0, a), token.substr(a + 1, b - a - 1), token.substr(b + 1)};
}

std::string bytes_from_hex(std::string hex) {
  if (hex.size() % 2) hex.insert(0, "0");
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2)
    out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return out;
}

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

// An RSA key pair made by the openssl CLI, with its public half as PEM and as JWK n/e.
struct RsaKey {
  std::filesystem::path private_pem;
  std::string public_pem;
  std::string n, e;  // base64url, as a JWKS carries them
};

RsaKey generate_rsa(const TempDir& dir, const std::string& name, int bits = 2048) {
  RsaKey key;
  key.private_pem = dir.path() / (name + ".pem");
  const auto public_file = dir.path() / (name + ".pub.pem");
  REQUIRE(run_command({"openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                       "rsa_keygen_bits:" + std::to_string(bits), "-out", key.private_pem.string()})
              .exit_code == 0);
  REQUIRE(run_command(
              {"openssl", "pkey", "-in", key.private_pem.string(), "-pubout", "-out", public_file.string()})
              .exit_code == 0);
  key.public_pem = plexus::test::read_file(public_file);
  const auto modulus =
      run_command({"openssl", "rsa", "-pubin", "-in", public_file.string(), "-noout", "-modulus"});
  REQUIRE(modulus.exit_code == 0);
  REQUIRE(modulus.out.rfind("Modulus=", 0) == 0);
  key.n = b64(bytes_from_hex(trimmed(modulus.out.substr(8))));
  const auto text = run_command({"openssl", "rsa", "-pubin", "-in", public_file.string(), "-noout", "-text"});
  REQUIRE(text.exit_code == 0);
  const auto hex_start = text.out.find("(0x", text.out.find("Exponent:"));
  REQUIRE(hex_start != std::string::npos);
  key.e = b64(bytes_from_hex(text.out.substr(hex_start + 3, text.out.find(')', hex_start) - hex_start - 3)));
  return key;
}

// Keys are slow to generate: made once for the whole binary.
struct RsaFixture {
  TempDir dir;
  RsaKey main = generate_rsa(dir, "main");
  RsaKey other = generate_rsa(dir, "other");
};

const RsaFixture& rsa() {
  static const RsaFixture fixture;
  return fixture;
}

std::string rs256_token(const RsaKey& key, const json& header, const json& claims) {
  const std::string input = b64(header.dump()) + "." + b64(claims.dump());
  TempDir dir;
  const auto data = dir.write("input", input);
  const auto signature = dir.path() / "signature";
  const auto signed_ = run_command({"openssl", "dgst", "-sha256", "-sign", key.private_pem.string(),
                                    "-binary", "-out", signature.string(), data.string()});
  REQUIRE(signed_.exit_code == 0);
  return input + "." + b64(plexus::test::read_file(signature));
}

std::string jwks_of(const RsaKey& key, const std::string& kid) {
  return json{
      {"keys",
       {{{"kty", "RSA"}, {"kid", kid}, {"use", "sig"}, {"alg", "RS256"}, {"n", key.n}, {"e", key.e}}}}}
      .dump();
}

}  // namespace

TEST_CASE("base64url encodes without padding and decodes only the canonical form", "[jwt]") {
  CHECK(base64url_encode("") == "");
  CHECK(base64url_encode("f") == "Zg");
  CHECK(base64url_encode("fo") == "Zm8");
  CHECK(base64url_encode("foo") == "Zm9v");
  CHECK(base64url_encode("foob") == "Zm9vYg");
  CHECK(base64url_encode("\xfb\xff") == "-_8");
  std::string all;
  for (int i = 0; i < 256; ++i) {
    all += static_cast<char>(i);
    REQUIRE(base64url_decode(base64url_encode(all)) == all);
  }
  CHECK(base64url_decode("-_8") == "\xfb\xff");
  CHECK(base64url_decode("") == "");
  for (const char* bad :
       {"Zg==", "Zg=", "Zm9v+w", "Zm9v/w", "Z", "Zm9vY", "Zm 9v", "Zm9v.", "Zh", "Zm9", "-_9"})
    CHECK_FALSE(base64url_decode(bad).has_value());
}

TEST_CASE("HS256 tokens round-trip with their registered claims", "[jwt]") {
  const json claims = {{"sub", "alice"},   {"iss", "plexus"},  {"aud", {"api", "ui"}}, {"exp", kNow + 300},
                       {"nbf", kNow - 10}, {"iat", kNow - 10}, {"jti", "token-1"},     {"roles", {"admin"}}};
  const std::string token = sign_hs256(claims, kSecret, "k1");
  const auto header = json::parse(*base64url_decode(segments(token)[0]));
  CHECK(header == json{{"alg", "HS256"}, {"typ", "JWT"}, {"kid", "k1"}});
  CHECK(json::parse(*base64url_decode(segments(sign_hs256(claims, kSecret))[0])) ==
        json{{"alg", "HS256"}, {"typ", "JWT"}});

  auto options = options_for({"HS256"});
  options.issuer = "plexus";
  options.audience = "ui";
  const Claims verified = verify(token, hmac_keys("k1"), options);
  CHECK(verified.subject == "alice");
  CHECK(verified.issuer == "plexus");
  CHECK(verified.audience == std::vector<std::string>{"api", "ui"});
  CHECK(verified.expires_at == kNow + 300);
  CHECK(verified.not_before == kNow - 10);
  CHECK(verified.issued_at == kNow - 10);
  CHECK(verified.token_id == "token-1");
  CHECK(verified.raw == claims);
}

TEST_CASE("a tampered header, payload or signature fails verification", "[jwt]") {
  const auto parts = segments(sign_hs256(valid_claims(), kSecret));
  const auto options = options_for({"HS256"});
  const std::string forged_payload = b64(json{{"sub", "root"}, {"exp", kNow + 300}}.dump());
  CHECK(code_of([&] { verify(parts[0] + "." + forged_payload + "." + parts[2], hmac_keys(), options); }) ==
        "bad_signature");
  const std::string forged_header = b64(R"({"typ":"JWT","alg":"HS256"})");
  CHECK(code_of([&] { verify(forged_header + "." + parts[1] + "." + parts[2], hmac_keys(), options); }) ==
        "bad_signature");

  auto signature = *base64url_decode(parts[2]);
  signature[0] = static_cast<char>(signature[0] ^ 1);
  CHECK(code_of([&] { verify(parts[0] + "." + parts[1] + "." + b64(signature), hmac_keys(), options); }) ==
        "bad_signature");
  CHECK(code_of([&] {
          verify(parts[0] + "." + parts[1] + "." + b64(signature.substr(0, 31)), hmac_keys(), options);
        }) == "bad_signature");
  CHECK(code_of([&] { verify(parts[0] + "." + parts[1] + ".", hmac_keys(), options); }) == "bad_signature");

  KeySet other;
  other.add_hmac("", "another-secret-of-at-least-32-bytes!");
  CHECK(code_of([&] { verify(parts[0] + "." + parts[1] + "." + parts[2], other, options); }) ==
        "bad_signature");
}

TEST_CASE("alg none is rejected in any spelling, even when allowed", "[jwt]") {
  const std::string payload = b64(valid_claims().dump());
  for (const std::string alg : {"none", "NONE", "None", "nOnE"}) {
    const std::string header = b64(json{{"alg", alg}, {"typ", "JWT"}}.dump());
    for (const auto& options : {options_for({"HS256"}), options_for({"HS256", alg, "none"})}) {
      CHECK(code_of([&] { verify(header + "." + payload + ".", hmac_keys(), options); }) ==
            "unsupported_alg");
      // A signature made with the real key does not rescue it either.
      CHECK(code_of([&] {
              verify(hs_token_raw(json{{"alg", alg}}.dump(), valid_claims().dump()), hmac_keys(), options);
            }) == "unsupported_alg");
    }
  }
}

TEST_CASE("algorithms outside the allowed list or unknown to us are rejected", "[jwt]") {
  const std::string token = sign_hs256(valid_claims(), kSecret);
  CHECK(code_of([&] { verify(token, hmac_keys(), options_for({"RS256"})); }) == "alg_not_allowed");
  CHECK(code_of([&] { verify(token, hmac_keys(), options_for({})); }) == "alg_not_allowed");
  CHECK(code_of([&] {
          verify(hs_token_raw(R"({"alg":"HS512"})", valid_claims().dump()), hmac_keys(),
                 options_for({"HS512"}));
        }) == "unsupported_alg");
  CHECK(code_of([&] {
          verify(hs_token_raw(R"({"alg":"hs256"})", valid_claims().dump()), hmac_keys(),
                 options_for({"HS256"}));
        }) == "unsupported_alg");
}

TEST_CASE("HS256 forged with an RSA public key as the HMAC secret is rejected", "[jwt][rsa]") {
  const auto& key = rsa().main;
  KeySet keys;
  keys.add_rsa_pem("rsa-1", key.public_pem);
  for (const std::string kid : {"rsa-1", ""}) {
    const std::string forged = sign_hs256(valid_claims(), key.public_pem, kid);
    CHECK(code_of([&] { verify(forged, keys, options_for({"RS256"})); }) == "alg_not_allowed");
    CHECK(code_of([&] { verify(forged, keys, options_for({"RS256", "HS256"})); }) == "key_alg_mismatch");
  }
  // The same via a JWKS-loaded key.
  const auto jwks_keys = KeySet::from_jwks(jwks_of(key, "rsa-1"));
  CHECK(code_of([&] {
          verify(sign_hs256(valid_claims(), key.public_pem, "rsa-1"), jwks_keys,
                 options_for({"RS256", "HS256"}));
        }) == "key_alg_mismatch");
}

TEST_CASE("exp and nbf are enforced with leeway at the exact edges", "[jwt]") {
  const auto keys = hmac_keys();
  const std::string expiring = sign_hs256({{"exp", kNow}}, kSecret);
  CHECK(code_of([&] { verify(expiring, keys, options_for({"HS256"}, kNow + 29)); }) == "");
  CHECK(code_of([&] { verify(expiring, keys, options_for({"HS256"}, kNow + 30)); }) == "expired");
  auto strict = options_for({"HS256"}, kNow - 1);
  strict.leeway = std::chrono::seconds(0);
  CHECK(code_of([&] { verify(expiring, keys, strict); }) == "");
  strict.now = [] { return kNow; };
  CHECK(code_of([&] { verify(expiring, keys, strict); }) == "expired");

  const std::string early = sign_hs256({{"exp", kNow + 3600}, {"nbf", kNow}}, kSecret);
  CHECK(code_of([&] { verify(early, keys, options_for({"HS256"}, kNow - 30)); }) == "");
  CHECK(code_of([&] { verify(early, keys, options_for({"HS256"}, kNow - 31)); }) == "not_yet_valid");

  // Fractional NumericDates are accepted; extreme values neither overflow nor pass.
  CHECK(code_of([&] {
          verify(sign_hs256({{"exp", kNow + 0.5}}, kSecret), keys, options_for({"HS256"}, kNow + 29));
        }) == "");
  CHECK(code_of([&] {
          verify(sign_hs256({{"exp", INT64_MAX}}, kSecret), keys, options_for({"HS256"}));
        }) == "");
  CHECK(code_of([&] {
          verify(sign_hs256({{"exp", INT64_MIN}}, kSecret), keys, options_for({"HS256"}));
        }) == "expired");
  CHECK(code_of([&] {
          verify(sign_hs256({{"exp", "tomorrow"}}, kSecret), keys, options_for({"HS256"}));
        }) == "malformed");
  CHECK(code_of([&] {
          verify(sign_hs256({{"exp", 1e300}}, kSecret), keys, options_for({"HS256"}));
        }) == "malformed");
}

TEST_CASE("a token without exp is rejected unless exp is optional", "[jwt]") {
  const std::string token = sign_hs256({{"sub", "alice"}}, kSecret);
  auto options = options_for({"HS256"});
  CHECK(code_of([&] { verify(token, hmac_keys(), options); }) == "missing_exp");
  options.require_exp = false;
  CHECK(verify(token, hmac_keys(), options).subject == "alice");
}

TEST_CASE("the system clock is used when no clock is injected", "[jwt]") {
  VerifyOptions options;
  options.algorithms = {"HS256"};
  CHECK(code_of([&] { verify(sign_hs256({{"exp", kNow}}, kSecret), hmac_keys(), options); }) == "expired");
  CHECK(code_of([&] { verify(sign_hs256({{"exp", INT64_MAX}}, kSecret), hmac_keys(), options); }) == "");
}

TEST_CASE("issuer and audience must match exactly", "[jwt]") {
  auto options = options_for({"HS256"});
  options.issuer = "https://id.example";
  options.audience = "plexus";
  const auto with = [](json extra) {
    json claims = valid_claims();
    claims.update(extra);
    return sign_hs256(claims, kSecret);
  };
  const auto keys = hmac_keys();
  CHECK(code_of([&] {
          verify(with({{"iss", "https://id.example"}, {"aud", "plexus"}}), keys, options);
        }) == "");
  CHECK(code_of([&] {
          verify(with({{"iss", "https://id.example"}, {"aud", {"other", "plexus"}}}), keys, options);
        }) == "");
  CHECK(code_of([&] {
          verify(with({{"iss", "https://id.example/"}, {"aud", "plexus"}}), keys, options);
        }) == "wrong_issuer");
  CHECK(code_of([&] {
          verify(with({{"iss", "HTTPS://ID.EXAMPLE"}, {"aud", "plexus"}}), keys, options);
        }) == "wrong_issuer");
  CHECK(code_of([&] { verify(with({{"aud", "plexus"}}), keys, options); }) == "wrong_issuer");
  CHECK(code_of([&] {
          verify(with({{"iss", "https://id.example"}, {"aud", "plexus-admin"}}), keys, options);
        }) == "wrong_audience");
  CHECK(code_of([&] {
          verify(with({{"iss", "https://id.example"}, {"aud", {"other", "Plexus"}}}), keys, options);
        }) == "wrong_audience");
  CHECK(code_of([&] {
          verify(with({{"iss", "https://id.example"}, {"aud", json::array()}}), keys, options);
        }) == "wrong_audience");
  CHECK(code_of([&] { verify(with({{"iss", "https://id.example"}}), keys, options); }) == "wrong_audience");
  CHECK(code_of([&] {
          verify(with({{"iss", "https://id.example"}, {"aud", {"plexus", 7}}}), keys, options);
        }) == "malformed");
}

TEST_CASE("the kid selects the key and without a kid every key of the family is tried", "[jwt]") {
  KeySet keys;
  keys.add_hmac("old", "old-secret-old-secret-old-secret-old");
  keys.add_hmac("new", kSecret);
  const auto options = options_for({"HS256"});
  CHECK(verify(sign_hs256(valid_claims(), kSecret, "new"), keys, options).subject == "alice");
  CHECK(code_of([&] { verify(sign_hs256(valid_claims(), kSecret, "old"), keys, options); }) ==
        "bad_signature");
  CHECK(code_of([&] { verify(sign_hs256(valid_claims(), kSecret, "gone"), keys, options); }) ==
        "unknown_key");
  CHECK(verify(sign_hs256(valid_claims(), kSecret), keys, options).subject == "alice");
  CHECK(code_of([&] { verify(sign_hs256(valid_claims(), kSecret), KeySet{}, options); }) == "unknown_key");
  CHECK(code_of([&] {
          verify(hs_token_raw(R"({"alg":"HS256","kid":5})", valid_claims().dump()), keys, options);
        }) == "malformed");
  CHECK(code_of([&] { keys.add_hmac("new", kSecret); }) == "invalid_key");
}

TEST_CASE("malformed tokens are rejected before any key is used", "[jwt]") {
  const auto keys = hmac_keys();
  const auto options = options_for({"HS256"});
  const std::string token = sign_hs256(valid_claims(), kSecret);
  const auto parts = segments(token);
  const auto code = [&](const std::string& candidate) {
    return code_of([&] { verify(candidate, keys, options); });
  };
  CHECK(code("") == "malformed");
  CHECK(code(parts[0] + "." + parts[1]) == "malformed");
  CHECK(code(token + ".") == "malformed");
  CHECK(code(token + "." + parts[2]) == "malformed");
  CHECK(code(parts[0] + "." + parts[1] + "=." + parts[2]) == "malformed");
  CHECK(code(parts[0] + "." + parts[1] + "." + parts[2] + "=") == "malformed");
  CHECK(code(parts[0] + "." + parts[1] + "!." + parts[2]) == "malformed");
  CHECK(code(b64("not json") + "." + parts[1] + "." + parts[2]) == "malformed");
  CHECK(code(hs_token_raw(R"(["alg","HS256"])", valid_claims().dump())) == "malformed");
  CHECK(code(hs_token_raw(R"({"typ":"JWT"})", valid_claims().dump())) == "malformed");
  CHECK(code(hs_token_raw(R"({"alg":"HS256","crit":["exp"],"exp":1})", valid_claims().dump())) ==
        "malformed");
  // Correctly signed, yet the payload is not a claims object.
  for (const std::string payload : {"[1,2]", "\"alice\"", "42", "null", "{"})
    CHECK(code(hs_token_raw(R"({"alg":"HS256"})", payload)) == "malformed");
  CHECK(code(hs_token_raw(R"({"alg":"HS256"})", R"({"sub":1,"exp":1800000000})")) == "malformed");

  json big = valid_claims();
  big["padding"] = std::string(kMaxTokenSize, 'x');
  CHECK(code(sign_hs256(big, kSecret)) == "malformed");
  CHECK(code(token + std::string(kMaxTokenSize, 'A')) == "malformed");
}

TEST_CASE("weak keys and non-object claims are refused", "[jwt]") {
  KeySet keys;
  CHECK(code_of([&] { keys.add_hmac("k", std::string(kMinHmacSecretSize - 1, 's')); }) == "invalid_key");
  CHECK(code_of([&] { keys.add_hmac("k", std::string(kMinHmacSecretSize, 's')); }) == "");
  CHECK(code_of([&] { sign_hs256(valid_claims(), "short"); }) == "invalid_key");
  CHECK(code_of([&] { sign_hs256(json::array({1}), kSecret); }) == "invalid_claims");
  CHECK(code_of([&] { sign_hs256({{"sub", "\xff"}}, kSecret); }) == "invalid_claims");
  CHECK(code_of([&] {
          keys.add_rsa_pem("r", "-----BEGIN PUBLIC KEY-----\nnonsense\n-----END PUBLIC KEY-----\n");
        }) == "invalid_key");
  CHECK(code_of([&] { keys.add_rsa_pem("r", ""); }) == "invalid_key");
}

TEST_CASE("RS256 tokens signed by openssl verify with the PEM and the JWKS public key", "[jwt][rsa]") {
  const auto& key = rsa().main;
  const json claims = {{"sub", "bob"}, {"iss", "https://id.example"}, {"aud", "plexus"}, {"exp", kNow + 60}};
  const std::string token = rs256_token(key, {{"alg", "RS256"}, {"typ", "JWT"}, {"kid", "rsa-1"}}, claims);
  auto options = options_for({"RS256"});
  options.issuer = "https://id.example";
  options.audience = "plexus";

  KeySet pem_keys;
  pem_keys.add_rsa_pem("rsa-1", key.public_pem);
  CHECK(verify(token, pem_keys, options).subject == "bob");
  const auto jwks_keys = KeySet::from_jwks(jwks_of(key, "rsa-1"));
  CHECK(verify(token, jwks_keys, options).raw == claims);
  CHECK(verify(rs256_token(key, {{"alg", "RS256"}}, claims), jwks_keys, options).subject == "bob");

  CHECK(code_of([&] { verify(token, pem_keys, options_for({"HS256"})); }) == "alg_not_allowed");
  const auto parts = segments(token);
  auto signature = *base64url_decode(parts[2]);
  signature.back() = static_cast<char>(signature.back() ^ 0x80);
  CHECK(code_of([&] { verify(parts[0] + "." + parts[1] + "." + b64(signature), pem_keys, options); }) ==
        "bad_signature");
  CHECK(code_of([&] {
          verify(parts[0] + "." + b64(json{{"sub", "root"}, {"exp", kNow + 60}}.dump()) + "." + parts[2],
                 pem_keys, options);
        }) == "bad_signature");
}

TEST_CASE("an RS256 token signed by another key fails", "[jwt][rsa]") {
  const std::string token = rs256_token(rsa().other, {{"alg", "RS256"}, {"kid", "rsa-1"}}, valid_claims());
  KeySet pem_keys;
  pem_keys.add_rsa_pem("rsa-1", rsa().main.public_pem);
  CHECK(code_of([&] { verify(token, pem_keys, options_for({"RS256"})); }) == "bad_signature");
  CHECK(code_of([&] {
          verify(token, KeySet::from_jwks(jwks_of(rsa().main, "rsa-1")), options_for({"RS256"}));
        }) == "bad_signature");
  // Both keys known: the kid picks the one that signed.
  KeySet both = KeySet::from_jwks(jwks_of(rsa().main, "rsa-1"));
  both.add_rsa_pem("rsa-2", rsa().other.public_pem);
  CHECK(verify(rs256_token(rsa().other, {{"alg", "RS256"}, {"kid", "rsa-2"}}, valid_claims()), both,
               options_for({"RS256"}))
            .subject == "alice");
  CHECK(verify(rs256_token(rsa().other, {{"alg", "RS256"}}, valid_claims()), both, options_for({"RS256"}))
            .subject == "alice");
}

TEST_CASE("JWKS loading skips foreign keys and refuses malformed RSA entries", "[jwt][rsa]") {
  const auto& key = rsa().main;
  const json rsa_jwk = {{"kty", "RSA"}, {"kid", "rsa-1"}, {"n", key.n}, {"e", key.e}};
  const json jwks = {{"keys",
                      {{{"kty", "EC"}, {"crv", "P-256"}, {"x", "abc"}, {"y", "def"}, {"kid", "ec"}},
                       {{"kty", "oct"}, {"k", "c2VjcmV0"}, {"kid", "oct"}},
                       {{"kty", "RSA"}, {"use", "enc"}, {"kid", "enc"}, {"n", key.n}, {"e", key.e}},
                       {{"kty", "RSA"}, {"alg", "RS512"}, {"kid", "rs512"}, {"n", key.n}, {"e", key.e}},
                       rsa_jwk}}};
  const auto keys = KeySet::from_jwks(jwks.dump());
  const auto options = options_for({"RS256", "HS256"});
  CHECK(
      verify(rs256_token(key, {{"alg", "RS256"}, {"kid", "rsa-1"}}, valid_claims()), keys, options).subject ==
      "alice");
  for (const std::string kid : {"ec", "oct", "enc", "rs512"})
    CHECK(code_of([&] {
            verify(rs256_token(key, {{"alg", "RS256"}, {"kid", kid}}, valid_claims()), keys, options);
          }) == "unknown_key");
  // An "oct" JWK never becomes an HMAC secret.
  CHECK(code_of([&] { verify(sign_hs256(valid_claims(), kSecret, "oct"), keys, options); }) == "unknown_key");

  const auto broken = [&](json entry) {
    return code_of([&] { KeySet::from_jwks(json{{"keys", {entry}}}.dump()); });
  };
  CHECK(broken(json{{"kty", "RSA"}, {"e", key.e}}) == "invalid_jwks");
  CHECK(broken(json{{"kty", "RSA"}, {"n", key.n}}) == "invalid_jwks");
  CHECK(broken(json{{"kty", "RSA"}, {"n", key.n + "="}, {"e", key.e}}) == "invalid_jwks");
  CHECK(broken(json{{"kty", "RSA"}, {"n", 12345}, {"e", key.e}}) == "invalid_jwks");
  CHECK(broken(json{{"kty", "RSA"}, {"n", ""}, {"e", key.e}}) == "invalid_jwks");
  CHECK(broken(json{{"kty", "RSA"}, {"n", b64("\x01\x02\x03")}, {"e", key.e}}) == "invalid_jwks");
  CHECK(broken(json{{"kty", "RSA"}, {"n", key.n}, {"e", b64(std::string(1, '\x02'))}}) == "invalid_jwks");
  CHECK(broken(json{{"kty", "RSA"}, {"kid", 1}, {"n", key.n}, {"e", key.e}}) == "invalid_jwks");
  CHECK(broken(json{{"n", key.n}, {"e", key.e}}) == "invalid_jwks");
  CHECK(broken(json("RSA")) == "invalid_jwks");
  CHECK(code_of([&] { KeySet::from_jwks(json{{"keys", {rsa_jwk, rsa_jwk}}}.dump()); }) == "invalid_jwks");
  for (const char* text : {"", "[]", "{}", R"({"keys":{}})", "{\"keys\":["})
    CHECK(code_of([&] { KeySet::from_jwks(text); }) == "invalid_jwks");
}

TEST_CASE("RSA public keys load from SPKI or PKCS#1 PEM and short or private keys are refused", "[jwt][rsa]") {
  TempDir dir;
  const auto spki = dir.write("main.pub.pem", rsa().main.public_pem);
  const auto pkcs1 = run_command({"openssl", "rsa", "-pubin", "-in", spki.string(), "-RSAPublicKey_out"});
  REQUIRE(pkcs1.exit_code == 0);
  REQUIRE(pkcs1.out.find("BEGIN RSA PUBLIC KEY") != std::string::npos);
  KeySet keys;
  keys.add_rsa_pem("pkcs1", pkcs1.out);
  CHECK(verify(rs256_token(rsa().main, {{"alg", "RS256"}, {"kid", "pkcs1"}}, valid_claims()), keys,
               options_for({"RS256"}))
            .subject == "alice");

  const auto small = generate_rsa(dir, "small", 1024);
  CHECK(code_of([&] { keys.add_rsa_pem("small", small.public_pem); }) == "invalid_key");
  CHECK(code_of([&] { KeySet::from_jwks(jwks_of(small, "small")); }) == "invalid_jwks");
  CHECK(code_of([&] { keys.add_rsa_pem("private", plexus::test::read_file(rsa().main.private_pem)); }) ==
        "invalid_key");
}
