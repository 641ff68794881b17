// Making event data hashable: canonical JSON (canonical_json.hpp) refuses
// malformed UTF-8 and non-finite numbers, but an audit event must never be lost
// because a client sent bad bytes, so they are replaced before hashing.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace plexus::audit {

// `text` with every byte that is not part of well-formed UTF-8 replaced by U+FFFD.
std::string hashable_text(std::string text);
// `value` with strings and keys made hashable_text, NaN and infinities (and binary
// values) replaced by null.
nlohmann::json hashable_json(const nlohmann::json& value);

}  // namespace plexus::audit
