// "Did you mean ...?" for misspelt keys and variables.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace plexus::config {

// The candidate a typo most likely meant: a near spelling ("http.prot" -> "http.port"),
// else one with the same last segment in another section ("port" -> "http.port").
std::optional<std::string> closest_match(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace plexus::config
