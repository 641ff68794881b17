#include "save_check.hpp"

#include "sql_check.hpp"

namespace plexus::api_manager {

using nlohmann::json;

bool is_system_api(const json& content) {
  return content.is_object() && content.contains("system") && content["system"] == true;
}

std::string check_api_save(sdk::Host& host, const sdk::Caller& caller, std::string_view input_json) {
  const auto input = json::parse(input_json);
  const auto tenant = input.value("tenant", std::string());
  const auto id = input.value("id", std::string());
  const auto content = input.value("content", json());  // null on delete
  const auto previous = input.value("previous", json());  // null on create and restore
  const auto operation = input.value("operation", std::string());

  // Without a caller the server itself saves (bootstrap bundles): it ships system APIs.
  if (caller.known() && (is_system_api(content) || is_system_api(previous)) &&
      !host.allowed(caller, kSystemWrite, id)) {
    std::string what = "saving an API with \"system\": true";
    if (operation == "delete") what = "api '" + id + "' is a system API: deleting it";
    else if (operation == "restore") what = "api '" + id + "' is a system API: restoring it";
    else if (is_system_api(previous)) what = "api '" + id + "' is a system API: changing it";
    throw sdk::Error(PLEXUS_ERR_DENIED, what + " needs the permission " + std::string(kSystemWrite));
  }

  // A delete saves no SQL; a restore brings back what was live before the delete, as it
  // was: neither compiles anything (the promotion gate still checks before production).
  if (operation == "delete" || operation == "restore") return "[]";

  json problems = json::array();
  const bool import = operation == "import";
  for (const auto& statement : sql_statements(content)) {
    const auto checked = check_sql(host, tenant, statement.datasource, statement.sql);
    switch (checked.fault) {
      case SqlCheck::Fault::none: break;
      case SqlCheck::Fault::no_datasource:
        // The bundle being imported may create it; promotion checks it again.
        if (!import) problems.push_back({{"pointer", statement.datasource_pointer}, {"message", checked.message}});
        break;
      case SqlCheck::Fault::does_not_compile:
        problems.push_back({{"pointer", statement.sql_pointer}, {"message", checked.message}});
        break;
    }
  }
  return problems.dump();
}

}  // namespace plexus::api_manager
