// Passwords: the policy a new password must meet, and Argon2id hashing in the PHC
// string format ($argon2id$v=19$m=...,t=...,p=...$salt$hash) so the parameters
// travel with each stored hash and can be raised later (see needs_rehash).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace plexus::auth {

struct PasswordPolicy {
  std::size_t min_length = 12;  // in Unicode code points, not bytes
  std::size_t max_length = 256;
  int min_character_classes = 3;  // of: lowercase, uppercase, digit, other
  bool reject_username = true;
};

// Every rule the password breaks, as a sentence for the user; empty means acceptable.
// Besides the policy, a password is rejected when it is not valid UTF-8, is one of
// the most common passwords (case-insensitive), or is a single character repeated.
// Letters and digits are classified in ASCII only: any other code point, including
// non-Latin letters, counts as an "other" character.
std::vector<std::string> check_password(std::string_view password, const PasswordPolicy& policy,
                                        std::string_view username = {});

// OWASP's minimum for Argon2id: 19 MiB, 2 passes, 1 lane.
struct Argon2Params {
  std::uint32_t memory_kib = 19456;
  std::uint32_t iterations = 2;
  std::uint32_t parallelism = 1;
};

// A PHC string with a fresh 16-byte salt and a 32-byte tag. Throws std::runtime_error
// (with libargon2's message, never the password) when hashing fails.
std::string hash_password(std::string_view password, const Argon2Params& params = {});

// Constant-time comparison. False, never an exception, for a wrong password and for
// anything that is not a well-formed argon2id v19 PHC string.
bool verify_password(std::string_view password, std::string_view encoded);

// True when the stored hash should be replaced at the next successful login: it is
// not argon2id v19 or any of its parameters is below `current`.
bool needs_rehash(std::string_view encoded, const Argon2Params& current);

// Costs as much as verify_password against a hash made with `params`. Call it when the
// user does not exist, so the response time does not reveal which user names exist.
void dummy_verify(const Argon2Params& params = {});

}  // namespace plexus::auth
