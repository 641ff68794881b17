// The OpenAPI document is generated from the live route table.
#include <catch2/catch.hpp>

#include "kernel/app/openapi.hpp"

using plexus::http::Request;
using plexus::http::Response;
using plexus::http::Route;

TEST_CASE("every route appears with its method, path parameters and owner", "[openapi]") {
  plexus::http::Router router;
  Route item{"GET", "/api/v1/items/{id}", [](Request&) { return Response::text(200, ""); }};
  item.summary = "One item";
  router.add(std::move(item));
  router.add({"POST", "/runtime/{path*}", [](Request&) { return Response::text(200, ""); },
              plexus::http::Surface::api, "api-manager"});
  const auto doc = plexus::build_openapi(router, "9.9.9");
  REQUIRE(doc["openapi"] == "3.1.0");
  REQUIRE(doc["info"]["version"] == "9.9.9");
  const auto& get = doc["paths"]["/api/v1/items/{id}"]["get"];
  REQUIRE(get["summary"] == "One item");
  REQUIRE(get["tags"][0] == "kernel");
  REQUIRE(get["parameters"][0]["name"] == "id");
  REQUIRE(get["parameters"][0]["in"] == "path");
  REQUIRE(get["parameters"][0]["required"] == true);
  // "{path*}" becomes a plain OpenAPI parameter.
  const auto& runtime = doc["paths"]["/runtime/{path}"]["post"];
  REQUIRE(runtime["tags"][0] == "api-manager");
  REQUIRE(runtime["parameters"][0]["name"] == "path");
  REQUIRE(doc["components"]["schemas"]["Error"]["required"][0] == "error");
  REQUIRE(doc["tags"].size() == 2);
}

TEST_CASE("the document describes itself and follows route changes", "[openapi]") {
  plexus::http::Router router;
  plexus::register_openapi_route(router, "1.0.0");
  REQUIRE(plexus::build_openapi(router, "1.0.0")["paths"].contains("/api/v1/openapi.json"));
  router.add({"GET", "/api/v1/hello", [](Request&) { return Response::text(200, ""); }, plexus::http::Surface::api,
              "hello"});
  REQUIRE(plexus::build_openapi(router, "1.0.0")["paths"].contains("/api/v1/hello"));
  router.remove_owner("hello");
  REQUIRE_FALSE(plexus::build_openapi(router, "1.0.0")["paths"].contains("/api/v1/hello"));
}
