// The few cryptographic primitives identity needs beyond Argon2 and JWT: random ids
// and secrets from the OS generator, and the one-way hash under which refresh
// tokens and API keys are stored (they are long random values, so a plain SHA-256
// is enough: there is nothing to brute-force).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace plexus::identity {

// 128 random bits as 32 lowercase hex digits: ids of users, sessions, keys, links.
std::string new_id();

// `bytes` random bytes, base64url without padding: refresh tokens, key secrets.
std::string random_secret(std::size_t bytes = 32);

// Lowercase hex SHA-256 of `text`.
std::string sha256_hex(std::string_view text);

// Equality in time that depends only on the lengths, for comparing stored hashes.
bool constant_time_equals(std::string_view a, std::string_view b);

}  // namespace plexus::identity
