// Secrets at rest (issue 5: data-source passwords and tokens): AES-256-GCM with a
// key derived from configuration, a fresh 96-bit nonce per seal, and associated
// data that binds a sealed value to where it belongs, so a ciphertext copied into
// another record or field does not open.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace plexus::secrets {

class SealError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class SecretBox {
 public:
  // The AES key is SHA-256 of `key_material` (at least 32 bytes: a generated secret
  // or store.secret_key). Throws std::invalid_argument when it is shorter.
  explicit SecretBox(std::string_view key_material);

  // "v1:" + base64url(nonce | ciphertext | tag).
  std::string seal(std::string_view plaintext, std::string_view associated_data) const;
  // Throws SealError when `sealed` is malformed, was tampered with, was sealed
  // under another key, or belongs to other associated data. Never says which.
  std::string open(std::string_view sealed, std::string_view associated_data) const;

  static bool looks_sealed(std::string_view text) { return text.starts_with("v1:"); }

 private:
  std::string key_;  // 32 bytes
};

}  // namespace plexus::secrets
