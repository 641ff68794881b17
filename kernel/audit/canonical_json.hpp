// Canonical JSON after RFC 8785 (JCS): the one byte sequence a hash is taken
// over, so that the same value always hashes the same after any round trip
// through a database or an export file.
//
// Implemented as JCS specifies: no whitespace; object members sorted by the
// UTF-16 code units of their keys; strings escaped minimally (\b \t \n \f \r
// \" \\ and \u00xx for the other control characters, everything else verbatim
// UTF-8); doubles in ECMAScript Number::toString form (shortest round trip).
//
// Deviation from JCS, deliberately: JCS treats every number as an IEEE double,
// so an integer beyond 2^53 would lose digits there; integers held as integers
// by nlohmann::json are written exactly, as their decimal digits. For integers
// up to 2^53 both forms are the same.
//
// Rejected with std::invalid_argument: NaN and infinities (JSON cannot express
// them), strings or keys that are not well-formed UTF-8, and binary values.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace plexus::audit {

std::string canonical_json(const nlohmann::json& value);

}  // namespace plexus::audit
