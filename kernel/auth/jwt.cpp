#include "kernel/auth/jwt.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <limits>
#include <variant>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "kernel/auth/base64url.hpp"

namespace plexus::auth {

namespace {

enum class Family { hmac, rsa };

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using DecoderCtxPtr = std::unique_ptr<OSSL_DECODER_CTX, Deleter<OSSL_DECODER_CTX, OSSL_DECODER_CTX_free>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM, OSSL_PARAM_free>>;

}  // namespace

struct KeySet::Key {
  std::string kid;
  std::variant<std::string, PkeyPtr> material;  // HMAC secret or RSA public key
  Family family() const { return material.index() == 0 ? Family::hmac : Family::rsa; }
};

JwtError::JwtError(std::string code, const std::string& message)
    : std::runtime_error(message), code_(std::move(code)) {}

namespace {

constexpr std::size_t kSha256Size = 32;

const unsigned char* bytes_of(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

std::array<unsigned char, kSha256Size> hmac_sha256(std::string_view secret, std::string_view data) {
  std::array<unsigned char, kSha256Size> mac{};
  std::size_t length = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, secret.data(), secret.size(), bytes_of(data),
                data.size(), mac.data(), mac.size(), &length) == nullptr ||
      length != mac.size())
    throw std::runtime_error("HMAC-SHA256 failed");
  return mac;
}

bool rsa_sha256_verifies(EVP_PKEY* key, std::string_view data, std::string_view signature) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx) throw std::bad_alloc();
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1) return false;
  return EVP_DigestVerify(ctx.get(), bytes_of(signature), signature.size(), bytes_of(data), data.size()) == 1;
}

// Plain RSA only: an RSA-PSS key would silently switch the padding RS256 defines.
void check_rsa_public_key(EVP_PKEY* key, const char* error_code) {
  if (EVP_PKEY_is_a(key, "RSA") != 1) throw JwtError(error_code, "not an RSA key");
  if (EVP_PKEY_get_bits(key) < kMinRsaBits)
    throw JwtError(error_code, "RSA key shorter than " + std::to_string(kMinRsaBits) + " bits");
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
  if (!ctx || EVP_PKEY_public_check(ctx.get()) != 1) throw JwtError(error_code, "invalid RSA public key");
}

std::string dump_json(const nlohmann::json& value) {
  try {
    return value.dump();
  } catch (const nlohmann::json::exception&) {
    throw JwtError("invalid_claims", "claims are not valid UTF-8");
  }
}

std::optional<nlohmann::json> parse_json_object(std::string_view text) {
  auto value = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!value.is_object()) return std::nullopt;
  return value;
}

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
  });
}

std::optional<Family> family_of(std::string_view alg) {
  if (alg == "HS256") return Family::hmac;
  if (alg == "RS256") return Family::rsa;
  return std::nullopt;
}

std::string optional_string(const nlohmann::json& object, const char* name) {
  const auto it = object.find(name);
  if (it == object.end()) return {};
  if (!it->is_string()) throw JwtError("malformed", std::string("\"") + name + "\" is not a string");
  return it->get<std::string>();
}

// NumericDate (RFC 7519 section 2): seconds, possibly fractional; fractions are dropped.
std::optional<std::int64_t> optional_time(const nlohmann::json& object, const char* name) {
  const auto it = object.find(name);
  if (it == object.end()) return std::nullopt;
  if (it->is_number_integer() && !it->is_number_unsigned()) return it->get<std::int64_t>();
  if (it->is_number_unsigned() && it->get<std::uint64_t>() <= std::numeric_limits<std::int64_t>::max())
    return static_cast<std::int64_t>(it->get<std::uint64_t>());
  // 2^63 is exact in a double; anything below it fits in int64_t after flooring.
  if (it->is_number_float() && std::isfinite(it->get<double>()) && std::abs(it->get<double>()) < 0x1p63)
    return static_cast<std::int64_t>(std::floor(it->get<double>()));
  throw JwtError("malformed", std::string("\"") + name + "\" is not a NumericDate");
}

Claims claims_from(nlohmann::json payload) {
  Claims claims;
  claims.subject = optional_string(payload, "sub");
  claims.issuer = optional_string(payload, "iss");
  claims.token_id = optional_string(payload, "jti");
  claims.expires_at = optional_time(payload, "exp");
  claims.not_before = optional_time(payload, "nbf");
  claims.issued_at = optional_time(payload, "iat");
  if (const auto aud = payload.find("aud"); aud != payload.end()) {
    if (aud->is_string()) {
      claims.audience.push_back(aud->get<std::string>());
    } else if (aud->is_array()) {
      for (const auto& entry : *aud) {
        if (!entry.is_string()) throw JwtError("malformed", "\"aud\" holds a non-string");
        claims.audience.push_back(entry.get<std::string>());
      }
    } else {
      throw JwtError("malformed", "\"aud\" is neither a string nor an array");
    }
  }
  claims.raw = std::move(payload);
  return claims;
}

std::int64_t saturating_add(std::int64_t a, std::int64_t b) {
  std::int64_t sum = 0;
  if (!__builtin_add_overflow(a, b, &sum)) return sum;
  return b > 0 ? std::numeric_limits<std::int64_t>::max() : std::numeric_limits<std::int64_t>::min();
}

void check_claims(const Claims& claims, const VerifyOptions& options) {
  const std::int64_t now = options.now ? options.now()
                                       : std::chrono::duration_cast<std::chrono::seconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count();
  const std::int64_t leeway = std::max<std::int64_t>(0, options.leeway.count());
  if (!claims.expires_at && options.require_exp) throw JwtError("missing_exp", "token has no expiry");
  // exp is the first instant the token is no longer valid (RFC 7519 section 4.1.4).
  if (claims.expires_at && now >= saturating_add(*claims.expires_at, leeway))
    throw JwtError("expired", "token expired");
  if (claims.not_before && saturating_add(now, leeway) < *claims.not_before)
    throw JwtError("not_yet_valid", "token not valid yet");
  if (!options.issuer.empty() && claims.issuer != options.issuer)
    throw JwtError("wrong_issuer", "unexpected issuer");
  if (!options.audience.empty() &&
      std::find(claims.audience.begin(), claims.audience.end(), options.audience) == claims.audience.end())
    throw JwtError("wrong_audience", "token not meant for this audience");
}

bool signature_verifies(const KeySet::Key& key, std::string_view signing_input, std::string_view signature) {
  if (const auto* secret = std::get_if<std::string>(&key.material)) {
    const auto mac = hmac_sha256(*secret, signing_input);
    // Constant time, so response timing does not reveal how much of a forged MAC was right.
    return signature.size() == mac.size() && CRYPTO_memcmp(signature.data(), mac.data(), mac.size()) == 0;
  }
  return rsa_sha256_verifies(std::get<PkeyPtr>(key.material).get(), signing_input, signature);
}

}  // namespace

std::string sign_hs256(const nlohmann::json& claims, std::string_view secret, std::string_view kid) {
  if (!claims.is_object()) throw JwtError("invalid_claims", "claims must be a JSON object");
  if (secret.size() < kMinHmacSecretSize)
    throw JwtError("invalid_key",
                   "HMAC secret shorter than " + std::to_string(kMinHmacSecretSize) + " bytes");
  nlohmann::json header = {{"alg", "HS256"}, {"typ", "JWT"}};
  if (!kid.empty()) header["kid"] = std::string(kid);
  std::string token = base64url_encode(dump_json(header)) + '.' + base64url_encode(dump_json(claims));
  const auto mac = hmac_sha256(secret, token);
  token += '.';
  token += base64url_encode(std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()));
  return token;
}

void KeySet::add(std::shared_ptr<const Key> key, const char* error_code) {
  // Keys without a kid may repeat (a JWKS need not name them); a named kid must pick one key.
  if (!key->kid.empty() &&
      std::any_of(keys_.begin(), keys_.end(), [&](const auto& other) { return other->kid == key->kid; }))
    throw JwtError(error_code, "duplicate kid");
  keys_.push_back(std::move(key));
}

void KeySet::add_hmac(std::string kid, std::string secret) {
  if (secret.size() < kMinHmacSecretSize)
    throw JwtError("invalid_key",
                   "HMAC secret shorter than " + std::to_string(kMinHmacSecretSize) + " bytes");
  add(std::make_shared<const Key>(Key{std::move(kid), std::move(secret)}), "invalid_key");
}

void KeySet::add_rsa_pem(std::string kid, std::string_view pem) {
  EVP_PKEY* raw = nullptr;
  DecoderCtxPtr decoder(
      OSSL_DECODER_CTX_new_for_pkey(&raw, "PEM", nullptr, "RSA", EVP_PKEY_PUBLIC_KEY, nullptr, nullptr));
  if (!decoder) throw JwtError("invalid_key", "cannot create PEM decoder");
  const unsigned char* data = bytes_of(pem);
  std::size_t length = pem.size();
  if (OSSL_DECODER_from_data(decoder.get(), &data, &length) != 1 || raw == nullptr)
    throw JwtError("invalid_key", "not an RSA public key in PEM");
  PkeyPtr key(raw);
  check_rsa_public_key(key.get(), "invalid_key");
  add(std::make_shared<const Key>(Key{std::move(kid), std::move(key)}), "invalid_key");
}

namespace {

BnPtr jwk_bignum(const nlohmann::json& jwk, const char* name) {
  const auto it = jwk.find(name);
  if (it == jwk.end() || !it->is_string())
    throw JwtError("invalid_jwks", std::string("RSA key without \"") + name + "\"");
  const auto bytes = base64url_decode(it->get<std::string>());
  if (!bytes || bytes->empty())
    throw JwtError("invalid_jwks", std::string("RSA key with invalid \"") + name + "\"");
  BnPtr number(BN_bin2bn(bytes_of(*bytes), static_cast<int>(bytes->size()), nullptr));
  if (!number) throw std::bad_alloc();
  return number;
}

PkeyPtr rsa_key_from_jwk(const nlohmann::json& jwk) {
  const auto n = jwk_bignum(jwk, "n");
  const auto e = jwk_bignum(jwk, "e");
  ParamBldPtr builder(OSSL_PARAM_BLD_new());
  if (!builder || OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1)
    throw std::bad_alloc();
  ParamPtr params(OSSL_PARAM_BLD_to_param(builder.get()));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  if (!params || !ctx) throw std::bad_alloc();
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1)
    throw JwtError("invalid_jwks", "RSA key rejected by OpenSSL");
  PkeyPtr key(raw);
  check_rsa_public_key(key.get(), "invalid_jwks");
  return key;
}

}  // namespace

KeySet KeySet::from_jwks(std::string_view jwks_json) {
  const auto jwks = parse_json_object(jwks_json);
  if (!jwks || !jwks->contains("keys") || !(*jwks)["keys"].is_array())
    throw JwtError("invalid_jwks", "JWKS is not an object with a \"keys\" array");
  KeySet set;
  for (const auto& jwk : jwks->at("keys")) {
    if (!jwk.is_object()) throw JwtError("invalid_jwks", "JWKS entry is not an object");
    const auto kty = jwk.find("kty");
    if (kty == jwk.end() || !kty->is_string()) throw JwtError("invalid_jwks", "JWKS entry without \"kty\"");
    if (*kty != "RSA") continue;
    const auto use = jwk.find("use");
    const auto alg = jwk.find("alg");
    if ((use != jwk.end() && !use->is_string()) || (alg != jwk.end() && !alg->is_string()))
      throw JwtError("invalid_jwks", "RSA key with non-string \"use\" or \"alg\"");
    // Encryption keys and other RSA algorithms are not ours to verify with.
    if ((use != jwk.end() && *use != "sig") || (alg != jwk.end() && *alg != "RS256")) continue;
    const auto kid = jwk.find("kid");
    if (kid != jwk.end() && !kid->is_string())
      throw JwtError("invalid_jwks", "RSA key with non-string \"kid\"");
    set.add(std::make_shared<const Key>(
                Key{kid == jwk.end() ? std::string() : kid->get<std::string>(), rsa_key_from_jwk(jwk)}),
            "invalid_jwks");
  }
  return set;
}

Claims verify(std::string_view token, const KeySet& keys, const VerifyOptions& options) {
  if (token.size() > kMaxTokenSize) throw JwtError("malformed", "token too large");
  const auto first_dot = token.find('.');
  const auto second_dot = first_dot == std::string_view::npos ? first_dot : token.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos || token.find('.', second_dot + 1) != std::string_view::npos)
    throw JwtError("malformed", "token does not have three segments");
  const auto header_text = base64url_decode(token.substr(0, first_dot));
  const auto payload_text = base64url_decode(token.substr(first_dot + 1, second_dot - first_dot - 1));
  const auto signature = base64url_decode(token.substr(second_dot + 1));
  if (!header_text || !payload_text || !signature) throw JwtError("malformed", "segment is not base64url");

  const auto header = parse_json_object(*header_text);
  if (!header) throw JwtError("malformed", "header is not a JSON object");
  const auto alg_it = header->find("alg");
  if (alg_it == header->end() || !alg_it->is_string()) throw JwtError("malformed", "header has no \"alg\"");
  const std::string alg = alg_it->get<std::string>();
  // Unsigned tokens are refused whatever the options say, in any spelling.
  if (iequals(alg, "none")) throw JwtError("unsupported_alg", "unsigned tokens are not accepted");
  const auto family = family_of(alg);
  if (!family) throw JwtError("unsupported_alg", "unsupported algorithm");
  if (std::find(options.algorithms.begin(), options.algorithms.end(), alg) == options.algorithms.end())
    throw JwtError("alg_not_allowed", "algorithm not allowed");
  // No extension is understood, so any critical one must fail (RFC 7515 section 4.1.11).
  if (header->contains("crit")) throw JwtError("malformed", "unsupported critical header");
  const std::string kid = optional_string(*header, "kid");

  std::vector<const KeySet::Key*> candidates;
  for (const auto& key : keys.keys_)
    if (kid.empty() || key->kid == kid) candidates.push_back(key.get());
  if (candidates.empty()) throw JwtError("unknown_key", "no key for this token");
  // The key decides the algorithm family, never the token: stops HS256 forged with an RSA public key.
  std::erase_if(candidates, [&](const KeySet::Key* key) { return key->family() != *family; });
  if (candidates.empty()) throw JwtError("key_alg_mismatch", "key does not match the token's algorithm");

  const std::string_view signing_input = token.substr(0, second_dot);
  if (std::none_of(candidates.begin(), candidates.end(), [&](const KeySet::Key* key) {
        return signature_verifies(*key, signing_input, *signature);
      }))
    throw JwtError("bad_signature", "signature does not verify");

  auto payload = parse_json_object(*payload_text);
  if (!payload) throw JwtError("malformed", "payload is not a JSON object");
  Claims claims = claims_from(std::move(*payload));
  check_claims(claims, options);
  return claims;
}

}  // namespace plexus::auth
