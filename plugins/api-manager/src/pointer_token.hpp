// A key as one JSON Pointer token (RFC 6901): "~" as "~0", "/" as "~1". Problems found on
// save name their place with a pointer, and keys come from users.
#pragma once

#include <string>
#include <string_view>

namespace plexus::api_manager {

inline std::string pointer_token(std::string_view key) {
  std::string out;
  out.reserve(key.size());
  for (const char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace plexus::api_manager
