// JSON Web Tokens (RFC 7519): HS256 signing for our own session tokens and
// verification of HS256 and RS256 tokens, the latter from OIDC issuers' JWKS.
// Only JWS compact serialisation; `alg: none` is never accepted.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace plexus::auth {

// code() is stable and safe to log; what() never contains token, claim or key material.
//   verify: malformed, unsupported_alg, alg_not_allowed, unknown_key, key_alg_mismatch,
//           bad_signature, expired, not_yet_valid, wrong_issuer, wrong_audience, missing_exp
//   keys:   invalid_key (add_hmac, add_rsa_pem, sign_hs256), invalid_jwks (from_jwks)
//   sign_hs256 also: invalid_claims
class JwtError : public std::runtime_error {
 public:
  JwtError(std::string code, const std::string& message);
  const std::string& code() const noexcept { return code_; }

 private:
  std::string code_;
};

// Larger tokens are refused before any decoding or parsing.
inline constexpr std::size_t kMaxTokenSize = 16 * 1024;

// RFC 7518 section 3.2: an HMAC key must be at least as long as the hash output.
inline constexpr std::size_t kMinHmacSecretSize = 32;

// RSA keys below this size are refused (NIST SP 800-131A, OWASP ASVS 6.2).
inline constexpr int kMinRsaBits = 2048;

struct Claims {
  nlohmann::json raw;  // the whole payload, for claims beyond the registered ones
  std::string subject, issuer;
  std::vector<std::string> audience;                              // a single-string "aud" becomes one element
  std::optional<std::int64_t> expires_at, not_before, issued_at;  // seconds since the epoch
  std::string token_id;
};

// Header {"alg":"HS256","typ":"JWT"} plus "kid" when given. `claims` must be an object;
// `secret` at least kMinHmacSecretSize bytes.
std::string sign_hs256(const nlohmann::json& claims, std::string_view secret, std::string_view kid = {});

struct VerifyOptions {
  std::vector<std::string> algorithms;  // allowed, e.g. {"HS256"} or {"RS256"}; empty allows none
  std::string issuer;                   // required "iss" when not empty
  std::string audience;                 // must be in "aud" when not empty
  std::chrono::seconds leeway{30};      // clock skew tolerated on exp and nbf
  std::function<std::int64_t()> now;    // seconds since the epoch; system clock when empty
  bool require_exp = true;
};

// Verification keys by kid. A key serves one family only: HMAC secrets verify HS256,
// RSA public keys RS256, so a public key can never be misused as an HMAC secret.
class KeySet {
 public:
  void add_hmac(std::string kid, std::string secret);
  // SubjectPublicKeyInfo ("BEGIN PUBLIC KEY") or PKCS#1 ("BEGIN RSA PUBLIC KEY").
  void add_rsa_pem(std::string kid, std::string_view pem);
  // {"keys":[...]}: RSA signature keys are taken; other key types, "use" other than
  // "sig" and "alg" other than RS256 are skipped; a malformed RSA entry is an error.
  static KeySet from_jwks(std::string_view jwks_json);

  struct Key;  // defined in jwt.cpp: kid plus an HMAC secret or an RSA EVP_PKEY

 private:
  friend Claims verify(std::string_view token, const KeySet& keys, const VerifyOptions& options);
  void add(std::shared_ptr<const Key> key, const char* error_code);
  std::vector<std::shared_ptr<const Key>> keys_;
};

// A token's header kid selects its key; without a kid every key of the algorithm's
// family is tried. Signature first, then the time, issuer and audience claims.
Claims verify(std::string_view token, const KeySet& keys, const VerifyOptions& options);

}  // namespace plexus::auth
