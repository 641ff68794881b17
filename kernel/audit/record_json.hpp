// An audit record as JSON: the form of export files and of the REST API, under
// the field names the hash is taken over (chain.hpp) plus "hash".
#pragma once

#include <nlohmann/json.hpp>

#include "kernel/audit/chain.hpp"

namespace plexus::audit {

nlohmann::json record_to_json(const AuditRecord& record);
// Throws nlohmann::json::exception when a field is missing or of the wrong type.
AuditRecord record_from_json(const nlohmann::json& json);

}  // namespace plexus::audit
