// Equality of JSON values without the number pitfalls of nlohmann::json's operator==,
// which casts unsigned to signed (18446744073709551615 == -1) and integers to double
// (9007199254740993 == 9007199254740992.0).
#pragma once

#include <nlohmann/json.hpp>

namespace plexus::jsonpatch {

// RFC 6902 section 4.6, as the "test" operation needs it: numbers are equal when their
// values are (1 equals 1.0), strings byte for byte, objects regardless of member order.
bool equal_json(const nlohmann::json& a, const nlohmann::json& b);

// Equal and written the same: what a revision diff must preserve, so 1 and 1.0 differ
// and so do 0.0 and -0.0. Integers compare by value however nlohmann stores them.
bool identical_json(const nlohmann::json& a, const nlohmann::json& b);

}  // namespace plexus::jsonpatch
