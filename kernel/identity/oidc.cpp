#include "kernel/identity/oidc.hpp"

#include <set>
#include <stdexcept>

#include "kernel/auth/base64url.hpp"

namespace plexus::identity {
namespace {

// A claim by name, or by a dotted path into nested objects ("realm_access.roles").
const nlohmann::json* claim_at(const nlohmann::json& claims, const std::string& name) {
  if (name.empty()) return nullptr;
  if (const auto it = claims.find(name); it != claims.end()) return &*it;
  const nlohmann::json* node = &claims;
  std::size_t start = 0;
  while (start <= name.size()) {
    const auto dot = name.find('.', start);
    const auto part = name.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!node->is_object()) return nullptr;
    const auto it = node->find(part);
    if (it == node->end()) return nullptr;
    node = &*it;
    if (dot == std::string::npos) return node;
    start = dot + 1;
  }
  return nullptr;
}

std::string string_claim(const nlohmann::json& claims, const std::string& name) {
  const auto* value = claim_at(claims, name);
  return value != nullptr && value->is_string() ? value->get<std::string>() : std::string();
}

}  // namespace

std::optional<std::string> unverified_issuer(std::string_view token) {
  const auto first = token.find('.');
  if (first == std::string_view::npos) return std::nullopt;
  const auto second = token.find('.', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  const auto payload = auth::base64url_decode(token.substr(first + 1, second - first - 1));
  if (!payload) return std::nullopt;
  const auto claims = nlohmann::json::parse(*payload, nullptr, false);
  if (!claims.is_object()) return std::nullopt;
  const auto it = claims.find("iss");
  if (it == claims.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

OidcVerifier::OidcVerifier(const OidcOptions& options, Directory& directory)
    : options_(options), directory_(directory) {
  if (options_.issuer.empty()) return;
  if (options_.jwks.empty()) throw std::runtime_error("auth.oidc.issuer is set but auth.oidc.jwks is empty");
  if (options_.jwks.starts_with("http://")) {
    throw std::runtime_error("auth.oidc.jwks must be a file or an https:// URL, never plain http");
  }
  jwks_ = std::make_unique<JwksSource>(options_.jwks, options_.jwks_refresh);
}

auth::Claims OidcVerifier::verify(std::string_view token) {
  auth::VerifyOptions verify_options;
  verify_options.algorithms = {"RS256"};
  verify_options.issuer = options_.issuer;
  verify_options.audience = options_.audience;
  auto keys = jwks_->keys();
  if (!keys) throw auth::JwtError("unknown_key", "the issuer's signing keys are not available");
  try {
    return auth::verify(token, *keys, verify_options);
  } catch (const auth::JwtError& e) {
    if (e.code() != "unknown_key") throw;
    auto fresh = jwks_->reload_for_unknown_key();
    if (!fresh) throw;
    return auth::verify(token, *fresh, verify_options);
  }
}

std::vector<std::string> OidcVerifier::mapped_roles(const nlohmann::json& claims, const std::string& tenant) {
  std::vector<std::string> issued;
  if (const auto* value = claim_at(claims, options_.roles_claim)) {
    if (value->is_string()) issued.push_back(value->get<std::string>());
    if (value->is_array()) {
      for (const auto& item : *value) {
        if (item.is_string()) issued.push_back(item.get<std::string>());
      }
    }
  }
  std::set<std::string> roles;
  for (const auto& role : issued) {
    if (const auto mapped = options_.role_map.find(role); mapped != options_.role_map.end()) {
      if (directory_.role_exists(tenant, mapped->second)) roles.insert(mapped->second);
    } else if (directory_.role_exists(tenant, role)) {
      roles.insert(role);
    }
  }
  return {roles.begin(), roles.end()};
}

std::optional<auth::Caller> OidcVerifier::authenticate(std::string_view token) {
  const auto claims = verify(token);
  std::string tenant = string_claim(claims.raw, options_.tenant_claim);
  if (tenant.empty()) tenant = options_.default_tenant;
  if (!directory_.tenant_enabled(tenant)) return std::nullopt;

  auth::Caller caller;
  caller.kind = auth::CallerKind::oidc;
  caller.tenant = tenant;
  caller.user_id = claims.subject;
  caller.name = string_claim(claims.raw, options_.username_claim);
  if (caller.name.empty()) caller.name = claims.subject;
  caller.roles = mapped_roles(claims.raw, tenant);
  caller.grants = directory_.grants_of(tenant, caller.roles);
  caller.credential_id = claims.token_id;
  return caller;
}

}  // namespace plexus::identity
