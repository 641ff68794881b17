// SQL checked against its datasource (issue 7 item 5, API-3): on save (save_check.hpp) and
// before an API revision can serve (promotion_gate.hpp). The statement is compiled by the
// database itself with EXPLAIN and every placeholder bound to null, so a missing table or
// column, or a syntax error, is found before callers meet it. Nothing is run.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <plexus/plugin.hpp>

namespace plexus::api_manager {

// One statement of an API and where it sits in the content: the API's own ("/sql",
// "/datasource") or a workflow step's ("/workflow/steps/2/sql", ".../datasource").
struct SqlStatement {
  std::string sql_pointer;
  std::string datasource_pointer;
  std::string datasource;
  std::string sql;
};

// The statements of validated content: a sql API's own, every sql step of a workflow
// (inside if, foreach and parallel too). Steps missing either field are left out.
std::vector<SqlStatement> sql_statements(const nlohmann::json& content);

struct SqlCheck {
  enum class Fault { none, no_datasource, does_not_compile };
  Fault fault = Fault::none;
  std::string message;  // the problem, for the user; empty when there is none
};

// Compiles `sql` on the tenant's datasource. `none` when it compiles, and when the
// datasource cannot be asked now (driver not loaded, unreachable, timed out): the check
// never blocks on the database being away.
SqlCheck check_sql(sdk::Host& host, const std::string& tenant, const std::string& datasource, const std::string& sql);

}  // namespace plexus::api_manager
