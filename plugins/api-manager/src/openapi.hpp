// The OpenAPI 3.1 document of the runtime APIs (issue 7 item 8, API-7), served at
// GET /runtime/openapi.json: one operation per API definition, generated from its path,
// parameter schema, response schema, examples, tags and description. It passes three
// independent validators (tests/js/validate_openapi.mjs, tests/openapi_test.cpp).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "definition.hpp"

namespace plexus::api_manager {

struct RuntimeOpenApiOptions {
  std::string title = "Plexus runtime APIs";
  std::string version = "1.0.0";  // info.version: the document's, not an API's
  std::string description =
      "User-defined APIs of this tenant, served under /runtime/. Each operation runs the production revision "
      "of "
      "its API definition.";
  std::string base_path = "/runtime";  // prefixed to each definition's path
  std::string server_url;              // servers: [{"url"}] when set (e.g. "https://ops.example.com")
  // A request header that selects the staging revision for editors ("" when there is
  // none); documented as an optional header parameter of every non-public operation.
  std::string stage_header;
};

// The document for `apis` (in any order; the output is sorted and stable). Definitions
// whose method or path cannot be an operation, or that repeat a method and path another
// definition (the one with the smaller id) has, are left out and listed under
// "x-plexus-skipped": [{"id", "reason"}].
//
// - Path parameters: the "{name}" segments, schema from params.properties[name].
// - GET and DELETE: the other properties of `params` are query parameters (objects and
//   arrays as JSON text: content application/json); POST, PUT and PATCH: a JSON body.
// - 200: `response` when the definition has one, else the rows envelope
//   {"rows": [object], "truncated": boolean} (components/schemas/Rows).
// - Examples from `examples` ([{"name", "params", "response"?}]) on parameters, bodies
//   and responses. "$defs" of the schemas move to components/schemas and their "$ref"s
//   follow; other local or remote "$ref"s cannot be resolved in this document and are
//   replaced by an unconstrained schema naming them.
// - operationId: the API id when it is an identifier ([A-Za-z0-9_]), else the id with
//   other characters as "_" and a hash of the id appended: unique and stable.
// - Security as the kernel's /api/v1/openapi.json names it ("bearer", "apiKey"); public
//   APIs have `security: []`.
nlohmann::json runtime_openapi(const std::vector<ApiDefinition>& apis,
                               const RuntimeOpenApiOptions& options = {});

// The operationId of an API id (see above).
std::string operation_id(const std::string& api_id);

}  // namespace plexus::api_manager
