// The runtime APIs' OpenAPI 3.1 document (issue 7 item 8, API-7): its shape for a
// representative set of definitions, and acceptance by three independent validators
// (npm @readme/openapi-parser, @apidevtools/swagger-parser,
// @seriousme/openapi-schema-validator through tests/js/validate_openapi.mjs), which must
// also reject a document with a planted error. Needs node and tests/js/node_modules
// (tools/test runs npm ci); fails without them.
#include "openapi.hpp"

#include <algorithm>
#include <set>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/node_js.hpp"
#include "tests/support/test_support.hpp"

using namespace plexus::api_manager;
using json = nlohmann::json;

namespace {

ApiDefinition api(std::string id, std::string method, std::string path, json params) {
  ApiDefinition out;
  out.id = std::move(id);
  out.revision = 4;
  out.method = std::move(method);
  out.path = std::move(path);
  out.params = std::move(params);
  out.datasource = "ops";
  out.sql = "SELECT 1";
  return out;
}

// Path, query and body parameters; public and private; tags, examples, a response
// schema, nested schemas with $defs; ids that are and are not identifiers.
std::vector<ApiDefinition> representative() {
  std::vector<ApiDefinition> apis;

  auto server = api("server-by-id", "GET", "ops/servers/{id}",
                    {{"type", "object"},
                     {"required", {"id"}},
                     {"properties",
                      {{"id", {{"type", "integer"}, {"minimum", 1}, {"description", "The server's id"}}},
                       {"fields", {{"type", "array"}, {"items", {{"type", "string"}}}}}}}});
  server.description = "One server by id.\nAnswers its row, or no rows when there is none.";
  server.tags = {"ops", "servers"};
  server.examples =
      json::array({{{"name", "db server"},
                    {"params", {{"id", 7}}},
                    {"response", {{"rows", {{{"id", 7}, {"name", "db-01"}}}}, {"truncated", false}}}}});
  server.response = {
      {"type", "object"},
      {"required", {"rows"}},
      {"properties",
       {{"rows", {{"type", "array"}, {"items", {{"$ref", "#/$defs/server"}}}}},
        {"truncated", {{"type", "boolean"}}}}},
      {"$defs",
       {{"server",
         {{"type", "object"},
          {"properties",
           {{"id", {{"type", "integer"}}},
            {"name", {{"type", "string"}}},
            {"location", {{"$ref", "#/$defs/location"}}}}}}},
        {"location", {{"type", "object"}, {"properties", {{"rack", {{"type", "string"}}}}}}}}}};
  apis.push_back(server);

  auto search = api("search_servers", "GET", "ops/servers",
                    {{"type", "object"},
                     {"properties",
                      {{"q", {{"type", "string"}, {"maxLength", 100}}},
                       {"limit", {{"type", "integer"}, {"default", 20}, {"maximum", 100}}},
                       {"status", {{"type", "string"}, {"enum", json::array({"up", "down"})}}},
                       {"tags", {{"type", "array"}, {"items", {{"type", "string"}}}}}}}});
  search.is_public = true;
  search.tags = {"ops"};
  search.description = "Servers matching a text";
  search.examples = json::array({{{"name", "down ones"}, {"params", {{"status", "down"}}}},
                                 {{"name", "down ones"}, {"params", {{"q", "db"}, {"limit", 5}}}}});
  apis.push_back(search);

  auto create = api("create.ticket", "POST", "ops/servers/{id}/tickets",
                    {{"type", "object"},
                     {"required", {"id", "title", "contact"}},
                     {"additionalProperties", false},
                     {"properties",
                      {{"id", {{"type", "integer"}}},
                       {"title", {{"type", "string"}, {"minLength", 3}}},
                       {"priority", {{"type", "integer"}, {"minimum", 1}, {"maximum", 5}}},
                       {"contact", {{"$ref", "#/$defs/contact"}}},
                       {"labels", {{"type", "object"}, {"additionalProperties", {{"type", "string"}}}}}}},
                     {"$defs",
                      {{"contact",
                        {{"type", "object"},
                         {"required", {"email"}},
                         {"properties",
                          {{"email", {{"type", "string"}, {"format", "email"}}},
                           {"phone", {{"type", json::array({"string", "null"})}}},
                           {"default", {{"$ref", "#/$defs/contact"}}}}}}}}}});
  create.type = "workflow";
  create.tags = {"tickets"};
  create.examples = json::array(
      {{{"name", "disk full"},
        {"params", {{"id", 7}, {"title", "Disk full"}, {"contact", {{"email", "ops@example.com"}}}}},
        {"response", {{"rows", json::array()}, {"truncated", false}}}}});
  apis.push_back(create);

  apis.push_back(api("update ticket", "PUT", "ops/tickets/{ticket}",
                     {{"type", "object"},
                      {"properties", {{"ticket", {{"type", "string"}}}, {"state", {{"type", "string"}}}}}}));
  apis.push_back(api("delete-ticket", "DELETE", "ops/tickets/{ticket}",
                     {{"type", "object"},
                      {"properties", {{"ticket", {{"type", "string"}}}, {"force", {{"type", "boolean"}}}}}}));
  apis.push_back(api("ping", "GET", "ping", json::object()));  // no parameters at all
  apis.push_back(api("ext-ref", "PATCH", "ops/racks/{rack}",
                     {{"type", "object"},
                      {"$schema", "https://json-schema.org/draft/2020-12/schema"},
                      {"properties",
                       {{"rack", {{"type", "string"}}},
                        {"spec", {{"$ref", "https://example.com/schemas/rack.json"}}},
                        {"self", {{"$ref", "#/properties/rack"}}}}}}));
  // Left out: the same route as server-by-id under another parameter name, and a method
  // the runtime does not serve.
  apis.push_back(api("zz-duplicate", "GET", "ops/servers/{server}", json::object()));
  apis.push_back(api("zz-options", "OPTIONS", "ops/anything", json::object()));
  return apis;
}

struct Verdicts {
  int exit_code = -1;
  json report;  // {"<validator>": {"valid", "errors"?}}
  std::string err;
};

Verdicts validate(const json& document) {
  plexus::test::TempDir dir;
  const auto file = dir.write("openapi.json", document.dump(2));
  const auto result =
      plexus::test::run_command({plexus::test::node_binary("@seriousme/openapi-schema-validator"),
                                 (plexus::test::js_dir() / "validate_openapi.mjs").string(), file.string()});
  Verdicts out{result.exit_code, json::parse(result.out, nullptr, false), result.err};
  return out;
}

const json& operation(const json& document, const std::string& path, const std::string& method) {
  return document.at("paths").at(path).at(method);
}

const json* find_parameter(const json& op, const std::string& name) {
  if (!op.contains("parameters")) return nullptr;
  for (const auto& parameter : op["parameters"]) {
    if (parameter.at("name") == name) return &parameter;
  }
  return nullptr;
}

const std::vector<std::string> kValidators{"@readme/openapi-parser", "@apidevtools/swagger-parser",
                                           "@seriousme/openapi-schema-validator"};

}  // namespace

TEST_CASE("the document has one operation per API, with its parameters, body, responses and security") {
  const auto document = runtime_openapi(representative());
  CHECK(document.at("openapi") == "3.1.0");

  // Path parameters from the template, with their schema and examples.
  const auto& get_server = operation(document, "/runtime/ops/servers/{id}", "get");
  CHECK(get_server.at("operationId") == "server_by_id_" + operation_id("server-by-id").substr(13));
  CHECK(get_server.at("summary") == "One server by id.");
  CHECK(get_server.at("description").get<std::string>().find("no rows when") != std::string::npos);
  CHECK(get_server.at("tags") == json::array({"ops", "servers"}));
  CHECK(get_server.at("x-plexus-api-id") == "server-by-id");
  CHECK(get_server.at("x-plexus-revision") == 4);
  const auto* id = find_parameter(get_server, "id");
  REQUIRE(id);
  CHECK(id->at("in") == "path");
  CHECK(id->at("required") == true);
  CHECK(id->at("schema").at("type") == "integer");
  CHECK(id->at("description") == "The server's id");
  CHECK(id->at("examples").at("db_server").at("value") == 7);
  const auto* fields = find_parameter(get_server, "fields");
  REQUIRE(fields);
  CHECK(fields->at("in") == "query");
  CHECK(fields->at("required") == false);
  CHECK_FALSE(get_server.contains("requestBody"));
  CHECK_FALSE(get_server.contains("security"));  // the document's: bearer or API key
  CHECK(get_server.at("responses").contains("401"));
  CHECK(get_server.at("responses").contains("403"));

  // The response schema with its $defs moved to components, references following.
  const auto& ok = get_server.at("responses").at("200").at("content").at("application/json");
  CHECK(ok.at("schema").at("properties").at("rows").at("items").at("$ref") ==
        "#/components/schemas/" + get_server.at("operationId").get<std::string>() + "_server");
  const auto& schemas = document.at("components").at("schemas");
  const auto server_schema = schemas.at(get_server.at("operationId").get<std::string>() + "_server");
  CHECK(server_schema.at("properties").at("location").at("$ref").get<std::string>().ends_with("_location"));
  CHECK_FALSE(ok.at("schema").contains("$defs"));
  CHECK(ok.at("examples").at("db_server").at("value").at("rows")[0].at("name") == "db-01");

  // Query parameters for GET; public: no security; no response schema: the rows envelope.
  const auto& search = operation(document, "/runtime/ops/servers", "get");
  CHECK(search.at("operationId") == "search_servers");
  CHECK(search.at("security") == json::array());
  CHECK_FALSE(search.at("responses").contains("401"));
  for (const char* name : {"q", "limit", "status", "tags"}) {
    const auto* parameter = find_parameter(search, name);
    REQUIRE(parameter);
    CHECK(parameter->at("in") == "query");
  }
  CHECK(find_parameter(search, "status")->at("examples").at("down_ones").at("value") == "down");
  CHECK(find_parameter(search, "q")->at("examples").at("down_ones_2").at("value") == "db");
  CHECK(search.at("responses").at("200").at("content").at("application/json").at("schema").at("$ref") ==
        "#/components/schemas/Rows");

  // A JSON body for POST with what is not in the path; required kept for those.
  const auto& create = operation(document, "/runtime/ops/servers/{id}/tickets", "post");
  CHECK(find_parameter(create, "id"));
  CHECK_FALSE(find_parameter(create, "title"));
  const auto& body = create.at("requestBody");
  CHECK(body.at("required") == true);
  const auto& body_schema = body.at("content").at("application/json").at("schema");
  CHECK(body_schema.at("required") == json::array({"title", "contact"}));
  CHECK_FALSE(body_schema.at("properties").contains("id"));
  CHECK(body_schema.at("additionalProperties") == false);
  CHECK(body_schema.at("properties").at("contact").at("$ref").get<std::string>().ends_with("_contact"));
  CHECK(body.at("content").at("application/json").at("examples").at("disk_full").at("value") ==
        json({{"title", "Disk full"}, {"contact", {{"email", "ops@example.com"}}}}));
  CHECK(create.at("x-plexus-type") == "workflow");

  CHECK(operation(document, "/runtime/ops/tickets/{ticket}", "put").contains("requestBody"));
  const auto& remove = operation(document, "/runtime/ops/tickets/{ticket}", "delete");
  CHECK(find_parameter(remove, "force")->at("in") == "query");
  CHECK_FALSE(operation(document, "/runtime/ping", "get").contains("parameters"));

  // References this document cannot resolve become open schemas; $schema goes.
  const auto& patch = operation(document, "/runtime/ops/racks/{rack}", "patch");
  const auto& patch_schema = patch.at("requestBody").at("content").at("application/json").at("schema");
  CHECK_FALSE(patch_schema.contains("$schema"));
  CHECK_FALSE(patch_schema.at("properties").at("spec").contains("$ref"));
  CHECK_FALSE(patch_schema.at("properties").at("self").contains("$ref"));

  // Left out, and said so.
  CHECK_FALSE(document.at("paths").contains("/runtime/ops/servers/{server}"));
  CHECK_FALSE(document.at("paths").contains("/runtime/ops/anything"));
  std::set<std::string> skipped;
  for (const auto& item : document.at("x-plexus-skipped")) skipped.insert(item.at("id").get<std::string>());
  CHECK(skipped == std::set<std::string>{"zz-duplicate", "zz-options"});

  // Tags, security schemes named as the kernel's /api/v1/openapi.json names them.
  CHECK(document.at("tags") == json({{{"name", "ops"}}, {{"name", "servers"}}, {{"name", "tickets"}}}));
  CHECK(document.at("security") == json({{{"bearer", json::array()}}, {{"apiKey", json::array()}}}));
  const auto& schemes = document.at("components").at("securitySchemes");
  CHECK(schemes.at("bearer").at("scheme") == "bearer");
  CHECK(schemes.at("apiKey").at("name") == "X-API-Key");
}

TEST_CASE("operationIds are unique and do not depend on the order of the definitions") {
  auto apis = representative();
  apis.push_back(api("a-b", "GET", "a/one", json::object()));
  apis.push_back(api("a_b", "GET", "a/two", json::object()));
  apis.push_back(api("a.b", "GET", "a/three", json::object()));
  const auto first = runtime_openapi(apis);
  std::reverse(apis.begin(), apis.end());
  CHECK(runtime_openapi(apis) == first);

  std::set<std::string> ids;
  int operations = 0;
  for (const auto& [path, item] : first.at("paths").items()) {
    for (const auto& [method, op] : item.items()) {
      ++operations;
      ids.insert(op.at("operationId").get<std::string>());
    }
  }
  CHECK(ids.size() == static_cast<std::size_t>(operations));
  CHECK(operation_id("a_b") == "a_b");
  CHECK(operation_id("a-b") != operation_id("a.b"));
  CHECK(operation_id("a-b").starts_with("a_b_"));
  CHECK(operation_id("a-b") == operation_id("a-b"));
}

TEST_CASE("options: servers, title and the staging header") {
  RuntimeOpenApiOptions options;
  options.server_url = "https://ops.example.com";
  options.title = "ACME APIs";
  options.stage_header = "X-Plexus-Stage";
  const auto document = runtime_openapi(representative(), options);
  CHECK(document.at("servers") == json({{{"url", "https://ops.example.com"}}}));
  CHECK(document.at("info").at("title") == "ACME APIs");
  CHECK(find_parameter(operation(document, "/runtime/ops/servers/{id}", "get"), "X-Plexus-Stage"));
  CHECK_FALSE(
      find_parameter(operation(document, "/runtime/ops/servers", "get"), "X-Plexus-Stage"));  // public
  CHECK(runtime_openapi({}).at("paths") == json::object());
}

TEST_CASE("three independent validators accept the document") {
  RuntimeOpenApiOptions options;
  options.server_url = "https://ops.example.com";
  options.stage_header = "X-Plexus-Stage";
  for (const auto& document : {runtime_openapi(representative(), options), runtime_openapi({})}) {
    const auto verdicts = validate(document);
    INFO(verdicts.err);
    REQUIRE(verdicts.report.is_object());
    for (const auto& name : kValidators) {
      INFO(name);
      CHECK(verdicts.report.at(name).at("valid") == true);
    }
    CHECK(verdicts.exit_code == 0);
  }
}

TEST_CASE("the validators reject a document with a planted error") {
  auto document = runtime_openapi(representative());
  // A path parameter that is not required is invalid OpenAPI.
  auto& parameters = document["paths"]["/runtime/ops/servers/{id}"]["get"]["parameters"];
  parameters[0].erase("required");
  const auto verdicts = validate(document);
  REQUIRE(verdicts.report.is_object());
  for (const auto& name : kValidators) {
    INFO(name);
    CHECK(verdicts.report.at(name).at("valid") == false);
  }
  CHECK(verdicts.exit_code == 1);

  // And a second kind: a parameter in a place OpenAPI 3 does not have.
  document = runtime_openapi(representative());
  document["paths"]["/runtime/ops/servers"]["get"]["parameters"][0]["in"] = "body";
  const auto second = validate(document);
  REQUIRE(second.report.is_object());
  for (const auto& name : kValidators) {
    INFO(name);
    CHECK(second.report.at(name).at("valid") == false);
  }
}
