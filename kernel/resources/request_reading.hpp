// Reading the resource API's request bodies, query parameters and If-Match. Every
// mistake is a 400 whose details name the field, parameter or header at fault.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "kernel/http/message.hpp"
#include "kernel/http/request_fields.hpp"

namespace plexus::resources {

using http::limit_parameter;
using http::object_body;
using http::optional_string;
using http::required_string;

// The body as a JSON object; an empty body reads as {}.
// A revision number (integer >= 1) in the body.
std::optional<std::int64_t> optional_revision(const nlohmann::json& body, const std::string& field);
// A revision number (integer >= 1) in the query.
std::optional<std::int64_t> revision_parameter(const http::Request& request, const std::string& name);
// A revision number as a path segment (/revisions/{rev}).
std::int64_t revision_in_path(const http::Request& request, const std::string& name);
// ?limit=: 1..max, `fallback` when absent.
// ?name=true|false.
bool flag_parameter(const http::Request& request, const std::string& name);

// If-Match: "<revision>" (or *, which matches whatever is current).
struct IfMatch {
  bool present = false;
  std::optional<std::int64_t> revision;  // none for "*"
};
IfMatch if_match(const http::Request& request);
// 428 when the request has no If-Match.
std::optional<std::int64_t> required_if_match(const http::Request& request);

// The ETag of a revision: "\"3\"".
std::string etag(std::int64_t revision);

}  // namespace plexus::resources
