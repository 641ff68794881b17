// The plexus CLI's REST commands against a stand-in server that speaks the identity
// REST contract: the saved session (file modes, refresh on 401, session expiry), the
// requests each command sends, what it prints, and its exit statuses.
#include <httplib.h>
#include <sys/stat.h>

#include <cstdlib>
#include <mutex>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/support/test_support.hpp"
#include "tools/plexus/arguments.hpp"
#include "tools/plexus/command.hpp"
#include "tools/plexus/credentials.hpp"
#include "tools/plexus/rest_client.hpp"

using plexus::cli::Context;
using plexus::test::TempDir;

namespace {

constexpr const char* kPassword = "correct-horse-battery-staple";

nlohmann::json error_body(const std::string& code, const std::string& message, const std::string& request_id,
                          nlohmann::json details = nullptr) {
  return {
      {"error", {{"code", code}, {"message", message}, {"details", details}, {"request_id", request_id}}}};
}

// The identity REST contract, kept in memory. Tokens are counters ("access-3"), so a
// test can expire the current access token or spend the refresh token.
class FakePlexusd {
 public:
  FakePlexusd() {
    server_.Post("/api/v1/auth/login", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mutex_);
      const auto body = nlohmann::json::parse(req.body);
      login_bodies.push_back(body);
      if (body.value("username", "") != "admin" || body.value("password", "") != kPassword) {
        reply(res, 401, error_body("invalid_credentials", "invalid user name or password", "req-login-1"));
        return;
      }
      issue(res);
    });
    server_.Post("/api/v1/auth/refresh", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mutex_);
      ++refresh_calls;
      const auto body = nlohmann::json::parse(req.body);
      if (refresh_disabled || body.value("refresh_token", "") != refresh_token) {
        reply(res, 401, error_body("invalid_token", "refresh token not valid", "req-refresh"));
        return;
      }
      issue(res);
    });
    server_.Post("/api/v1/auth/logout", [this](const httplib::Request& req, httplib::Response& res) {
      if (!authorised(req, res)) return;
      std::lock_guard lock(mutex_);
      ++logout_calls;
      access_token.clear();
      refresh_token.clear();
      res.status = 204;
    });
    server_.Get("/api/v1/admin/users", [this](const httplib::Request& req, httplib::Response& res) {
      if (!authorised(req, res)) return;
      // Two pages: admin and alice, then bob.
      const auto cursor = req.get_param_value("cursor");
      nlohmann::json body;
      if (cursor.empty()) {
        body = {{"items",
                 {user("u-1", "admin", {"admin"}, false, "2026-01-02T03:04:05Z"),
                  user("u-2", "alice", {"viewer", "editor"}, true, nullptr)}},
                {"next_cursor", "page-2"}};
      } else if (cursor == "page-2") {
        body = {{"items", {user("u-3", "bob", {"viewer"}, false, nullptr)}}, {"next_cursor", nullptr}};
      } else {
        reply(res, 400, error_body("invalid_cursor", "bad cursor", "req-cursor"));
        return;
      }
      reply(res, 200, body);
    });
    server_.Post("/api/v1/admin/users", [this](const httplib::Request& req, httplib::Response& res) {
      if (!authorised(req, res)) return;
      auto body = nlohmann::json::parse(req.body);
      record(req, body);
      if (body.value("username", "") == "admin") {
        reply(res, 409,
              error_body("conflict", "a user named admin exists", "req-conflict-7", {{"field", "username"}}));
        return;
      }
      reply(res, 201, user("u-9", body["username"], body["roles"], false, nullptr));
    });
    server_.Patch(R"(/api/v1/admin/users/([^/]+))",
                  [this](const httplib::Request& req, httplib::Response& res) {
                    if (!authorised(req, res)) return;
                    record(req, nlohmann::json::parse(req.body));
                    reply(res, 200, user(req.matches[1], "x", {"viewer"}, false, nullptr));
                  });
    server_.Put(R"(/api/v1/admin/users/([^/]+)/password)",
                [this](const httplib::Request& req, httplib::Response& res) {
                  if (!authorised(req, res)) return;
                  record(req, nlohmann::json::parse(req.body));
                  res.status = 204;
                });
    server_.Post("/api/v1/admin/api-keys", [this](const httplib::Request& req, httplib::Response& res) {
      if (!authorised(req, res)) return;
      auto body = nlohmann::json::parse(req.body);
      record(req, body);
      reply(res, 201,
            {{"id", "k-1"},
             {"name", body["name"]},
             {"key", "fake-api-key-value-42"},
             {"roles", body["roles"]},
             {"expires_at", "2027-01-01T00:00:00Z"},
             {"created_at", "2026-01-01T00:00:00Z"}});
    });
    server_.Get("/api/v1/admin/api-keys", [this](const httplib::Request& req, httplib::Response& res) {
      if (!authorised(req, res)) return;
      reply(res, 200,
            {{"items",
              {{{"id", "k-1"},
                {"name", "ci"},
                {"roles", {"viewer"}},
                {"expires_at", nullptr},
                {"created_at", "2026-01-01T00:00:00Z"},
                {"last_used_at", nullptr}}}}});
    });
    server_.Delete(R"(/api/v1/admin/api-keys/([^/]+))",
                   [this](const httplib::Request& req, httplib::Response& res) {
                     if (!authorised(req, res)) return;
                     record(req, nullptr);
                     res.status = 204;
                   });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ~FakePlexusd() {
    server_.stop();
    thread_.join();
  }
  FakePlexusd(const FakePlexusd&) = delete;
  FakePlexusd& operator=(const FakePlexusd&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void expire_access_token() {
    std::lock_guard lock(mutex_);
    access_token = "expired";
  }

  struct Call {
    std::string method, path;
    nlohmann::json body;
  };
  std::vector<Call> calls() {
    std::lock_guard lock(mutex_);
    return calls_;
  }

  // Read and changed under mutex_ by the handlers; tests look after the CLI returned.
  std::string access_token, refresh_token;
  int issued = 0, refresh_calls = 0, logout_calls = 0, unauthorised = 0;
  bool refresh_disabled = false;
  std::vector<nlohmann::json> login_bodies;

 private:
  static nlohmann::json user(const std::string& id, const std::string& name, const nlohmann::json& roles,
                             bool disabled, const nlohmann::json& last_login) {
    return {{"id", id},
            {"username", name},
            {"display_name", name},
            {"roles", roles},
            {"disabled", disabled},
            {"created_at", "2026-01-01T00:00:00Z"},
            {"last_login_at", last_login}};
  }
  static void reply(httplib::Response& res, int status, const nlohmann::json& body) {
    res.status = status;
    res.set_header("X-Request-ID", "req-header");
    res.set_content(body.dump(), "application/json");
  }
  void issue(httplib::Response& res) {  // caller holds mutex_
    ++issued;
    access_token = "access-" + std::to_string(issued);
    refresh_token = "refresh-" + std::to_string(issued);
    reply(res, 200,
          {{"access_token", access_token},
           {"refresh_token", refresh_token},
           {"token_type", "Bearer"},
           {"expires_in", 900}});
  }
  bool authorised(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mutex_);
    if (req.get_header_value("Authorization") == "Bearer " + access_token && !access_token.empty())
      return true;
    ++unauthorised;
    reply(res, 401, error_body("unauthorized", "authentication required", "req-401"));
    return false;
  }
  void record(const httplib::Request& req, nlohmann::json body) {
    std::lock_guard lock(mutex_);
    calls_.push_back({req.method, req.path, std::move(body)});
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<Call> calls_;
};

// One CLI invocation in-process: arguments, standard input, and what it printed.
struct Run {
  int status = -1;
  std::string out, err;
};

Run run(int (*command)(const Context&, std::span<const std::string_view>), std::vector<std::string_view> args,
        const std::string& input = {}) {
  std::ostringstream out, err;
  std::istringstream in(input);
  const Context context{out, err, in, false};
  Run result;
  result.status = command(context, args);
  result.out = out.str();
  result.err = err.str();
  return result;
}

// Points the CLI's credentials file into a fresh temporary directory.
struct CredentialsHome {
  CredentialsHome() : file(dir.path() / "config" / "plexus" / "credentials.json") {
    ::setenv("PLEXUS_CREDENTIALS", file.c_str(), 1);
  }
  ~CredentialsHome() { ::unsetenv("PLEXUS_CREDENTIALS"); }
  TempDir dir;
  std::filesystem::path file;
};

void login(FakePlexusd& server) {
  const auto url = server.url();
  const auto result = run(plexus::cli::run_login, {"--url", url, "--username", "admin", "--password-stdin"},
                          std::string(kPassword) + "\n");
  REQUIRE(result.status == 0);
}

}  // namespace

TEST_CASE("login saves the session in a file only its owner can read") {
  FakePlexusd server;
  CredentialsHome home;
  const auto url = server.url();
  const auto result = run(plexus::cli::run_login,
                          {"--url", url, "--username", "admin", "--password-stdin", "--tenant", "default"},
                          std::string(kPassword) + "\n");
  REQUIRE(result.status == 0);
  CHECK(result.out.find("Logged in to " + url + " as admin") != std::string::npos);
  CHECK(server.login_bodies.at(0) ==
        nlohmann::json{{"username", "admin"}, {"password", kPassword}, {"tenant", "default"}});

  const auto saved = plexus::cli::load_credentials(home.file);
  REQUIRE(saved);
  CHECK(saved->url == url);
  CHECK(saved->access_token == "access-1");
  CHECK(saved->refresh_token == "refresh-1");
  struct stat file_status {};
  REQUIRE(::stat(home.file.c_str(), &file_status) == 0);
  CHECK((file_status.st_mode & 0777) == 0600);
  REQUIRE(::stat(home.file.parent_path().c_str(), &file_status) == 0);
  CHECK((file_status.st_mode & 0777) == 0700);
  // Neither the password nor a token is printed.
  for (const auto* secret : {kPassword, "access-1", "refresh-1"}) {
    CHECK(result.out.find(secret) == std::string::npos);
    CHECK(result.err.find(secret) == std::string::npos);
  }
}

TEST_CASE("a refused login prints the server message and request id and exits 1") {
  FakePlexusd server;
  CredentialsHome home;
  const auto url = server.url();
  const auto result = run(plexus::cli::run_login, {"--url", url, "--username", "admin"}, "wrong-password\n");
  CHECK(result.status == 1);
  CHECK(result.err.find("invalid user name or password") != std::string::npos);
  CHECK(result.err.find("req-login-1") != std::string::npos);
  CHECK(result.err.find("wrong-password") == std::string::npos);
  CHECK_FALSE(std::filesystem::exists(home.file));
}

TEST_CASE("a 401 refreshes the session once and retries with the new tokens") {
  FakePlexusd server;
  CredentialsHome home;
  login(server);
  server.expire_access_token();
  const auto result = run(plexus::cli::run_user, {"list"});
  REQUIRE(result.status == 0);
  CHECK(server.refresh_calls == 1);
  const auto saved = plexus::cli::load_credentials(home.file);
  REQUIRE(saved);
  CHECK(saved->access_token == "access-2");
  CHECK(saved->refresh_token == "refresh-2");
  // The next command uses the saved pair directly.
  REQUIRE(run(plexus::cli::run_apikey, {"list"}).status == 0);
  CHECK(server.refresh_calls == 1);
}

TEST_CASE("a failed refresh says the session expired and exits 1") {
  FakePlexusd server;
  CredentialsHome home;
  login(server);
  server.expire_access_token();
  server.refresh_disabled = true;
  const auto result = run(plexus::cli::run_user, {"list"});
  CHECK(result.status == 1);
  CHECK(result.err.find("session expired: run plexus login") != std::string::npos);
  CHECK(server.refresh_calls == 1);
}

TEST_CASE("tokens saved for one server are never sent to another") {
  FakePlexusd server;
  FakePlexusd other;
  CredentialsHome home;
  login(server);
  const auto other_url = other.url();
  const auto result = run(plexus::cli::run_user, {"list", "--url", other_url});
  CHECK(result.status == 1);
  CHECK(result.err.find("not logged in to " + other_url) != std::string::npos);
  CHECK(other.unauthorised == 0);
  CHECK(other.calls().empty());
}

TEST_CASE("user add sends the name roles display name and the password read from stdin") {
  FakePlexusd server;
  CredentialsHome home;
  login(server);
  const auto result = run(plexus::cli::run_user,
                          {"add", "carol", "--role", "viewer", "--role", "editor", "--display-name",
                           "Carol C", "--password-stdin"},
                          "carols-long-password\n");
  REQUIRE(result.status == 0);
  CHECK(result.out.find("Created user carol") != std::string::npos);
  const auto calls = server.calls();
  REQUIRE(calls.size() == 1);
  CHECK(calls[0].method == "POST");
  CHECK(calls[0].body == nlohmann::json{{"username", "carol"},
                                        {"password", "carols-long-password"},
                                        {"roles", {"viewer", "editor"}},
                                        {"display_name", "Carol C"}});
  CHECK(result.out.find("carols-long-password") == std::string::npos);
}

TEST_CASE("a server error prints its message code request id and details and exits 1") {
  FakePlexusd server;
  CredentialsHome home;
  login(server);
  const auto result = run(plexus::cli::run_user, {"add", "admin", "--role", "admin"}, "some-password-here\n");
  CHECK(result.status == 1);
  CHECK(result.err.find("a user named admin exists") != std::string::npos);
  CHECK(result.err.find("conflict") != std::string::npos);
  CHECK(result.err.find("HTTP 409") != std::string::npos);
  CHECK(result.err.find("req-conflict-7") != std::string::npos);
  CHECK(result.err.find("\"field\":\"username\"") != std::string::npos);
}

TEST_CASE("user list follows the pages and prints a table") {
  FakePlexusd server;
  CredentialsHome home;
  login(server);
  const auto result = run(plexus::cli::run_user, {"list"});
  REQUIRE(result.status == 0);
  std::istringstream lines(result.out);
  std::vector<std::string> rows;
  for (std::string line; std::getline(lines, line);) rows.push_back(line);
  REQUIRE(rows.size() == 4);
  CHECK(rows[0].starts_with("USERNAME"));
  CHECK(rows[0].find("ROLES") != std::string::npos);
  CHECK(rows[0].find("DISABLED") != std::string::npos);
  CHECK(rows[0].find("LAST LOGIN") != std::string::npos);
  CHECK(rows[1].find("admin") == 0);
  CHECK(rows[1].find("2026-01-02T03:04:05Z") != std::string::npos);
  CHECK(rows[2].find("viewer,editor") != std::string::npos);
  CHECK(rows[2].find("yes") != std::string::npos);
  CHECK(rows[2].find("never") != std::string::npos);
  CHECK(rows[3].find("bob") == 0);
}

TEST_CASE("user passwd disable and enable find the user id by name") {
  FakePlexusd server;
  CredentialsHome home;
  login(server);
  REQUIRE(run(plexus::cli::run_user, {"passwd", "bob", "--password-stdin"}, "bobs-new-password\n").status ==
          0);
  REQUIRE(run(plexus::cli::run_user, {"disable", "bob"}).status == 0);
  REQUIRE(run(plexus::cli::run_user, {"enable", "alice"}).status == 0);
  const auto calls = server.calls();
  REQUIRE(calls.size() == 3);
  CHECK(calls[0].method == "PUT");
  CHECK(calls[0].path == "/api/v1/admin/users/u-3/password");
  CHECK(calls[0].body == nlohmann::json{{"password", "bobs-new-password"}});
  CHECK(calls[1].method == "PATCH");
  CHECK(calls[1].path == "/api/v1/admin/users/u-3");
  CHECK(calls[1].body == nlohmann::json{{"disabled", true}});
  CHECK(calls[2].path == "/api/v1/admin/users/u-2");
  CHECK(calls[2].body == nlohmann::json{{"disabled", false}});

  const auto missing = run(plexus::cli::run_user, {"disable", "nobody"});
  CHECK(missing.status == 1);
  CHECK(missing.err.find("no user named 'nobody'") != std::string::npos);
}

TEST_CASE("apikey create prints the key once on stdout with a warning") {
  FakePlexusd server;
  CredentialsHome home;
  login(server);
  const auto result =
      run(plexus::cli::run_apikey, {"create", "--name", "ci", "--role", "viewer", "--expires-in", "30d"});
  REQUIRE(result.status == 0);
  CHECK(result.out == "fake-api-key-value-42\n");
  CHECK(result.err.find("will not be shown again") != std::string::npos);
  CHECK(result.err.find("fake-api-key-value-42") == std::string::npos);
  const auto calls = server.calls();
  REQUIRE(calls.size() == 1);
  CHECK(calls[0].body == nlohmann::json{{"name", "ci"}, {"roles", {"viewer"}}, {"expires_in", 30 * 86400}});
}

TEST_CASE("apikey list prints a table and apikey revoke deletes by id") {
  FakePlexusd server;
  CredentialsHome home;
  login(server);
  const auto listed = run(plexus::cli::run_apikey, {"list"});
  REQUIRE(listed.status == 0);
  CHECK(listed.out.starts_with("ID"));
  CHECK(listed.out.find("k-1") != std::string::npos);
  CHECK(listed.out.find("never") != std::string::npos);
  REQUIRE(run(plexus::cli::run_apikey, {"revoke", "k-1"}).status == 0);
  const auto calls = server.calls();
  REQUIRE(calls.size() == 1);
  CHECK(calls[0].method == "DELETE");
  CHECK(calls[0].path == "/api/v1/admin/api-keys/k-1");
}

TEST_CASE("logout ends the server session and removes the credentials file") {
  FakePlexusd server;
  CredentialsHome home;
  login(server);
  const auto result = run(plexus::cli::run_logout, {});
  CHECK(result.status == 0);
  CHECK(server.logout_calls == 1);
  CHECK_FALSE(std::filesystem::exists(home.file));
  CHECK(run(plexus::cli::run_logout, {}).out == "Not logged in.\n");
}

TEST_CASE("usage errors exit 2 and change nothing") {
  FakePlexusd server;
  CredentialsHome home;
  login(server);
  const auto url = server.url();
  CHECK(run(plexus::cli::run_user, {"add", "dave"}).status == 2);            // no --role
  CHECK(run(plexus::cli::run_user, {"add", "dave", "--role"}).status == 2);  // no value
  CHECK(run(plexus::cli::run_user, {"list", "--bogus"}).status == 2);        // unknown option
  CHECK(run(plexus::cli::run_user, {"list", "--role", "x"}).status == 2);    // not list's option
  CHECK(run(plexus::cli::run_user, {"frobnicate"}).status == 2);             // unknown command
  CHECK(run(plexus::cli::run_user, {}).status == 2);
  CHECK(run(plexus::cli::run_apikey, {"create", "--name", "x", "--role", "viewer", "--expires-in", "soon"})
            .status == 2);
  CHECK(run(plexus::cli::run_apikey, {"revoke"}).status == 2);
  CHECK(run(plexus::cli::run_login, {"--url", "ftp://host", "--username", "a"}).status == 2);
  CHECK(run(plexus::cli::run_login, {"--url", url}).status == 2);  // no --username
  CHECK(server.calls().empty());
  CHECK(run(plexus::cli::run_user, {"--help"}).status == 0);
  CHECK(run(plexus::cli::run_apikey, {"--help"}).status == 0);
  CHECK(run(plexus::cli::run_login, {"--help"}).status == 0);
}

TEST_CASE("the credentials file is found through PLEXUS_CREDENTIALS XDG_CONFIG_HOME or HOME") {
  using Env = std::map<std::string, std::string>;
  const auto path_with = [](Env env) {
    return plexus::cli::credentials_path([env](const char* name) -> const char* {
      auto it = env.find(name);
      return it == env.end() ? nullptr : it->second.c_str();
    });
  };
  CHECK(path_with({{"PLEXUS_CREDENTIALS", "/x/c.json"}, {"HOME", "/home/u"}}) == "/x/c.json");
  CHECK(path_with({{"XDG_CONFIG_HOME", "/cfg"}, {"HOME", "/home/u"}}) == "/cfg/plexus/credentials.json");
  CHECK(path_with({{"XDG_CONFIG_HOME", ""}, {"HOME", "/home/u"}}) ==
        "/home/u/.config/plexus/credentials.json");
  CHECK_THROWS(path_with({}));
}

TEST_CASE("server URLs are checked and normalised") {
  using plexus::cli::parse_server_url;
  CHECK(parse_server_url("http://127.0.0.1:8080").text() == "http://127.0.0.1:8080");
  CHECK(parse_server_url("HTTPS://Plexus.Example.com/").text() == "https://plexus.example.com");
  CHECK(parse_server_url("https://example.com/plexus/").base_path == "/plexus");
  CHECK(parse_server_url("http://[::1]:9000").origin == "http://[::1]:9000");
  CHECK_THROWS_AS(parse_server_url("127.0.0.1:8080"), plexus::cli::UsageError);
  CHECK_THROWS_AS(parse_server_url("http://user:pw@host"), plexus::cli::UsageError);
  CHECK_THROWS_AS(parse_server_url("http://host:99999"), plexus::cli::UsageError);
  CHECK_THROWS_AS(parse_server_url("http://host/?q=1"), plexus::cli::UsageError);
}

TEST_CASE("durations for --expires-in") {
  using plexus::cli::parse_duration_seconds;
  CHECK(parse_duration_seconds("90") == 90);
  CHECK(parse_duration_seconds("45s") == 45);
  CHECK(parse_duration_seconds("30m") == 1800);
  CHECK(parse_duration_seconds("12h") == 43200);
  CHECK(parse_duration_seconds("30d") == 2592000);
  CHECK(parse_duration_seconds("2w") == 1209600);
  CHECK_FALSE(parse_duration_seconds("0d"));
  CHECK_FALSE(parse_duration_seconds("-1h"));
  CHECK_FALSE(parse_duration_seconds("d"));
  CHECK_FALSE(parse_duration_seconds("3y"));
  CHECK_FALSE(parse_duration_seconds("99999999999d"));
}
