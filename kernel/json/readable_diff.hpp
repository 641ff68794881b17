// A JSON Patch told for people and UIs, relative to the document it applies to: one
// entry per change, paths as RFC 6901 pointers.
#pragma once

#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

namespace plexus::jsonpatch {

// The changes `patch` makes to `from`, in order, as an array of
//   {"path":"/timeout","change":"changed","from":30,"to":60}
//   {"path":"/tags/2","change":"added","value":"prod"}
//   {"path":"/old","change":"removed","value":...}
//   {"path":"/new","change":"moved","from_path":"/old","value":...}
//   {"path":"/copy","change":"copied","from_path":"/orig","value":...}
// An "add" naming "-" gets the index it appended at; an "add" over an existing object
// member is "changed"; "test" changes nothing and is left out. Throws JsonPatchError
// when `patch` does not apply to `from`.
nlohmann::json readable_diff(const nlohmann::json& from, const nlohmann::json& patch);

// readable_diff's entries as text, one line each:
//   ~ /timeout: 30 -> 60        + /tags/2: "prod"        - /old: {"a":1,...
//   > /new: moved from /old     + /copy: copied from /orig
// Values longer than `max_value_length` bytes are cut at a UTF-8 boundary and end in
// "..."; the document itself reads "(root)".
std::string readable_diff_text(const nlohmann::json& changes, std::size_t max_value_length = 60);

}  // namespace plexus::jsonpatch
