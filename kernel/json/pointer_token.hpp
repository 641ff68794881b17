// RFC 6901: one reference token of a JSON pointer, escaped ("~" -> "~0", "/" -> "~1"),
// for error messages that name the field at fault.
#pragma once

#include <string>
#include <string_view>

namespace plexus::json {

inline std::string pointer_token(std::string_view token) {
  std::string out;
  for (const char c : token) {
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

}  // namespace plexus::json
