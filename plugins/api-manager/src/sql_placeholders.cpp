#include "sql_placeholders.hpp"

#include "connectors/common/sql_text.hpp"

namespace plexus::api_manager {

// The connectors' reading, so a name this plugin binds is the name the driver sees.
std::vector<std::string> sql_placeholders(std::string_view sql) { return connectors::to_positional(sql).names; }

}  // namespace plexus::api_manager
