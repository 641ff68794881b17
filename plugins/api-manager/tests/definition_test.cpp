// API definitions (content of kind "api"): what validate_content refuses, and how,
// and the SQL placeholders and path templates it reads.
#include "definition.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "path_template.hpp"
#include "sql_placeholders.hpp"

using nlohmann::json;
using namespace plexus::api_manager;

namespace {

json good() {
  return {
      {"path", "ops/servers/{id}"},
      {"method", "GET"},
      {"type", "sql"},
      {"datasource", "ops"},
      {"sql", "SELECT id, name FROM servers WHERE id = :id"},
      {"params", {{"type", "object"}, {"properties", {{"id", {{"type", "integer"}}}}}, {"required", {"id"}}}},
      {"tags", {"servers"}},
      {"description", "One server"},
      {"examples", json::array({{{"name", "first"}, {"params", {{"id", 1}}}}})}};
}

// "pointer: message" of each problem, for readable assertions.
std::vector<std::string> problems(const json& content) {
  std::vector<std::string> out;
  for (const auto& p : validate_content(content)) {
    out.push_back(p["pointer"].get<std::string>() + ": " + p["message"].get<std::string>());
  }
  return out;
}

bool has_problem(const json& content, const std::string& pointer, const std::string& part) {
  for (const auto& p : validate_content(content)) {
    if (p["pointer"] == pointer && p["message"].get<std::string>().find(part) != std::string::npos)
      return true;
  }
  return false;
}

}  // namespace

TEST_CASE("a complete SQL API definition is valid and parses into its fields", "[api-manager][definition]") {
  CHECK(problems(good()).empty());
  auto content = good();
  content["path"] = "/ops/servers/{id}";
  content["public"] = true;
  const auto def = parse_definition("server", 3, content);
  CHECK(def.id == "server");
  CHECK(def.revision == 3);
  CHECK(def.path == "ops/servers/{id}");  // the leading slash is dropped
  CHECK(def.method == "GET");
  CHECK(def.datasource == "ops");
  CHECK(def.tags == std::vector<std::string>{"servers"});
  CHECK(def.is_public);
  CHECK_FALSE(def.is_system);
  CHECK(def.response.is_null());
}

TEST_CASE("required fields, types and unknown fields are named by pointer", "[api-manager][definition]") {
  CHECK(has_problem(json::array(), "", "must be an object"));
  CHECK(has_problem(json::object(), "/path", "is required"));
  CHECK(has_problem(json::object(), "/method", "is required"));
  CHECK(has_problem(json::object(), "/type", "is required"));
  auto content = good();
  content.erase("sql");
  content.erase("datasource");
  CHECK(has_problem(content, "/sql", "is required"));
  CHECK(has_problem(content, "/datasource", "is required"));
  content = good();
  content["colour"] = "red";
  content["public"] = "yes";
  content["tags"] = {"a", 1};
  CHECK(has_problem(content, "/colour", "not a field"));
  CHECK(has_problem(content, "/public", "true or false"));
  CHECK(has_problem(content, "/tags/1", "string"));
  CHECK_THROWS_AS(parse_definition("x", 1, content), std::invalid_argument);
}

TEST_CASE("method and type: each type needs its own fields", "[api-manager][definition]") {
  auto content = good();
  content["method"] = "get";
  CHECK(has_problem(content, "/method", "GET, POST, PUT, PATCH, DELETE"));
  content = good();
  content["type"] = "workflow";
  CHECK(has_problem(content, "/workflow", ""));
  content["type"] = "script";
  CHECK(has_problem(content, "/script", ""));
  content = good();
  content["script"] = "return 1";
  CHECK(has_problem(content, "/script", "belongs to APIs of type 'script'"));
  content["type"] = "graphql";
  CHECK(has_problem(content, "/type", "must be 'sql', 'workflow' or 'script'"));
}

TEST_CASE("path templates: segments, {name} parameters and their declaration", "[api-manager][definition]") {
  for (const auto* bad : {"", "/", "ops//servers", "ops/servers/", "ops/../x", "ops/{id", "ops/x{id}",
                          "ops/{1id}", "ops/{id}/{id}", "ops/ser vers", "ops/{}"}) {
    INFO(bad);
    auto content = good();
    content["path"] = bad;
    CHECK(has_problem(content, "/path", ""));
  }
  auto content = good();
  content["path"] = "ops/{region}/servers/{id}";
  CHECK(has_problem(content, "/path", "{region} is not declared in params.properties"));
  content = good();
  content["path"] = "openapi.json";
  content["params"] = {{"type", "object"}, {"properties", {{"id", {{"type", "integer"}}}}}};
  CHECK(has_problem(content, "/path", "reserved"));
}

TEST_CASE("params must be an object schema declaring every SQL placeholder", "[api-manager][definition]") {
  auto content = good();
  content["params"] = "id";
  CHECK(has_problem(content, "/params", "JSON Schema object"));
  content["params"] = {{"type", "array"}};
  CHECK(has_problem(content, "/params/type", "must be \"object\""));
  content["params"] = {{"type", "object"}, {"properties", {{"id", {{"type", "integer"}}}}}};
  content["sql"] = "SELECT * FROM servers WHERE id = :id AND role = :role AND zone = :zone";
  const auto found = problems(content);
  CHECK(std::count(found.begin(), found.end(),
                   "/sql: the placeholder :role is not declared in params.properties") == 1);
  CHECK(std::count(found.begin(), found.end(),
                   "/sql: the placeholder :zone is not declared in params.properties") == 1);
  content["sql"] = "   ";
  CHECK(has_problem(content, "/sql", "must not be empty"));
  content["sql"] = "SELECT 1";
  content["params"] = {{"type", "object"}, {"properties", {{"id", {{"type", "nonsense-type"}}}}}};
  CHECK(has_problem(content, "/params", ""));
}

TEST_CASE("SQL placeholders skip strings, comments, casts and dollar quotes", "[api-manager][definition]") {
  CHECK(sql_placeholders("SELECT * FROM t WHERE a = :a AND b = :b OR a = :a") ==
        std::vector<std::string>{"a", "b"});
  CHECK(sql_placeholders("SELECT ':no', \":nope\", x::int, $$ :dollar $$ -- :comment\n /* :block */ FROM t "
                         "WHERE c = :c_1") == std::vector<std::string>{"c_1"});
  CHECK(sql_placeholders("SELECT 1").empty());
  CHECK(sql_placeholders("SELECT E'\\' :still_string' , :real") == std::vector<std::string>{"real"});
}

TEST_CASE("path matching and the most specific template", "[api-manager][routes]") {
  const auto tmpl = parse_path_template("ops/servers/{id}");
  REQUIRE(tmpl);
  const auto params = match_path(*tmpl, "ops/servers/42");
  REQUIRE(params);
  CHECK(params->at("id") == "42");
  CHECK_FALSE(match_path(*tmpl, "ops/servers"));
  CHECK_FALSE(match_path(*tmpl, "ops/servers/42/x"));
  CHECK_FALSE(match_path(*tmpl, "ops/servers/"));
  CHECK_FALSE(match_path(*tmpl, "ops/hosts/42"));
  const auto literal = parse_path_template("ops/servers/count");
  REQUIRE(literal);
  CHECK(more_specific(*literal, *tmpl));
  CHECK_FALSE(more_specific(*tmpl, *literal));
}

TEST_CASE("run options: timeout, retry, cache, slow threshold and compatibility", "[api-manager][definition]") {
  auto content = good();
  content["timeout_ms"] = 5000;
  content["retry"] = {{"attempts", 3}, {"backoff_ms", 50}};
  content["cache"] = {{"ttl_s", 60}};
  content["slow_ms"] = 250.5;
  content["compatibility"] = {{"accept_breaking", 4}, {"migration_note", "role is now required"}};
  CHECK(validate_content(content).empty());
  const auto def = parse_definition("servers", 5, content);
  CHECK(def.timeout_ms == 5000);
  CHECK(def.retry_attempts == 3);
  CHECK(def.retry_backoff_ms == 50);
  CHECK(def.cache_ttl_s == 60);
  CHECK(def.slow_ms == 250.5);
  CHECK(def.compatibility["accept_breaking"] == 4);
  const auto defaults = parse_definition("servers", 1, good());
  CHECK(defaults.timeout_ms == 30000);
  CHECK(defaults.retry_attempts == 1);
  CHECK(defaults.cache_ttl_s == 0);

  content = good();
  content["timeout_ms"] = 0;
  CHECK(has_problem(content, "/timeout_ms", "from 1 to 600000"));
  content = good();
  content["retry"] = {{"attempts", 11}, {"every", 1}};
  CHECK(has_problem(content, "/retry/attempts", "from 1 to 10"));
  CHECK(has_problem(content, "/retry/every", "not a retry option"));
  content = good();
  content["cache"] = {{"ttl_s", -1}};
  CHECK(has_problem(content, "/cache/ttl_s", "whole number"));
  content["cache"] = 60;
  CHECK(has_problem(content, "/cache", "ttl_s"));
  content = good();
  content["slow_ms"] = "fast";
  CHECK(has_problem(content, "/slow_ms", "0 or more"));
  content = good();
  content["compatibility"] = {{"accept_breaking", 3}};
  CHECK(has_problem(content, "/compatibility/migration_note", "required with accept_breaking"));
}

TEST_CASE("references: the datasource an API uses", "[api-manager][definition]") {
  CHECK(api_references(good()) == json::parse(R"([{"kind":"datasource","id":"ops"}])"));
  CHECK(api_references(json::object()) == json::array());
  CHECK(api_references("not an object") == json::array());
}
