#include "kernel/auth/password.hpp"

#include "kernel/text/utf8.hpp"

#include <argon2.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <optional>
#include <stdexcept>

#include <openssl/rand.h>

namespace plexus::auth {
namespace {

constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kTagBytes = 32;

// The most used passwords in public breach corpora, lowercase. Many are shorter than
// the default minimum length; they still matter when a deployment lowers it.
constexpr std::array<std::string_view, 50> kCommonPasswords = {
    "123456",       "123456789",   "12345678",      "1234567890",   "123456789012",  "password",
    "password1",    "password12",  "password123",   "password123!", "password1!",    "passw0rd",
    "passw0rd!",    "p@ssw0rd",    "p@ssw0rd1",     "p@ssword123",  "qwerty",        "qwerty123",
    "qwerty123456", "qwertyuiop",  "qwertyuiop123", "1q2w3e4r",     "1q2w3e4r5t6y",  "1qaz2wsx",
    "1qaz2wsx3edc", "zaq12wsx",    "abc123",        "abcd1234",     "abc123456789",  "iloveyou",
    "iloveyou123",  "letmein",     "letmein123!",   "welcome",      "welcome1",      "welcome123",
    "welcome123!",  "admin",       "admin123",      "admin@123",    "administrator", "changeme",
    "changeme123",  "monkey",      "dragon",        "football",     "baseball",      "sunshine",
    "trustno1",     "superman123",
};

std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

int character_classes(const std::u32string& code_points) {
  bool lower = false, upper = false, digit = false, other = false;
  for (char32_t c : code_points) {
    if (c >= 'a' && c <= 'z') {
      lower = true;
    } else if (c >= 'A' && c <= 'Z') {
      upper = true;
    } else if (c >= '0' && c <= '9') {
      digit = true;
    } else {
      other = true;
    }
  }
  return lower + upper + digit + other;
}

bool take_literal(std::string_view& text, std::string_view literal) {
  if (!text.starts_with(literal)) return false;
  text.remove_prefix(literal.size());
  return true;
}

bool take_number(std::string_view& text, std::uint32_t& value) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end == text.data()) return false;
  text.remove_prefix(static_cast<std::size_t>(end - text.data()));
  return true;
}

bool is_base64(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
  });
}

// Only the exact form hash_password writes is accepted. libargon2 alone would also
// take a version-less (v=16) string, which this module never produces.
std::optional<Argon2Params> parse_argon2id(std::string_view encoded) {
  Argon2Params params;
  if (!take_literal(encoded, "$argon2id$v=19$m=") || !take_number(encoded, params.memory_kib) ||
      !take_literal(encoded, ",t=") || !take_number(encoded, params.iterations) ||
      !take_literal(encoded, ",p=") || !take_number(encoded, params.parallelism) ||
      !take_literal(encoded, "$")) {
    return std::nullopt;
  }
  const std::size_t separator = encoded.find('$');
  if (separator == std::string_view::npos || !is_base64(encoded.substr(0, separator)) ||
      !is_base64(encoded.substr(separator + 1))) {
    return std::nullopt;
  }
  return params;
}

}  // namespace

std::vector<std::string> check_password(std::string_view password, const PasswordPolicy& policy,
                                        std::string_view username) {
  const auto code_points = text::decode_utf8(password);
  // Without valid UTF-8 there are no characters to count, so no other rule applies.
  if (!code_points) return {"Password must be valid UTF-8 text."};

  std::vector<std::string> violations;
  if (code_points->size() < policy.min_length) {
    violations.push_back("Password must be at least " + std::to_string(policy.min_length) +
                         " characters long.");
  }
  if (code_points->size() > policy.max_length) {
    violations.push_back("Password must be at most " + std::to_string(policy.max_length) +
                         " characters long.");
  }
  if (character_classes(*code_points) < policy.min_character_classes) {
    violations.push_back("Password must mix at least " + std::to_string(policy.min_character_classes) +
                         " of: lowercase letters, uppercase letters, digits, other characters.");
  }
  const std::string lowered = ascii_lower(password);
  // A one- or two-letter user name would forbid most passwords, so those are exempt.
  if (policy.reject_username && username.size() >= 3 &&
      lowered.find(ascii_lower(username)) != std::string::npos) {
    violations.push_back("Password must not contain the username.");
  }
  if (std::find(kCommonPasswords.begin(), kCommonPasswords.end(), lowered) != kCommonPasswords.end()) {
    violations.push_back("Password is one of the most commonly used passwords.");
  }
  if (code_points->size() > 1 && std::all_of(code_points->begin(), code_points->end(),
                                             [&](char32_t c) { return c == code_points->front(); })) {
    violations.push_back("Password must not be a single character repeated.");
  }
  return violations;
}

std::string hash_password(std::string_view password, const Argon2Params& params) {
  std::array<unsigned char, kSaltBytes> salt;
  if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1) {
    throw std::runtime_error("Argon2id hashing failed: no random salt available");
  }
  std::string encoded(argon2_encodedlen(params.iterations, params.memory_kib, params.parallelism, kSaltBytes,
                                        kTagBytes, Argon2_id),
                      '\0');
  const int rc = argon2id_hash_encoded(params.iterations, params.memory_kib, params.parallelism,
                                       password.data(), password.size(), salt.data(), salt.size(), kTagBytes,
                                       encoded.data(), encoded.size());
  if (rc != ARGON2_OK)
    throw std::runtime_error(std::string("Argon2id hashing failed: ") + argon2_error_message(rc));
  encoded.resize(std::strlen(encoded.c_str()));
  return encoded;
}

bool verify_password(std::string_view password, std::string_view encoded) {
  if (!parse_argon2id(encoded)) return false;
  const std::string terminated(encoded);  // libargon2 wants a C string
  return argon2id_verify(terminated.c_str(), password.data(), password.size()) == ARGON2_OK;
}

bool needs_rehash(std::string_view encoded, const Argon2Params& current) {
  const auto stored = parse_argon2id(encoded);
  return !stored || stored->memory_kib < current.memory_kib || stored->iterations < current.iterations ||
         stored->parallelism < current.parallelism;
}

void dummy_verify(const Argon2Params& params) {
  // Verifying is computing one tag with the stored parameters, so computing one here
  // costs the same. The result, and any error, is irrelevant: the caller rejects anyway.
  static constexpr std::string_view kPassword = "plexus dummy password";
  static constexpr std::array<unsigned char, kSaltBytes> kSalt{};
  std::array<unsigned char, kTagBytes> tag;
  (void)argon2id_hash_raw(params.iterations, params.memory_kib, params.parallelism, kPassword.data(),
                          kPassword.size(), kSalt.data(), kSalt.size(), tag.data(), tag.size());
}

}  // namespace plexus::auth
