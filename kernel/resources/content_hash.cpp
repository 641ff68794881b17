#include "kernel/resources/content_hash.hpp"

#include <array>
#include <stdexcept>

#include <openssl/evp.h>

#include "kernel/audit/canonical_json.hpp"

namespace plexus::resources {

std::string content_hash(const nlohmann::json& content) {
  const auto canonical = audit::canonical_json(content);
  std::array<unsigned char, 32> digest{};
  unsigned int length = 0;
  if (EVP_Digest(canonical.data(), canonical.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1 ||
      length != digest.size()) {
    throw std::runtime_error("SHA-256 failed");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (const unsigned char byte : digest) {
    out += kHex[byte >> 4];
    out += kHex[byte & 0x0f];
  }
  return out;
}

}  // namespace plexus::resources
