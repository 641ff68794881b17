// The ":name" placeholders of an API's SQL, read by the connectors' own scanner:
// strings, quoted identifiers, comments, dollar quoting, "::" casts and ":=" are skipped.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace plexus::api_manager {

// Each name once, in order of first appearance. A name is [A-Za-z_][A-Za-z0-9_]*.
std::vector<std::string> sql_placeholders(std::string_view sql);

}  // namespace plexus::api_manager
