// An API definition: the content of a resource of kind "api" (issue 7, API-0), read
// into a struct once per revision. The JSON Schema of the content and the checks a
// schema cannot express live in definition.cpp; docs/api-manager.md is the user's view.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace plexus::api_manager {

struct ApiDefinition {
  std::string id;             // the resource id, unique per tenant
  std::int64_t revision = 0;  // the resource revision this was read from
  std::string path;           // "ops/servers/{id}": below /runtime/, {name} segments are parameters
  std::string method = "GET";
  std::string type = "sql";   // "sql" | "workflow" | "script"
  std::string datasource;     // type sql: the tenant's datasource name
  std::string sql;            // type sql: ":name" placeholders, bound, never spliced
  nlohmann::json params = nlohmann::json::object();  // JSON Schema (type object) of the merged parameters
  nlohmann::json response;    // optional JSON Schema of the answer; null when absent
  std::vector<std::string> tags;
  std::string description;
  nlohmann::json examples = nlohmann::json::array();  // [{"name", "params", "response"?}]
  bool is_public = false;     // "public": true lets anonymous callers run it (API-4)
  bool is_system = false;     // "system": true: only holders of api.system.write may change it

  std::string script;                                // type script: Lua 5.4 source
  nlohmann::json limits = nlohmann::json::object();  // type script: {"instructions", "memory_mb"}
  nlohmann::json workflow;                           // type workflow: {"steps": [...], "result"?}
  std::uint64_t timeout_ms = 30000;  // the whole run; steps and statements stop at it
  std::uint64_t cache_ttl_s = 0;     // answers reused this long (0: no cache, API-9)
  double slow_ms = 0;                // runs slower publish api.slow (0: never, API-5)
  int retry_attempts = 1;            // tries on transient datasource errors (API-6)
  std::uint64_t retry_backoff_ms = 100;
  nlohmann::json compatibility;      // {"accept_breaking": <production revision>, "migration_note"} (API-12)
  nlohmann::json canary;             // {"percent", ...} on a staging revision (API-11); null when absent
};

// The checks on save (resource kind validate hook): [{"pointer": "/sql", "message": ...}],
// empty when the content is fine.
nlohmann::json validate_content(const nlohmann::json& content);
// What an API uses, for the store's references (API-8): [{"kind": "datasource"|"api", "id"}]
// from its datasource and its workflow's steps. The store then refuses to delete them.
nlohmann::json api_references(const nlohmann::json& content);
// Reads validated content. Throws std::invalid_argument on content validate_content refuses.
ApiDefinition parse_definition(const std::string& id, std::int64_t revision, const nlohmann::json& content);

}  // namespace plexus::api_manager
