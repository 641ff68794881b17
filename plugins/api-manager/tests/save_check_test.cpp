// The logic behind the api kind's save hook (save_check.hpp): which statements an API's
// content holds and where (the pointers the save and the promotion name), and what marks
// a system API. The hook itself runs through plexusd: tests/integration/api_manager_save_test.cpp.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "save_check.hpp"
#include "sql_check.hpp"

using nlohmann::json;
using plexus::api_manager::is_system_api;
using plexus::api_manager::sql_statements;

namespace {

json sql_step(const std::string& id, const std::string& datasource, const std::string& sql) {
  return {{"id", id}, {"type", "sql"}, {"datasource", datasource}, {"sql", sql}};
}

}  // namespace

TEST_CASE("a SQL API holds one statement at /sql on /datasource", "[api-manager][save]") {
  const auto found = sql_statements({{"type", "sql"}, {"datasource", "ops"}, {"sql", "SELECT 1"}});
  REQUIRE(found.size() == 1);
  CHECK(found[0].sql_pointer == "/sql");
  CHECK(found[0].datasource_pointer == "/datasource");
  CHECK(found[0].datasource == "ops");
  CHECK(found[0].sql == "SELECT 1");
  CHECK(sql_statements({{"type", "script"}, {"script", "return 1"}}).empty());
}

TEST_CASE("a workflow's SQL steps are found inside if, foreach and parallel with their pointers",
          "[api-manager][save]") {
  const json content = {
      {"type", "workflow"},
      {"workflow",
       {{"steps",
         {sql_step("a", "ops", "SELECT 1"),
          {{"id", "b"}, {"type", "api"}, {"api", "other"}},
          {{"id", "c"},
           {"type", "if"},
           {"condition", true},
           {"then", {sql_step("d", "ops", "SELECT 2")}},
           {"else", {sql_step("e", "crm", "SELECT 3")}}},
          {{"id", "f"}, {"type", "foreach"}, {"items", "${steps.a.rows}"}, {"steps", {sql_step("g", "ops", "SELECT 4")}}},
          {{"id", "h"},
           {"type", "parallel"},
           {"branches", {json::array({{{"id", "i"}, {"type", "api"}, {"api", "x"}}}), {sql_step("j", "ops", "SELECT 5")}}}}}}}}};
  std::vector<std::string> pointers, datasources;
  for (const auto& statement : sql_statements(content)) {
    pointers.push_back(statement.sql_pointer);
    datasources.push_back(statement.datasource_pointer);
  }
  CHECK(pointers == std::vector<std::string>{"/workflow/steps/0/sql", "/workflow/steps/2/then/0/sql",
                                             "/workflow/steps/2/else/0/sql", "/workflow/steps/3/steps/0/sql",
                                             "/workflow/steps/4/branches/1/0/sql"});
  CHECK(datasources[2] == "/workflow/steps/2/else/0/datasource");
  CHECK(sql_statements(content)[2].datasource == "crm");
}

TEST_CASE("only system: true marks a system API", "[api-manager][save]") {
  CHECK(is_system_api({{"system", true}}));
  CHECK_FALSE(is_system_api({{"system", false}}));
  CHECK_FALSE(is_system_api(json::object()));
  CHECK_FALSE(is_system_api(nullptr));  // a new resource has no previous content
}
