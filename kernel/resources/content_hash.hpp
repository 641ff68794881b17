// The hash every revision records: SHA-256 (hex) over the content's canonical JSON
// (RFC 8785), so equal content hashes equally whatever its key order or spacing.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace plexus::resources {

std::string content_hash(const nlohmann::json& content);

}  // namespace plexus::resources
