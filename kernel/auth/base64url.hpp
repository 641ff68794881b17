// Base64url without padding (RFC 4648 section 5), the encoding of every JWT segment.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace plexus::auth {

std::string base64url_encode(std::string_view bytes);

// nullopt on anything but the one canonical encoding: characters outside the
// url-safe alphabet, '=' padding, an impossible length, or non-zero trailing bits.
// Strictness matters: two spellings of one signature would let tokens be altered unnoticed.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace plexus::auth
