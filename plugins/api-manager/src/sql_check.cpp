#include "sql_check.hpp"

#include "sql_placeholders.hpp"

namespace plexus::api_manager {
namespace {

using nlohmann::json;

void collect(const json& steps, const std::string& pointer, std::vector<SqlStatement>& out) {
  if (!steps.is_array()) return;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const auto& step = steps[i];
    if (!step.is_object()) continue;
    const auto at = pointer + "/" + std::to_string(i);
    if (step.value("type", json()) == "sql" && step.contains("datasource") && step["datasource"].is_string() &&
        step.contains("sql") && step["sql"].is_string()) {
      out.push_back({at + "/sql", at + "/datasource", step["datasource"].get<std::string>(),
                     step["sql"].get<std::string>()});
    }
    for (const char* block : {"then", "else", "steps"}) {
      if (step.contains(block)) collect(step[block], at + "/" + block, out);
    }
    if (const auto branches = step.find("branches"); branches != step.end() && branches->is_array()) {
      for (std::size_t b = 0; b < branches->size(); ++b) {
        collect((*branches)[b], at + "/branches/" + std::to_string(b), out);
      }
    }
  }
}

}  // namespace

std::vector<SqlStatement> sql_statements(const json& content) {
  std::vector<SqlStatement> out;
  if (!content.is_object()) return out;
  const auto type = content.value("type", json());
  if (type == "sql" && content.contains("datasource") && content["datasource"].is_string() &&
      content.contains("sql") && content["sql"].is_string()) {
    out.push_back({"/sql", "/datasource", content["datasource"].get<std::string>(), content["sql"].get<std::string>()});
  } else if (type == "workflow" && content.contains("workflow") && content["workflow"].is_object()) {
    const auto& workflow = content["workflow"];
    if (workflow.contains("steps")) collect(workflow["steps"], "/workflow/steps", out);
  }
  return out;
}

SqlCheck check_sql(sdk::Host& host, const std::string& tenant, const std::string& datasource, const std::string& sql) {
  json nulls = json::object();
  for (const auto& name : sql_placeholders(sql)) nulls[name] = nullptr;
  try {
    host.datasource_query(tenant, datasource, "EXPLAIN " + sql, nulls.dump(), 1, 10000);
    return {};
  } catch (const sdk::Error& e) {
    const std::string reason = e.what();
    if (e.status() == PLEXUS_ERR_NOT_FOUND) {
      return {SqlCheck::Fault::no_datasource, "the datasource '" + datasource + "' does not exist in this tenant"};
    }
    if (e.status() != PLEXUS_ERR_INVALID) return {};
    // PostgreSQL cannot always type a parameter that is only ever null (":x IS NULL"):
    // the statement is fine, the check simply cannot tell.
    if (reason.find("could not determine data type of parameter") != std::string::npos) return {};
    return {SqlCheck::Fault::does_not_compile,
            "the SQL does not compile on the datasource '" + datasource + "': " + reason};
  }
}

}  // namespace plexus::api_manager
