// plexusd as an operator runs it: the shipped config, a data directory, signals,
// environment overrides and configuration mistakes.
#include <httplib.h>
#include <signal.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/plexusd_process.hpp"

using namespace std::chrono_literals;
using plexus::test::ChildProcess;
using plexus::test::TempDir;

namespace {

std::string plexusd() { return (plexus::test::binary_dir() / "bin" / "plexusd").string(); }
std::string shipped_config() { return (plexus::test::source_dir() / "config" / "plexus.yaml").string(); }

// A plexusd on a free port with its own data directory, stopped by SIGTERM at the end.
using RunningPlexus = plexus::test::Plexusd;
using plexus::test::bearer;

}  // namespace

TEST_CASE("plexusd serves health, readiness and metrics on the shipped config", "[plexusd]") {
  RunningPlexus plexus;
  auto client = plexus.client();
  auto health = client.Get("/healthz");
  REQUIRE(health);
  REQUIRE(health->status == 200);
  REQUIRE(nlohmann::json::parse(health->body)["status"] == "ok");

  auto ready = client.Get("/readyz");
  REQUIRE(ready->status == 200);
  REQUIRE(nlohmann::json::parse(ready->body)["checks"]["database"]["ok"] == true);
  REQUIRE(std::filesystem::exists(plexus.data.path() / "plexus.db"));

  auto metrics = client.Get("/metrics");
  REQUIRE(metrics->status == 200);
  REQUIRE(metrics->get_header_value("Content-Type").starts_with("text/plain; version=0.0.4"));
  REQUIRE_THAT(metrics->body, Catch::Contains("process_resident_memory_bytes") &&
                                  Catch::Contains("process_open_fds") && Catch::Contains("plexus_uptime_seconds") &&
                                  Catch::Contains(R"(plexus_http_requests_total{method="GET",route="/healthz",status="200"} 1)"));
  const auto checked = plexus::test::run_command({"promtool", "check", "metrics"}, metrics->body);
  INFO(checked.out << checked.err);
  REQUIRE(checked.exit_code == 0);

  REQUIRE(plexus.stop() == 0);
  const auto log = plexus::test::read_file(plexus.log_file());
  REQUIRE_THAT(log, Catch::Contains("ready on http://127.0.0.1:") && Catch::Contains("received SIGTERM") &&
                        Catch::Contains("GET /readyz 200"));
}

TEST_CASE("environment overrides reach the server: a console on its own port", "[plexusd]") {
  const int console_port = plexus::test::free_port();
  RunningPlexus plexus({{"PLEXUS_HTTP__CONSOLE__PORT", std::to_string(console_port)}});
  REQUIRE(plexus::test::wait_for_port(console_port, 10s));
  httplib::Client console("127.0.0.1", console_port);
  REQUIRE(console.Get("/healthz")->status == 200);
  REQUIRE(console.Get("/metrics")->status == 404);  // API routes stay on the API port
  REQUIRE(plexus.client().Get("/metrics")->status == 200);
  REQUIRE(plexus.stop() == 0);
}

TEST_CASE("an unknown key stops start-up with file, line and key named", "[plexusd][config]") {
  TempDir dir;
  const auto file = dir.write("bad.yaml", "http:\n  address: 127.0.0.1\n  prot: 8080\n");
  const auto result = plexus::test::run_command({plexusd(), "--config", file.string(), "--data-dir", dir.path()});
  REQUIRE(result.exit_code == 1);
  REQUIRE_THAT(result.err, Catch::Contains(file.string() + ":3:3") && Catch::Contains("http.prot") &&
                               Catch::Contains("http.port"));
}

TEST_CASE("a wrong type from the environment names the variable", "[plexusd][config]") {
  TempDir dir;
  const auto result = plexus::test::run_command({plexusd(), "--config", shipped_config(), "--check-config"}, "",
                                                {{"PLEXUS_HTTP__PORT", "eighty"}});
  REQUIRE(result.exit_code == 1);
  REQUIRE_THAT(result.err, Catch::Contains("PLEXUS_HTTP__PORT") && Catch::Contains("eighty"));
}

TEST_CASE("check-config prints the effective config with secrets masked", "[plexusd][config][security]") {
  const auto result =
      plexus::test::run_command({plexusd(), "--config", shipped_config(), "--check-config"}, "",
                                {{"PLEXUS_STORE__URL", "postgresql://ops:${env:PLEXUS_TEST_DB_PASSWORD}@127.0.0.1/ops"},
                                 {"PLEXUS_TEST_DB_PASSWORD", "hunter2-very-secret"}});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  const auto printed = nlohmann::json::parse(result.out);
  REQUIRE(printed["http"]["port"] == 8080);
  REQUIRE(printed["store"]["url"] == "***");
  REQUIRE(result.out.find("hunter2") == std::string::npos);
}

TEST_CASE("a database that cannot be reached fails start-up without leaking its password", "[plexusd][security]") {
  TempDir dir;
  const int closed_port = plexus::test::free_port();
  const auto result = plexus::test::run_command(
      {plexusd(), "--config", shipped_config(), "--data-dir", dir.path().string(), "--port", "0"}, "",
      {{"PLEXUS_STORE__URL", "postgresql://ops:leaky-pass-123@127.0.0.1:" + std::to_string(closed_port) + "/ops"},
       {"PLEXUS_LOG__FILE", (dir.path() / "plexus.log").string()}});
  REQUIRE(result.exit_code == 1);
  REQUIRE_THAT(result.err, Catch::Contains("cannot open the postgresql database"));
  REQUIRE(result.err.find("leaky-pass-123") == std::string::npos);
  REQUIRE(result.out.find("leaky-pass-123") == std::string::npos);
  REQUIRE(plexus::test::read_file(dir.path() / "plexus.log").find("leaky-pass-123") == std::string::npos);
}

TEST_CASE("SIGINT stops plexusd cleanly too", "[plexusd]") {
  RunningPlexus plexus;
  REQUIRE(plexus.client().Get("/healthz")->status == 200);
  plexus.process().signal(SIGINT);
  REQUIRE(plexus.process().wait(30s) == 0);
}

TEST_CASE("the hello example plugin loads from a manifests directory and reloads", "[plexusd][plugins]") {
  TempDir manifests;
  auto text = plexus::test::read_file(plexus::test::source_dir() / "manifests" / "examples" / "hello.yaml");
  text.replace(text.find("enabled: false"), 14, "enabled: true");
  manifests.write("hello.yaml", text);
  RunningPlexus plexus({{"PLEXUS_PLUGINS__WATCH", "false"}}, {"--manifests", manifests.path().string()});
  auto client = plexus.client();
  auto hello = client.Get("/api/v1/hello");
  REQUIRE(hello);
  REQUIRE(hello->status == 200);
  auto body = nlohmann::json::parse(hello->body);
  REQUIRE(body["name"] == "hello");
  REQUIRE(body["generation"] == 1);
  REQUIRE(body["greeting"] == "Hello from the manifest");

  auto reloaded = client.Post("/api/v1/admin/plugins/hello/reload", bearer(plexus.admin_token()), "", "application/json");
  REQUIRE(reloaded->status == 200);
  REQUIRE(nlohmann::json::parse(client.Get("/api/v1/hello")->body)["generation"] == 2);
  // Plugin administration is a change: audited with who did it.
  const auto audited = nlohmann::json::parse(
      client.Get("/api/v1/admin/audit?action=plugin.reload", bearer(plexus.admin_token()))->body)["items"];
  REQUIRE(audited.size() == 1);
  REQUIRE(audited[0]["target"] == "plugin/hello");
  REQUIRE(audited[0]["actor"] == "user:admin");

  const auto plugins = nlohmann::json::parse(client.Get("/api/v1/admin/plugins", bearer(plexus.admin_token()))->body);
  REQUIRE(plugins["items"][0]["state"] == "running");
  REQUIRE(plugins["items"][0]["version"] == "0.1.0");
  auto ready = client.Get("/readyz");
  REQUIRE(ready->status == 200);
  REQUIRE(nlohmann::json::parse(ready->body)["checks"]["plugins"]["ok"] == true);
  REQUIRE_THAT(client.Get("/metrics")->body, Catch::Contains("plexus_hello_requests_total"));
  // The REST description includes the plugin's routes next to the kernel's.
  const auto openapi = nlohmann::json::parse(client.Get("/api/v1/openapi.json")->body);
  REQUIRE(openapi["paths"]["/api/v1/hello"]["get"]["tags"][0] == "hello");
  REQUIRE(openapi["paths"]["/healthz"]["get"]["tags"][0] == "kernel");
  REQUIRE(plexus.stop() == 0);
}

TEST_CASE("an enabled plugin that cannot load makes plexusd not ready, but it keeps serving", "[plexusd][plugins]") {
  TempDir manifests;
  manifests.write("broken.yaml", "name: broken\nlibrary: libplexus_does_not_exist.so\n");
  RunningPlexus plexus({{"PLEXUS_PLUGINS__WATCH", "false"}}, {"--manifests", manifests.path().string()});
  auto client = plexus.client();
  REQUIRE(client.Get("/healthz")->status == 200);
  auto ready = client.Get("/readyz");
  REQUIRE(ready->status == 503);
  REQUIRE_THAT(ready->body, Catch::Contains("broken"));
  const auto plugins = nlohmann::json::parse(client.Get("/api/v1/admin/plugins", bearer(plexus.admin_token()))->body);
  REQUIRE(plugins["items"][0]["state"] == "failed");
  REQUIRE(plexus.stop() == 0);
}

TEST_CASE("without --config plexusd runs on its built-in defaults", "[plexusd][config]") {
  TempDir data;
  const int port = plexus::test::free_port();
  ChildProcess process({plexusd(), "--data-dir", data.path().string(), "--port", std::to_string(port)},
                       {{"PLEXUS_PLUGINS__MANIFESTS", data.path().string()}});
  REQUIRE(plexus::test::wait_for_port(port, 20s));
  httplib::Client client("127.0.0.1", port);
  REQUIRE(client.Get("/healthz")->status == 200);
  process.signal(SIGTERM);
  REQUIRE(process.wait(30s) == 0);
}

TEST_CASE("a reload ends the old generation's event streams and the new one serves", "[plexusd][plugins][sse]") {
  TempDir manifests;
  auto text = plexus::test::read_file(plexus::test::source_dir() / "manifests" / "examples" / "hello.yaml");
  text.replace(text.find("enabled: false"), 14, "enabled: true");
  manifests.write("hello.yaml", text);
  RunningPlexus plexus({{"PLEXUS_PLUGINS__WATCH", "false"}}, {"--manifests", manifests.path().string()});
  plexus::test::RawConnection stream(plexus.port);
  REQUIRE(stream.send("GET /api/v1/hello/stream HTTP/1.1\r\nHost: x\r\n\r\n"));
  const auto first = stream.read_some(10s, "event: tick");
  REQUIRE_THAT(first, Catch::Contains("text/event-stream") && Catch::Contains("event: tick"));

  auto client = plexus.client();
  auto reloaded = client.Post("/api/v1/admin/plugins/hello/reload", bearer(plexus.admin_token()), "", "application/json");
  REQUIRE(reloaded->status == 200);  // the open stream did not hold the reload up
  REQUIRE(stream.closed_by_peer(10s));
  REQUIRE(nlohmann::json::parse(client.Get("/api/v1/hello")->body)["generation"] == 2);
  const auto plugins = nlohmann::json::parse(client.Get("/api/v1/admin/plugins", bearer(plexus.admin_token()))->body);
  REQUIRE(plugins["items"][0]["draining"].empty());
  REQUIRE(plexus.stop() == 0);
}

TEST_CASE("first start creates admin with a generated password shown once on stdout", "[plexusd][auth]") {
  TempDir data;
  const int port = plexus::test::free_port();
  const auto log_file = plexus::test::test_log_dir() / ("generated-admin-" + std::to_string(port) + ".log");
  const std::vector<std::string> args{plexusd(), "--config", shipped_config(), "--data-dir", data.path().string(),
                                      "--port", std::to_string(port)};
  std::string password;
  {
    ChildProcess process(args, {{"PLEXUS_LOG__FILE", log_file.string()}});
    REQUIRE(plexus::test::wait_for_port(port, 20s));
    const std::string marker = "created user admin with password ";
    const auto output = process.output();
    const auto at = output.find(marker);
    REQUIRE(at != std::string::npos);
    password = output.substr(at + marker.size(), output.find('\n', at) - at - marker.size());
    plexus::test::record_secret(password);
    REQUIRE(password.size() >= 16);
    httplib::Client client("127.0.0.1", port);
    const nlohmann::json login{{"username", "admin"}, {"password", password}};
    REQUIRE(client.Post("/api/v1/auth/login", login.dump(), "application/json")->status == 200);
    process.signal(SIGTERM);
    REQUIRE(process.wait(30s) == 0);
  }
  ChildProcess again(args, {{"PLEXUS_LOG__FILE", log_file.string()}});
  REQUIRE(plexus::test::wait_for_port(port, 20s));
  CHECK(again.output().find("created user admin") == std::string::npos);
  again.signal(SIGTERM);
  REQUIRE(again.wait(30s) == 0);
  // The log file never saw it.
  CHECK(plexus::test::read_file(log_file).find(password) == std::string::npos);
}

TEST_CASE("plugin administration needs an administrator", "[plexusd][auth][plugins]") {
  RunningPlexus plexus;
  auto client = plexus.client();
  CHECK(client.Get("/api/v1/admin/plugins")->status == 401);
  CHECK(client.Post("/api/v1/admin/plugins/hello/reload", "", "application/json")->status == 401);
  CHECK(client.Get("/api/v1/admin/plugins", bearer(plexus.admin_token()))->status == 200);
  REQUIRE(plexus.stop() == 0);
}
