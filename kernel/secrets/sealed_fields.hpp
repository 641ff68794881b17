// Secret fields inside a JSON document (a data source's options): sealed before the
// document is stored, opened only where a driver needs them, and never shown: the
// API returns a placeholder instead, and a placeholder sent back keeps the stored
// value, so a client can save a document it was never allowed to read in full.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernel/secrets/secret_box.hpp"

namespace plexus::secrets {

// {"$secret": "set"}: what a secret field looks like outside the store.
const nlohmann::json& placeholder();

// Replaces every plain value under a key named in `names` (at any depth) with
// {"$sealed": "v1:..."}. Values already sealed stay; a placeholder takes the sealed
// value at the same place in `previous` (or fails with std::invalid_argument naming
// the pointer when there is none). Each value is bound to `context` (e.g.
// "datasource/<tenant>/<id>") and its JSON pointer.
void seal_fields(nlohmann::json& document, const SecretBox& box, const std::vector<std::string>& names,
                 std::string_view context, const nlohmann::json& previous = nullptr);

// Every {"$sealed"} back to its plain value. Throws SealError when one does not open.
void open_fields(nlohmann::json& document, const SecretBox& box, std::string_view context);

// Every {"$sealed"} replaced by placeholder(): the form the API returns.
void redact_fields(nlohmann::json& document);

}  // namespace plexus::secrets
