// The runtime's pieces without a server: route tables, merging path, query and body
// parameters, coercion from strings, validation against the API's params schema,
// binding and error bodies (the answer's shape: rows_body_test.cpp).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "params.hpp"
#include "route_table.hpp"
#include "execute.hpp"
#include "response_cache.hpp"
#include "runtime.hpp"

using nlohmann::json;
using namespace plexus::api_manager;

namespace {

ApiDefinition api(std::string id, std::string method, std::string path, json params = json::object()) {
  ApiDefinition def;
  def.id = std::move(id);
  def.revision = 1;
  def.method = std::move(method);
  def.path = std::move(path);
  def.datasource = "ops";
  def.sql = "SELECT 1";
  def.params = std::move(params);
  return def;
}

const json kSchema = {{"type", "object"},
                      {"properties",
                       {{"id", {{"type", "integer"}}},
                        {"ratio", {{"type", "number"}}},
                        {"active", {{"type", "boolean"}}},
                        {"role", {{"type", "string"}, {"maxLength", 20}}},
                        {"zones", {{"type", "array"}, {"items", {{"type", "integer"}}}}}}},
                      {"required", {"id"}},
                      {"additionalProperties", false}};

MergedParams merge(const CallInput& input) {
  const ParamSchema compiled(kSchema);
  return merge_params(kSchema, compiled, input);
}

bool has_field(const MergedParams& merged, const std::string& field, const std::string& part) {
  for (const auto& e : merged.errors) {
    if (e.field == field && e.message.find(part) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("route table: method, 405 methods, literal before parameter, then id", "[api-manager][routes]") {
  const RouteTable table({api("b-by-id", "GET", "ops/servers/{id}"),
                          api("a-count", "GET", "ops/servers/count"),
                          api("c-update", "PUT", "ops/servers/{id}"), api("z-list", "GET", "ops/servers"),
                          api("a-dup", "GET", "ops/servers/{name}")});
  auto match = table.find("GET", "ops/servers/count");
  REQUIRE(match.api);
  CHECK(match.api->def.id == "a-count");
  match = table.find("GET", "ops/servers/7");
  REQUIRE(match.api);
  CHECK(match.api->def.id == "a-dup");  // same specificity: the lowest id
  CHECK(match.params.at("name") == "7");
  match = table.find("PUT", "ops/servers/7");
  REQUIRE(match.api);
  CHECK(match.api->def.id == "c-update");
  match = table.find("HEAD", "ops/servers");
  REQUIRE(match.api);
  CHECK(match.api->def.id == "z-list");
  match = table.find("DELETE", "ops/servers/7");
  CHECK_FALSE(match.api);
  CHECK(match.allowed == std::vector<std::string>{"GET", "PUT"});
  match = table.find("GET", "ops/nothing");
  CHECK_FALSE(match.api);
  CHECK(match.allowed.empty());
}

TEST_CASE("route table from resources leaves out what does not parse", "[api-manager][routes]") {
  const json list = json::array(
      {{{"id", "ok"},
        {"revision", 2},
        {"content",
         {{"path", "x"}, {"method", "GET"}, {"type", "sql"}, {"datasource", "d"}, {"sql", "SELECT 1"}}}},
       {{"id", "broken"}, {"revision", 1}, {"content", {{"path", "x//y"}}}}});
  std::vector<std::string> skipped;
  const auto table = RouteTable::from_resources(list, &skipped);
  REQUIRE(table.apis().size() == 1);
  CHECK(table.apis()[0].def.revision == 2);
  REQUIRE(skipped.size() == 1);
  CHECK(skipped[0].find("broken") != std::string::npos);
}

TEST_CASE("path and query strings are coerced to the schema's types", "[api-manager][params]") {
  CallInput input;
  input.path = {{"id", "42"}};
  input.query = {{"ratio", "0.5"}, {"active", "true"}, {"role", "007"}, {"zones", "1"}, {"zones", "2"}};
  const auto merged = merge(input);
  INFO(merged.values.dump());
  REQUIRE(merged.errors.empty());
  CHECK(merged.values ==
        json{{"id", 42}, {"ratio", 0.5}, {"active", true}, {"role", "007"}, {"zones", {1, 2}}});
}

TEST_CASE("invalid parameters are each named with a message", "[api-manager][params]") {
  CallInput input;
  input.path = {{"id", "42; DROP TABLE servers"}};
  input.query = {{"active", "yes"}, {"role", std::string(30, 'x')}, {"colour", "red"}};
  auto merged = merge(input);
  CHECK(has_field(merged, "id", "expected an integer"));
  CHECK(has_field(merged, "active", "expected true or false"));
  CHECK(has_field(merged, "role", ""));
  CHECK(has_field(merged, "colour", "not a parameter"));

  merged = merge(CallInput{});
  CHECK(has_field(merged, "id", "is required"));

  input = CallInput{};
  input.query = {{"id", "1"}, {"id", "2"}};
  CHECK(has_field(merge(input), "id", "2 times"));
}

TEST_CASE("a parameter comes from one place only, and the body is a JSON object", "[api-manager][params]") {
  CallInput input;
  input.path = {{"id", "1"}};
  input.body = {{"id", 2}};
  CHECK(has_field(merge(input), "id", "both in the path and in the body"));
  input = CallInput{};
  input.query = {{"id", "1"}};
  input.body = {{"id", 1}};
  CHECK(has_field(merge(input), "id", "both in the query and in the body"));
  input = CallInput{};
  input.body = json::array({1});
  CHECK(has_field(merge(input), "", "JSON object"));
  input = CallInput{};
  input.body = {{"id", 5}, {"role", "db"}};
  const auto merged = merge(input);
  CHECK(merged.errors.empty());
  CHECK(merged.values == json{{"id", 5}, {"role", "db"}});
  // JSON body values are taken as they are, never coerced: "5" is not an integer.
  input.body = {{"id", "5"}};
  CHECK(has_field(merge(input), "id", ""));
}

TEST_CASE("binding passes exactly the SQL's placeholders, null for absent ones", "[api-manager][params]") {
  CHECK(bind_values({"id", "role"}, {{"id", 1}, {"extra", "x"}}) == json{{"id", 1}, {"role", nullptr}});
  CHECK(bind_values({}, {{"id", 1}}) == json::object());
}

TEST_CASE("error bodies carry code, message and request id", "[api-manager][runtime]") {
  CHECK(error_body("invalid_params", "bad", nullptr, "r1") ==
        json{{"error", {{"code", "invalid_params"}, {"message", "bad"}, {"request_id", "r1"}}}});
}

TEST_CASE("the response cache: keys, expiry, bounds and dropping one API", "[api-manager][cache]") {
  using namespace std::chrono_literals;
  ResponseCache cache(3, 1000);
  const auto t0 = ResponseCache::Clock::time_point{} + 1h;
  const auto key = ResponseCache::key("default", "production", "servers", 2, R"({"id":1})", "anonymous");
  CHECK(key != ResponseCache::key("default", "production", "servers", 3, R"({"id":1})", "anonymous"));
  CHECK(key != ResponseCache::key("default", "production", "servers", 2, R"({"id":1})", "user,admin"));
  CHECK(key != ResponseCache::key("acme", "production", "servers", 2, R"({"id":1})", "anonymous"));
  CHECK(key != ResponseCache::key("default", "staging", "servers", 2, R"({"id":1})", "anonymous"));

  cache.put(key, "default", "servers", R"({"rows":[]})", 0, 10s, t0);
  REQUIRE(cache.get(key, t0 + 9s));
  CHECK(cache.get(key, t0 + 9s)->body == R"({"rows":[]})");
  CHECK_FALSE(cache.get(key, t0 + 10s));  // expired, and gone
  CHECK(cache.size() == 0);

  // At most 3 entries: the oldest stored goes first.
  for (int i = 0; i < 4; ++i) cache.put("k" + std::to_string(i), "default", "a", "x", 1, 60s, t0);
  CHECK(cache.size() == 3);
  CHECK_FALSE(cache.get("k0", t0));
  CHECK(cache.get("k3", t0));
  // At most 1000 bytes; one answer over a quarter of that is not kept at all.
  cache.put("big", "default", "a", std::string(300, 'x'), 1, 60s, t0);
  CHECK_FALSE(cache.get("big", t0));
  cache.put("k4", "acme", "a", std::string(240, 'y'), 1, 60s, t0);
  CHECK(cache.bytes() <= 1000);
  // Dropping one tenant's API leaves the others.
  cache.drop("default", "a");
  CHECK(cache.size() == 1);
  CHECK(cache.get("k4", t0));
  cache.drop("acme");
  CHECK(cache.size() == 0);
}
