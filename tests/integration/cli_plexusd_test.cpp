// The plexus CLI (build/bin/plexus) against the real plexusd: login, user and API key
// administration, the refresh on 401, an expired session, server errors and logout.
// What the CLI prints (but the one line holding a new API key) goes to
// <build>/test-logs, so the end-of-suite scan proves it never shows a token.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/plexusd_process.hpp"

using plexus::test::bearer;
using plexus::test::CommandResult;
using plexus::test::Plexusd;
using plexus::test::record_secret;
using plexus::test::TempDir;

namespace {

// One plexusd, and a CLI whose credentials file lives in a fresh directory.
class Cli {
 public:
  explicit Cli(const Plexusd& plexus)
      : url("http://127.0.0.1:" + std::to_string(plexus.port)),
        credentials(home.path() / "plexus" / "credentials.json"),
        transcript(plexus::test::test_log_dir() / ("plexus-cli-" + std::to_string(::getpid()) + ".log")) {}

  // Runs `plexus ARGS...`; what it prints is appended to the transcript unless `holds_key`.
  CommandResult run(std::vector<std::string> args, const std::string& input = {}, bool holds_key = false) {
    std::vector<std::string> argv{plexus::test::plexus_cli_binary().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto result = plexus::test::run_command(argv, input, {{"PLEXUS_CREDENTIALS", credentials.string()}});
    std::ofstream log(transcript, std::ios::app);
    log << "$ plexus";
    for (const auto& arg : args) log << " " << arg;
    log << "\n"
        << (holds_key ? std::string("(stdout holds the new key: not kept)\n") : result.out) << result.err
        << "exit " << result.exit_code << "\n";
    return result;
  }

  nlohmann::json saved() const { return nlohmann::json::parse(plexus::test::read_file(credentials)); }
  void save(const nlohmann::json& value) const {
    std::ofstream(credentials, std::ios::trunc) << value.dump();
  }

  void login() {
    const auto result = run({"login", "--url", url, "--username", "admin", "--password-stdin"},
                            std::string(plexus::test::kTestAdminPassword) + "\n");
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    record_saved_tokens();
  }
  void record_saved_tokens() const {
    const auto tokens = saved();
    record_secret(tokens.at("access_token").get<std::string>());
    record_secret(tokens.at("refresh_token").get<std::string>());
  }

  TempDir home;
  std::string url;
  std::filesystem::path credentials;
  std::filesystem::path transcript;
};

int login_status(const Plexusd& plexus, const std::string& username, const std::string& password) {
  auto client = plexus.client();
  const nlohmann::json body{{"username", username}, {"password", password}};
  const auto result = client.Post("/api/v1/auth/login", body.dump(), "application/json");
  REQUIRE(result);
  if (result->status == 200) {
    const auto tokens = nlohmann::json::parse(result->body);
    record_secret(tokens.at("access_token").get<std::string>());
    record_secret(tokens.at("refresh_token").get<std::string>());
  }
  return result->status;
}

}  // namespace

TEST_CASE("plexus login saves a private session and user commands manage users with it") {
  Plexusd plexus;
  Cli cli(plexus);
  cli.login();
  struct stat file_status {};
  REQUIRE(::stat(cli.credentials.c_str(), &file_status) == 0);
  CHECK((file_status.st_mode & 0777) == 0600);
  REQUIRE(::stat(cli.credentials.parent_path().c_str(), &file_status) == 0);
  CHECK((file_status.st_mode & 0777) == 0700);
  CHECK(cli.saved().at("url") == cli.url);

  const std::string first_password = "Tulip-First-Password-1!";
  const std::string second_password = "Tulip-Second-Password-2!";
  record_secret(first_password);
  record_secret(second_password);
  auto added =
      cli.run({"user", "add", "carol", "--role", "viewer", "--display-name", "Carol", "--password-stdin"},
              first_password + "\n");
  INFO(added.err);
  REQUIRE(added.exit_code == 0);
  CHECK(login_status(plexus, "carol", first_password) == 200);

  const auto listed = cli.run({"user", "list"});
  REQUIRE(listed.exit_code == 0);
  CHECK(listed.out.starts_with("USERNAME"));
  CHECK(listed.out.find("carol") != std::string::npos);
  CHECK(listed.out.find("admin") != std::string::npos);

  REQUIRE(cli.run({"user", "passwd", "carol", "--password-stdin"}, second_password + "\n").exit_code == 0);
  CHECK(login_status(plexus, "carol", first_password) == 401);
  CHECK(login_status(plexus, "carol", second_password) == 200);

  REQUIRE(cli.run({"user", "disable", "carol"}).exit_code == 0);
  CHECK(login_status(plexus, "carol", second_password) == 401);
  REQUIRE(cli.run({"user", "enable", "carol"}).exit_code == 0);
  CHECK(login_status(plexus, "carol", second_password) == 200);

  // A server error: its message and request id, exit 1.
  const auto duplicate =
      cli.run({"user", "add", "carol", "--role", "viewer", "--password-stdin"}, first_password + "\n");
  CHECK(duplicate.exit_code == 1);
  CHECK(duplicate.err.find("request id") != std::string::npos);
  // A usage error: exit 2, nothing sent.
  CHECK(cli.run({"user", "add", "dave"}).exit_code == 2);
  CHECK(cli.run({"user", "disable", "nobody"}).exit_code == 1);
}

TEST_CASE("plexus apikey creates a key shown once that works until revoked") {
  Plexusd plexus;
  Cli cli(plexus);
  cli.login();
  const auto created =
      cli.run({"apikey", "create", "--name", "ci-bot", "--role", "viewer", "--expires-in", "30d"}, {},
              /*holds_key=*/true);
  INFO(created.err);
  REQUIRE(created.exit_code == 0);
  const std::string key = created.out.substr(0, created.out.find('\n'));
  record_secret(key);
  CHECK(key.starts_with("plx_"));
  CHECK(created.err.find("will not be shown again") != std::string::npos);

  auto client = plexus.client();
  const auto me = client.Get("/api/v1/auth/me", httplib::Headers{{"X-API-Key", key}});
  REQUIRE(me);
  CHECK(me->status == 200);

  const auto listed = cli.run({"apikey", "list"});
  REQUIRE(listed.exit_code == 0);
  CHECK(listed.out.find("ci-bot") != std::string::npos);
  CHECK(listed.out.find(key) == std::string::npos);

  const auto keys = nlohmann::json::parse(
      client.Get("/api/v1/admin/api-keys", bearer(cli.saved().at("access_token")))->body);
  std::string id;
  for (const auto& item : keys.at("items"))
    if (item.at("name") == "ci-bot") id = item.at("id").get<std::string>();
  REQUIRE_FALSE(id.empty());
  REQUIRE(cli.run({"apikey", "revoke", id}).exit_code == 0);
  CHECK(client.Get("/api/v1/auth/me", httplib::Headers{{"X-API-Key", key}})->status == 401);
}

TEST_CASE("an expired access token is refreshed once and a dead session says so") {
  Plexusd plexus;
  Cli cli(plexus);
  cli.login();
  auto tokens = cli.saved();
  const auto old_refresh = tokens.at("refresh_token").get<std::string>();
  tokens["access_token"] = "not-a-valid-access-token";
  cli.save(tokens);

  const auto refreshed = cli.run({"user", "list"});
  INFO(refreshed.err);
  REQUIRE(refreshed.exit_code == 0);
  cli.record_saved_tokens();
  CHECK(cli.saved().at("access_token") != "not-a-valid-access-token");
  CHECK(cli.saved().at("refresh_token") != old_refresh);  // rotated

  tokens = cli.saved();
  tokens["access_token"] = "not-a-valid-access-token";
  tokens["refresh_token"] = "not-a-valid-refresh-token";
  cli.save(tokens);
  const auto expired = cli.run({"user", "list"});
  CHECK(expired.exit_code == 1);
  CHECK(expired.err.find("session expired: run plexus login") != std::string::npos);
}

TEST_CASE("plexus logout ends the server session and removes the saved one") {
  Plexusd plexus;
  Cli cli(plexus);
  cli.login();
  const auto refresh_token = cli.saved().at("refresh_token").get<std::string>();
  const auto result = cli.run({"logout"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  CHECK_FALSE(std::filesystem::exists(cli.credentials));
  auto client = plexus.client();
  const nlohmann::json body{{"refresh_token", refresh_token}};
  CHECK(client.Post("/api/v1/auth/refresh", body.dump(), "application/json")->status == 401);
  CHECK(cli.run({"user", "list", "--url", cli.url}).exit_code == 1);  // not logged in
}

TEST_CASE("a wrong password is refused with the server's message") {
  Plexusd plexus;
  Cli cli(plexus);
  record_secret("Wrong-Password-For-Admin");
  const auto result = cli.run({"login", "--url", cli.url, "--username", "admin", "--password-stdin"},
                              "Wrong-Password-For-Admin\n");
  CHECK(result.exit_code == 1);
  CHECK(result.err.find("login failed") != std::string::npos);
  CHECK(result.err.find("request id") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(cli.credentials));
}
