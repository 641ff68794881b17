// Strict UTF-8, shared by everything that must refuse malformed text: overlong
// forms, surrogates, code points past U+10FFFF and truncated sequences are errors,
// so one character always decodes (and counts) once.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace plexus::text {

// The code points of `text`, or nothing when it is not well-formed UTF-8.
std::optional<std::u32string> decode_utf8(std::string_view text);
bool valid_utf8(std::string_view text);

}  // namespace plexus::text
