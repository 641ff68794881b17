// The difference between two revisions' content: an RFC 6902 patch that turns the
// older into the newer, and the same change as sentences a person can read.
// The one place that chooses the diff implementation.
#pragma once

#include <nlohmann/json.hpp>

namespace plexus::resources {

struct ContentDiff {
  nlohmann::json patch;     // [{"op","path","value"?}]
  nlohmann::json readable;  // [{"path","change","from","to"|"value"}], see kernel/json/readable_diff.hpp
};

ContentDiff diff_content(const nlohmann::json& from, const nlohmann::json& to);

}  // namespace plexus::resources
