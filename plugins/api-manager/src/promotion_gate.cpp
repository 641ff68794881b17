#include "promotion_gate.hpp"

#include <exception>
#include <optional>

#include "api_tests.hpp"
#include "compatibility.hpp"
#include "sql_check.hpp"

namespace plexus::api_manager {

using nlohmann::json;

std::vector<std::string> compatibility_problems(std::int64_t production_revision,
                                                const json& production_content, const json& content) {
  const auto changes = breaking_changes(production_content, content);
  if (changes.empty()) return {};
  const auto production = std::to_string(production_revision);
  std::vector<std::string> problems;
  const auto accepted =
      content.is_object() && content.contains("compatibility") && content["compatibility"].is_object()
          ? content["compatibility"].value("accept_breaking", json())
          : json();
  if (accepted == production_revision) return {};
  // An override for another revision would otherwise linger and accept changes nobody looked at.
  if (!accepted.is_null()) {
    problems.push_back("compatibility.accept_breaking names revision " + accepted.dump() +
                       ", but production serves revision " + production +
                       ": the override counts only for the production revision it names");
  }
  for (const auto& change : changes) {
    problems.push_back("breaking change against production revision " + production + ": " + change.message +
                       " (" + change.pointer +
                       "); to promote it anyway, save \"compatibility\": "
                       "{\"accept_breaking\": " +
                       production + ", \"migration_note\": \"what callers must change\"}");
  }
  return problems;
}

std::vector<std::string> test_problems(const json& report) {
  std::vector<std::string> problems;
  const auto suite = report.value("suite", std::string());
  if (const auto invalid = report.find("problems"); invalid != report.end() && !invalid->empty()) {
    const auto& first = invalid->front();
    problems.push_back("test '" + suite + "' cannot run: " + first.value("pointer", std::string()) + " " +
                       first.value("message", std::string()));
    return problems;
  }
  for (const auto& test_case : report.value("cases", json::array())) {
    if (test_case.value("passed", false)) continue;
    std::string reasons;
    for (const auto& failure : test_case.value("failures", json::array())) {
      reasons += (reasons.empty() ? "" : "; ") + failure.value("message", std::string());
    }
    problems.push_back("test '" + suite + "' case '" + test_case.value("name", std::string()) +
                       "' failed: " + reasons);
  }
  return problems;
}

std::string check_promotion(sdk::Host& host, Runtime& runtime, std::string_view input_json) {
  const auto input = json::parse(input_json);
  const auto tenant = input.value("tenant", std::string());
  const auto id = input.value("id", std::string());
  const auto revision = input.value("revision", std::int64_t{0});
  const auto& content = input.at("content");
  json problems = json::array();

  // (0) On every stage: SQL the datasource cannot compile never serves, the API's own
  // or a workflow step's (named by its pointer).
  for (const auto& statement : sql_statements(content)) {
    auto checked = check_sql(host, tenant, statement.datasource, statement.sql);
    if (checked.fault == SqlCheck::Fault::none) continue;
    problems.push_back(statement.sql_pointer == "/sql" ? checked.message
                                                       : statement.sql_pointer + ": " + checked.message);
  }
  if (!problems.empty()) return problems.dump();
  if (input.value("stage", std::string()) != "production") return problems.dump();

  // (1) Compatibility with what production callers get today.
  std::optional<json> production;
  try {
    production = json::parse(host.resource_get(tenant, "api", id, "production"));
  } catch (const sdk::Error& e) {
    if (e.status() != PLEXUS_ERR_NOT_FOUND) throw;  // the kernel reports the hook's failure
  }
  bool accepted_breaking = false;
  if (production && production->value("revision", std::int64_t{0}) != revision) {
    accepted_breaking = !breaking_changes(production->at("content"), content).empty();
    for (auto& problem : compatibility_problems(production->value("revision", std::int64_t{0}),
                                                production->at("content"), content)) {
      problems.push_back(std::move(problem));
    }
  }

  // (2) The API's suites against the content being promoted; nested API calls see production.
  RouteTable table;
  try {
    table = compile_api(id, revision, content);
  } catch (const std::exception& e) {
    problems.push_back(std::string("the API cannot run: ") + e.what());
    return problems.dump();
  }
  for (const auto& suite : suites_of(host, tenant, id)) {
    const auto report = run_suite(runtime, tenant, "production", table.apis().front(), suite);
    for (auto& problem : test_problems(report)) problems.push_back(std::move(problem));
  }
  if (problems.empty() && accepted_breaking) {
    host.info("tenant " + tenant + ": API " + id + " revision " + std::to_string(revision) +
              " goes to production with accepted breaking changes: " +
              content["compatibility"].value("migration_note", std::string()));
  }
  return problems.dump();
}

}  // namespace plexus::api_manager
