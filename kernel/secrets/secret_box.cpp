#include "kernel/secrets/secret_box.hpp"

#include <algorithm>
#include <array>
#include <memory>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "kernel/auth/base64url.hpp"

namespace plexus::secrets {
namespace {

constexpr std::size_t kNonceSize = 12;
constexpr std::size_t kTagSize = 16;
constexpr std::string_view kPrefix = "v1:";

using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

CipherContext new_context() {
  CipherContext context(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  if (!context) throw std::runtime_error("OpenSSL: cannot allocate a cipher context");
  return context;
}

const unsigned char* bytes(std::string_view text) { return reinterpret_cast<const unsigned char*>(text.data()); }

}  // namespace

SecretBox::SecretBox(std::string_view key_material) {
  if (key_material.size() < 32) throw std::invalid_argument("the secret key must be at least 32 bytes");
  std::array<unsigned char, 32> digest{};
  unsigned int length = 0;
  if (EVP_Digest(key_material.data(), key_material.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("OpenSSL: SHA-256 failed");
  }
  key_.assign(reinterpret_cast<const char*>(digest.data()), digest.size());
}

std::string SecretBox::seal(std::string_view plaintext, std::string_view associated_data) const {
  std::string out(kNonceSize + plaintext.size() + kTagSize, '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(out.data());
  auto* cipher = nonce + kNonceSize;
  if (RAND_bytes(nonce, kNonceSize) != 1) throw std::runtime_error("OpenSSL: no random nonce");
  auto context = new_context();
  int written = 0;
  int final_written = 0;
  const bool ok =
      EVP_EncryptInit_ex(context.get(), EVP_aes_256_gcm(), nullptr, bytes(key_), nonce) == 1 &&
      EVP_EncryptUpdate(context.get(), nullptr, &written, bytes(associated_data),
                        static_cast<int>(associated_data.size())) == 1 &&
      EVP_EncryptUpdate(context.get(), cipher, &written, bytes(plaintext), static_cast<int>(plaintext.size())) == 1 &&
      EVP_EncryptFinal_ex(context.get(), cipher + written, &final_written) == 1 &&
      EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_GET_TAG, kTagSize, cipher + plaintext.size()) == 1;
  if (!ok) throw std::runtime_error("OpenSSL: AES-256-GCM encryption failed");
  return std::string(kPrefix) + auth::base64url_encode(out);
}

std::string SecretBox::open(std::string_view sealed, std::string_view associated_data) const {
  if (!sealed.starts_with(kPrefix)) throw SealError("not a sealed secret");
  const auto raw = auth::base64url_decode(sealed.substr(kPrefix.size()));
  if (!raw || raw->size() < kNonceSize + kTagSize) throw SealError("not a sealed secret");
  const auto* nonce = bytes(*raw);
  const auto* cipher = nonce + kNonceSize;
  const std::size_t cipher_size = raw->size() - kNonceSize - kTagSize;
  std::array<unsigned char, kTagSize> tag{};
  std::copy_n(cipher + cipher_size, kTagSize, tag.begin());
  std::string plain(cipher_size, '\0');
  auto context = new_context();
  int written = 0;
  int final_written = 0;
  const bool ok =
      EVP_DecryptInit_ex(context.get(), EVP_aes_256_gcm(), nullptr, bytes(key_), nonce) == 1 &&
      EVP_DecryptUpdate(context.get(), nullptr, &written, bytes(associated_data),
                        static_cast<int>(associated_data.size())) == 1 &&
      EVP_DecryptUpdate(context.get(), reinterpret_cast<unsigned char*>(plain.data()), &written, cipher,
                        static_cast<int>(cipher_size)) == 1 &&
      EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_SET_TAG, kTagSize, tag.data()) == 1 &&
      EVP_DecryptFinal_ex(context.get(), reinterpret_cast<unsigned char*>(plain.data()) + written,
                          &final_written) == 1;
  if (!ok) throw SealError("the sealed secret does not open with this key and context");
  return plain;
}

}  // namespace plexus::secrets
