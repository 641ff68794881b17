// Access control at the HTTP boundary (COM-1, COM-10): every route's declared
// permission enforced before the handler runs, default deny, the caller passed to
// the handler; security headers and CORS on every answer.
#include <httplib.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <memory>

#include "kernel/http/server.hpp"
#include "kernel/metrics/registry.hpp"

using plexus::auth::Caller;
using plexus::auth::CallerKind;
using plexus::http::Request;
using plexus::http::Response;
using plexus::http::Route;

namespace {

// Credentials are the role name itself ("Bearer viewer"); "Bearer bad" is invalid.
// The real authenticator (kernel/identity) has its own tests; this one isolates the
// dispatcher's part.
class RoleNameAuthenticator : public plexus::http::Authenticator {
 public:
  std::shared_ptr<const Caller> authenticate(const Request& request) override {
    ++calls;
    auto caller = std::make_shared<Caller>();
    const auto header = request.header("Authorization");
    if (!header) return caller;
    const std::string role(header->substr(7));
    const auto* grants = plexus::auth::builtin_role_grants(role);
    if (!grants) throw plexus::http::HttpError(401, "invalid_token", "the token is not valid");
    caller->kind = CallerKind::user;
    caller->name = role;
    caller->roles = {role};
    caller->grants = *grants;
    return caller;
  }
  std::atomic<int> calls{0};
};

Route route(std::string method, std::string pattern, std::string permission, bool non_blocking = false) {
  Route r{std::move(method), std::move(pattern), [](Request& request) {
            return Response::json(200, {{"caller", request.caller ? request.caller->actor() : "none"}});
          }};
  r.permission = std::move(permission);
  r.non_blocking = non_blocking;
  return r;
}

struct Fixture {
  explicit Fixture(std::vector<std::string> cors_origins = {}) {
    router.add(route("GET", "/open", "public", true));
    router.add(route("GET", "/me", "authenticated"));
    router.add(route("GET", "/notes/{id}", "notes.note.read:{id}"));
    router.add(route("PUT", "/notes/{id}", "notes.note.write:{id}"));
    router.add(route("GET", "/admin", "admin.users.view"));
    router.add(route("GET", "/undeclared", ""));
    router.add(route("GET", "/optional", "optional"));
    plexus::http::ServerOptions options;
    options.listeners[0].port = 0;
    options.authenticator = authenticator;
    options.cors_origins = std::move(cors_origins);
    server = std::make_unique<plexus::http::Server>(std::move(options), router, registry);
    server->start();
  }
  ~Fixture() { server->stop(std::chrono::seconds(5)); }
  int status(const std::string& method, const std::string& path, const std::string& role = {}) {
    httplib::Client client("127.0.0.1", server->port());
    httplib::Headers headers;
    if (!role.empty()) headers.emplace("Authorization", "Bearer " + role);
    auto result = method == "GET" ? client.Get(path, headers) : client.Put(path, headers, "{}", "application/json");
    REQUIRE(result);
    return result->status;
  }

  std::shared_ptr<RoleNameAuthenticator> authenticator = std::make_shared<RoleNameAuthenticator>();
  plexus::metrics::Registry registry;
  plexus::http::Router router;
  std::unique_ptr<plexus::http::Server> server;
};

}  // namespace

TEST_CASE("public routes serve anyone and never consult the authenticator", "[access]") {
  Fixture f;
  CHECK(f.status("GET", "/open") == 200);
  CHECK(f.status("GET", "/open", "bad") == 200);
  CHECK(f.authenticator->calls == 0);
}

TEST_CASE("protected routes answer 401 without credentials and with bad ones", "[access]") {
  Fixture f;
  httplib::Client client("127.0.0.1", f.server->port());
  auto anonymous = client.Get("/me");
  REQUIRE(anonymous);
  CHECK(anonymous->status == 401);
  CHECK(anonymous->get_header_value("WWW-Authenticate") == "Bearer");
  CHECK(nlohmann::json::parse(anonymous->body)["error"]["code"] == "unauthenticated");
  CHECK(f.status("GET", "/me", "bad") == 401);
  CHECK(f.status("GET", "/me", "viewer") == 200);
}

TEST_CASE("permissions are checked per route and per resource", "[access]") {
  Fixture f;
  CHECK(f.status("GET", "/notes/7", "viewer") == 200);
  CHECK(f.status("PUT", "/notes/7", "viewer") == 403);
  CHECK(f.status("PUT", "/notes/7", "editor") == 200);
  CHECK(f.status("GET", "/admin", "editor") == 403);
  CHECK(f.status("GET", "/admin", "admin") == 200);

  httplib::Client client("127.0.0.1", f.server->port());
  auto denied = client.Put("/notes/7", {{"Authorization", "Bearer viewer"}}, "{}", "application/json");
  const auto body = nlohmann::json::parse(denied->body);
  CHECK(body["error"]["code"] == "forbidden");
  CHECK(body["error"]["details"]["permission"] == "notes.note.write:7");
}

TEST_CASE("a route without a declared permission is denied to everyone", "[access]") {
  Fixture f;
  CHECK(f.status("GET", "/undeclared") == 401);
  CHECK(f.status("GET", "/undeclared", "admin") == 403);
}

TEST_CASE("the handler sees the authenticated caller", "[access]") {
  Fixture f;
  httplib::Client client("127.0.0.1", f.server->port());
  auto result = client.Get("/me", {{"Authorization", "Bearer editor"}});
  REQUIRE(result);
  CHECK(nlohmann::json::parse(result->body)["caller"] == "user:editor");
  auto open = client.Get("/open");
  CHECK(nlohmann::json::parse(open->body)["caller"] == "anonymous");
}

TEST_CASE("optional routes let anonymous callers through and check credentials that are sent", "[access]") {
  Fixture f;
  httplib::Client client("127.0.0.1", f.server->port());
  auto anonymous = client.Get("/optional");
  REQUIRE(anonymous);
  CHECK(anonymous->status == 200);
  CHECK(nlohmann::json::parse(anonymous->body)["caller"] == "anonymous");
  auto known = client.Get("/optional", {{"Authorization", "Bearer viewer"}});
  REQUIRE(known);
  CHECK(nlohmann::json::parse(known->body)["caller"] == "user:viewer");
  CHECK(f.status("GET", "/optional", "bad") == 401);
}

TEST_CASE("every response carries the protective headers", "[access]") {
  Fixture f;
  httplib::Client client("127.0.0.1", f.server->port());
  for (const char* path : {"/open", "/me", "/nowhere"}) {
    auto result = client.Get(path);
    REQUIRE(result);
    INFO(path);
    CHECK(result->get_header_value("X-Content-Type-Options") == "nosniff");
    CHECK(result->get_header_value("X-Frame-Options") == "DENY");
    CHECK(result->get_header_value("Referrer-Policy") == "no-referrer");
    CHECK(result->get_header_value("Content-Security-Policy") == "default-src 'none'; frame-ancestors 'none'");
    CHECK(result->get_header_value("Cache-Control") == "no-store");
    // Plain HTTP: no HSTS (browsers ignore it there, and it would be misleading).
    CHECK_FALSE(result->has_header("Strict-Transport-Security"));
  }
}

TEST_CASE("CORS: allowed origins get preflight answers and allow headers, others nothing", "[access]") {
  Fixture f({"https://ops.example.com"});
  httplib::Client client("127.0.0.1", f.server->port());
  auto preflight = client.Options("/notes/7", {{"Origin", "https://ops.example.com"},
                                              {"Access-Control-Request-Method", "PUT"},
                                              {"Access-Control-Request-Headers", "authorization"}});
  REQUIRE(preflight);
  CHECK(preflight->status == 204);
  CHECK(preflight->get_header_value("Access-Control-Allow-Origin") == "https://ops.example.com");
  CHECK(preflight->get_header_value("Access-Control-Allow-Methods").find("PUT") != std::string::npos);
  CHECK(preflight->get_header_value("Access-Control-Allow-Headers").find("Authorization") != std::string::npos);

  auto foreign = client.Options("/notes/7", {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "PUT"}});
  REQUIRE(foreign);
  CHECK(foreign->status == 403);
  CHECK_FALSE(foreign->has_header("Access-Control-Allow-Origin"));

  auto actual = client.Get("/open", {{"Origin", "https://ops.example.com"}});
  CHECK(actual->get_header_value("Access-Control-Allow-Origin") == "https://ops.example.com");
  CHECK(actual->get_header_value("Vary") == "Origin");
  auto other = client.Get("/open", {{"Origin", "https://evil.example"}});
  CHECK_FALSE(other->has_header("Access-Control-Allow-Origin"));
}

TEST_CASE("without configured origins no CORS header is ever sent", "[access]") {
  Fixture f;
  httplib::Client client("127.0.0.1", f.server->port());
  auto preflight = client.Options("/open", {{"Origin", "https://ops.example.com"}, {"Access-Control-Request-Method", "GET"}});
  REQUIRE(preflight);
  CHECK_FALSE(preflight->has_header("Access-Control-Allow-Origin"));
}
