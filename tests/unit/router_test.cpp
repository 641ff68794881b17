// Route matching and the atomic route table (the base of plugin hot reload).
#include <catch2/catch.hpp>

#include "kernel/http/dispatcher.hpp"
#include "kernel/http/router.hpp"

using plexus::http::Request;
using plexus::http::Response;
using plexus::http::Route;
using plexus::http::RouteMatch;
using plexus::http::Router;
using plexus::http::Surface;

namespace {
Route route(std::string method, std::string pattern, std::string owner = "kernel") {
  Route r{std::move(method), std::move(pattern), [](Request&) { return Response::text(200, "ok"); }};
  r.owner = std::move(owner);
  return r;
}
}  // namespace

TEST_CASE("literal, parameter and rest segments match", "[router]") {
  Router router;
  router.add(route("GET", "/api/v1/items"));
  router.add(route("GET", "/api/v1/items/{id}"));
  router.add(route("GET", "/runtime/{path*}"));

  auto exact = router.match("GET", "/api/v1/items", Surface::both);
  REQUIRE(exact.outcome == RouteMatch::Outcome::found);
  REQUIRE(exact.route->pattern == "/api/v1/items");

  auto param = router.match("GET", "/api/v1/items/42", Surface::both);
  REQUIRE(param.route->pattern == "/api/v1/items/{id}");
  REQUIRE(param.params.at("id") == "42");

  auto rest = router.match("GET", "/runtime/ops/servers/7", Surface::both);
  REQUIRE(rest.params.at("path") == "ops/servers/7");

  REQUIRE(router.match("GET", "/runtime/", Surface::both).outcome == RouteMatch::Outcome::not_found);
  REQUIRE(router.match("GET", "/api/v1/items/42/more", Surface::both).outcome == RouteMatch::Outcome::not_found);
  REQUIRE(router.match("GET", "/api/v1/items/", Surface::both).outcome == RouteMatch::Outcome::not_found);
}

TEST_CASE("a known path with another method is 405 with the allowed methods", "[router]") {
  Router router;
  router.add(route("GET", "/x"));
  router.add(route("PUT", "/x"));
  auto match = router.match("DELETE", "/x", Surface::both);
  REQUIRE(match.outcome == RouteMatch::Outcome::method_not_allowed);
  REQUIRE(match.allowed_methods == std::vector<std::string>{"GET", "PUT"});
  REQUIRE(router.match("HEAD", "/x", Surface::both).outcome == RouteMatch::Outcome::found);
}

TEST_CASE("malformed patterns and duplicates are refused", "[router]") {
  Router router;
  REQUIRE_THROWS_WITH(router.add(route("GET", "no-slash")), Catch::Contains("must start with '/'"));
  REQUIRE_THROWS_WITH(router.add(route("GET", "/a/{rest*}/b")), Catch::Contains("must be the last segment"));
  REQUIRE_THROWS_WITH(router.add(route("GET", "/a/{}")), Catch::Contains("malformed parameter"));
  REQUIRE_THROWS_WITH(router.add(route("GET", "/a/x{y}")), Catch::Contains("malformed segment"));
  router.add(route("GET", "/a", "one"));
  REQUIRE_THROWS_WITH(router.add(route("GET", "/a", "two")),
                      Catch::Equals("route GET /a is already registered by plugin one"));
  router.add(route("GET", "/k"));
  REQUIRE_THROWS_WITH(router.add(route("GET", "/k", "two")),
                      Catch::Equals("route GET /k is already registered by the kernel"));
}

TEST_CASE("adding several routes is all or nothing", "[router]") {
  Router router;
  router.add(route("GET", "/taken"));
  std::vector<Route> batch{route("GET", "/new"), route("GET", "/taken")};
  REQUIRE_THROWS(router.add_all(std::move(batch)));
  REQUIRE(router.match("GET", "/new", Surface::both).outcome == RouteMatch::Outcome::not_found);
}

TEST_CASE("an owner's routes are replaced and removed in one swap", "[router]") {
  Router router;
  router.add(route("GET", "/p/old", "plugin"));
  router.add(route("GET", "/k", "kernel"));
  const auto before = router.match("GET", "/p/old", Surface::both).route;
  router.replace_owner("plugin", {route("GET", "/p/new")});
  REQUIRE(router.match("GET", "/p/old", Surface::both).outcome == RouteMatch::Outcome::not_found);
  REQUIRE(router.match("GET", "/p/new", Surface::both).route->owner == "plugin");
  REQUIRE(before->pattern == "/p/old");  // an in-flight holder keeps its route alive
  REQUIRE(router.remove_owner("plugin") == 1);
  REQUIRE(router.routes().size() == 1);
}

TEST_CASE("routes are served only on listeners of their surface", "[router]") {
  Router router;
  Route console = route("GET", "/ui");
  console.surface = Surface::console;
  router.add(std::move(console));
  REQUIRE(router.match("GET", "/ui", Surface::api).outcome == RouteMatch::Outcome::not_found);
  REQUIRE(router.match("GET", "/ui", Surface::console).outcome == RouteMatch::Outcome::found);
  REQUIRE(router.match("GET", "/ui", Surface::both).outcome == RouteMatch::Outcome::found);
}

TEST_CASE("request targets split into decoded path and query", "[router]") {
  std::string path;
  std::map<std::string, std::string> query;
  REQUIRE(plexus::http::split_target("/a%2Fb/c?x=1&y=&z&w=a+b%21", path, query));
  REQUIRE(path == "/a/b/c");
  REQUIRE(query.at("x") == "1");
  REQUIRE(query.at("y").empty());
  REQUIRE(query.at("z").empty());
  REQUIRE(query.at("w") == "a b!");
  REQUIRE_FALSE(plexus::http::split_target("http://host/a", path, query));
  REQUIRE_FALSE(plexus::http::split_target("/a%0", path, query));
  REQUIRE_FALSE(plexus::http::split_target("/a%00b", path, query));
}

TEST_CASE("client request ids are accepted only when sane", "[router]") {
  REQUIRE(plexus::http::acceptable_request_id("abc-DEF_1.2:3"));
  REQUIRE_FALSE(plexus::http::acceptable_request_id(""));
  REQUIRE_FALSE(plexus::http::acceptable_request_id(std::string(129, 'a')));
  REQUIRE_FALSE(plexus::http::acceptable_request_id("a b"));
  REQUIRE_FALSE(plexus::http::acceptable_request_id("a\nb"));
}
