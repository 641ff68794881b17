// Secrets the kernel makes for itself when the operator gives none (the JWT key,
// the key that seals stored credentials): generated once into the data directory,
// readable by this user only, and the same for every node sharing that directory.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace plexus::secrets {

// `bytes` random bytes from the OS generator, base64url without padding.
std::string random_secret(std::size_t bytes = 48);

// The secret kept in `file`; if there is none, a new random one is written with
// O_EXCL and mode 0600 (directory 0700) and returned. `purpose` names it in the log
// ("JWT signing key"). Throws std::runtime_error naming the file when it cannot be
// read or written, or is empty.
std::string read_or_create_secret(const std::filesystem::path& file, std::string_view purpose);

}  // namespace plexus::secrets
