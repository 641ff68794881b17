#include "tests/unit/identity_fixture.hpp"

#include <strings.h>

#include <catch2/catch.hpp>

#include "tests/support/plexusd_process.hpp"

namespace plexus::test {
namespace {

nlohmann::json caller_json(const auth::Caller& caller) {
  return {{"kind", auth::kind_name(caller.kind)},
          {"tenant", caller.tenant},
          {"user_id", caller.user_id},
          {"name", caller.name},
          {"roles", caller.roles},
          {"grants", caller.grants},
          {"credential_id", caller.credential_id}};
}

}  // namespace

std::string identity_test_database_url(const TempDir& dir) {
  return fresh_store_url(each_store_backend(), dir);
}

std::string HttpResult::header(const std::string& name) const {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() && strncasecmp(key.c_str(), name.c_str(), key.size()) == 0) return value;
  }
  return {};
}

IdentityFixture::IdentityFixture(const std::function<void(identity::IdentityOptions&)>& adjust) {
  record_secret(kTestJwtSecret);
  record_secret(kAdminPassword);
  options.jwt_secret = kTestJwtSecret;
  if (adjust) adjust(options);
  database = std::make_unique<store::Database>(store::DatabaseOptions{.url = backend.fresh_url(dir)});
  audit = std::make_unique<audit::AuditLog>(*database);
  identity = std::make_unique<identity::Identity>(*database, *audit, options);
  REQUIRE_FALSE(identity->bootstrap(kAdminPassword).has_value());
  identity->register_routes(router, [this] { return plugin_permissions; });

  const auto echo = [](http::Request& request) {
    return http::Response::json(200, caller_json(*request.caller));
  };
  router.add({"GET", "/api/v1/test/whoami", echo, http::Surface::both, "test", false, "", "authenticated"});
  router.add(
      {"GET", "/api/v1/test/docs/{id}", echo, http::Surface::both, "test", false, "", "docs.read:{id}"});
  router.add(
      {"POST", "/api/v1/test/docs/{id}", echo, http::Surface::both, "test", false, "", "docs.write:{id}"});
  router.add({"GET", "/api/v1/test/admin-secret", echo, http::Surface::both, "test", false, "",
              "admin.secret.view"});

  http::ServerOptions server_options;
  server_options.listeners[0].port = 0;
  server_options.io_threads = 1;
  server_options.workers = 4;
  server_options.authenticator = identity->authenticator();
  server = std::make_unique<http::Server>(std::move(server_options), router, registry);
  server->start();
}

IdentityFixture::~IdentityFixture() { server->stop(std::chrono::seconds(5)); }

HttpResult IdentityFixture::request(const std::string& method, const std::string& path,
                                    const nlohmann::json& body, const httplib::Headers& headers) const {
  httplib::Client client("127.0.0.1", server->port());
  client.set_connection_timeout(5);
  client.set_read_timeout(30);
  const std::string text = body.is_null() ? std::string() : body.dump();
  httplib::Result result{nullptr, httplib::Error::Unknown};
  if (method == "GET") {
    result = client.Get(path.c_str(), headers);
  } else if (method == "DELETE") {
    result = client.Delete(path.c_str(), headers);
  } else if (method == "POST") {
    result = client.Post(path.c_str(), headers, text, "application/json");
  } else if (method == "PUT") {
    result = client.Put(path.c_str(), headers, text, "application/json");
  } else if (method == "PATCH") {
    result = client.Patch(path.c_str(), headers, text, "application/json");
  }
  REQUIRE(result);
  HttpResult out;
  out.status = result->status;
  out.headers = result->headers;
  out.raw = result->body;
  out.body = nlohmann::json::parse(result->body, nullptr, false);
  if (out.body.is_discarded()) out.body = nullptr;
  return out;
}

HttpResult IdentityFixture::get(const std::string& path, const std::string& token) const {
  return request("GET", path, nullptr, token.empty() ? httplib::Headers{} : bearer(token));
}
HttpResult IdentityFixture::post(const std::string& path, const nlohmann::json& body,
                                 const std::string& token) const {
  return request("POST", path, body, token.empty() ? httplib::Headers{} : bearer(token));
}
HttpResult IdentityFixture::patch(const std::string& path, const nlohmann::json& body,
                                  const std::string& token) const {
  return request("PATCH", path, body, token.empty() ? httplib::Headers{} : bearer(token));
}
HttpResult IdentityFixture::put(const std::string& path, const nlohmann::json& body,
                                const std::string& token) const {
  return request("PUT", path, body, token.empty() ? httplib::Headers{} : bearer(token));
}
HttpResult IdentityFixture::del(const std::string& path, const std::string& token) const {
  return request("DELETE", path, nullptr, token.empty() ? httplib::Headers{} : bearer(token));
}

HttpResult IdentityFixture::login(const std::string& username, const std::string& password,
                                  const std::string& tenant) const {
  return post("/api/v1/auth/login", {{"username", username}, {"password", password}, {"tenant", tenant}});
}

nlohmann::json IdentityFixture::tokens(const std::string& username, const std::string& password,
                                       const std::string& tenant) const {
  const auto result = login(username, password, tenant);
  INFO(result.raw);
  REQUIRE(result.status == 200);
  record_secret(result.body.at("access_token").get<std::string>());
  record_secret(result.body.at("refresh_token").get<std::string>());
  return result.body;
}

std::string IdentityFixture::access_token(const std::string& username, const std::string& password,
                                          const std::string& tenant) const {
  return tokens(username, password, tenant).at("access_token").get<std::string>();
}

std::string IdentityFixture::create_user(const std::string& token, const std::string& username,
                                         const std::string& password,
                                         const std::vector<std::string>& roles) const {
  record_secret(password);
  const auto result =
      post("/api/v1/admin/users", {{"username", username}, {"password", password}, {"roles", roles}}, token);
  INFO(result.raw);
  REQUIRE(result.status == 201);
  return result.body.at("id").get<std::string>();
}

}  // namespace plexus::test
