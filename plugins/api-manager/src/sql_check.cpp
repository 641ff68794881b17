#include "sql_check.hpp"

#include <nlohmann/json.hpp>

namespace plexus::api_manager {

std::optional<std::string> sql_compile_problem(sdk::Host& host, const std::string& tenant,
                                               const std::string& datasource, const std::string& sql,
                                               const std::vector<std::string>& placeholders) {
  nlohmann::json nulls = nlohmann::json::object();
  for (const auto& name : placeholders) nulls[name] = nullptr;
  try {
    host.datasource_query(tenant, datasource, "EXPLAIN " + sql, nulls.dump(), 1, 10000);
    return std::nullopt;
  } catch (const sdk::Error& e) {
    const std::string reason = e.what();
    if (e.status() == PLEXUS_ERR_NOT_FOUND) {
      return "the datasource '" + datasource + "' does not exist in this tenant";
    }
    if (e.status() != PLEXUS_ERR_INVALID) return std::nullopt;
    // PostgreSQL cannot always type a parameter that is only ever null (":x IS NULL"):
    // the statement is fine, the check simply cannot tell.
    if (reason.find("could not determine data type of parameter") != std::string::npos) return std::nullopt;
    return "the SQL does not compile on the datasource '" + datasource + "': " + reason;
  }
}

}  // namespace plexus::api_manager
