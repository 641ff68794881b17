// The plugin host with real plugin libraries behind a real HTTP server: ABI checks
// before dlopen, exception barriers, hot reload under load, drains, timers and
// isolation between plugins.
#include <httplib.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <future>
#include <thread>

#include "kernel/events/bus.hpp"
#include "kernel/http/server.hpp"
#include "kernel/plugins/plugin_host.hpp"
#include "kernel/store/migrations.hpp"
#include "tests/support/postgres_db.hpp"
#include "tests/support/test_support.hpp"

using namespace std::chrono_literals;
using plexus::test::TempDir;

namespace {

std::filesystem::path test_plugins() { return plexus::test::binary_dir() / "lib" / "plexus" / "test"; }

std::string manifest(const std::string& name, const std::string& library, const std::string& extra = "") {
  return "name: " + name + "\nlibrary: " + library + "\nenabled: true\n" + extra;
}

// A server, a router and a plugin host over a temporary manifests directory.
struct Fixture {
  explicit Fixture(bool watch = false, std::chrono::milliseconds drain_timeout = 5s,
                   const std::string& backend = "sqlite")
      : database({.url = plexus::test::fresh_store_url(backend, dir), .pool_size = 2}) {
    options.listeners[0].port = 0;
    options.workers = 4;
    server = std::make_unique<plexus::http::Server>(options, router, registry);
    plexus::plugins::PluginHostOptions host_options;
    host_options.library_dir = test_plugins();
    host_options.manifests_dir = dir.path() / "manifests";
    host_options.run_dir = dir.path() / "run";
    host_options.drain_timeout = drain_timeout;
    host_options.watch = watch;
    host_options.breaker_failures = 3;
    host_options.breaker_cooldown = 60s;
    host_options.database = &database;
    std::filesystem::create_directories(host_options.manifests_dir);
    manifests = host_options.manifests_dir;
    host = std::make_unique<plexus::plugins::PluginHost>(host_options, router, registry, bus);
    host->register_admin_routes(router);
    server->start();
  }
  ~Fixture() {
    host->stop();
    server->stop(2s);
  }
  void write_manifest(const std::string& file, const std::string& text) const {
    // Write then rename, as an operator's editor or deploy tool would.
    const auto tmp = dir.path() / (file + ".tmp");
    { std::ofstream(tmp) << text; }
    std::filesystem::rename(tmp, manifests / file);
  }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", server->port());
    c.set_read_timeout(20);
    c.set_keep_alive(true);
    return c;
  }
  nlohmann::json plugin(const std::string& name) const {
    const auto status = host->status();  // a range-for over a temporary's member would dangle
    for (const auto& item : status["items"]) {
      if (item["name"] == name) return item;
    }
    return nullptr;
  }

  TempDir dir;
  plexus::store::Database database;
  std::filesystem::path manifests;
  plexus::metrics::Registry registry;
  plexus::http::Router router;
  plexus::events::Bus bus;
  plexus::http::ServerOptions options;
  std::unique_ptr<plexus::http::Server> server;
  std::unique_ptr<plexus::plugins::PluginHost> host;
};

int generation_of(httplib::Client& client, const std::string& plugin) {
  auto response = client.Get("/api/v1/" + plugin + "/generation");
  if (!response || response->status != 200) return -1;
  return nlohmann::json::parse(response->body)["generation"].get<int>();
}

// Loads probe-a, whose GET /block waits until `release` exists, and starts such a
// request; returns once the plugin is holding it.
std::future<httplib::Result> start_blocked_request(Fixture& f, const std::filesystem::path& release) {
  f.write_manifest("probe-a.yaml", manifest("probe-a", "libplexus_test_probe_a.so",
                                            "config:\n  release_file: " + release.string() + "\n"));
  f.host->start();
  auto blocked = std::async(std::launch::async, [&f] { return f.client().Get("/api/v1/probe-a/block"); });
  while (f.plugin("probe-a")["in_flight"].get<int>() == 0) std::this_thread::sleep_for(5ms);
  return blocked;
}

}  // namespace

TEST_CASE("a plugin loads, serves its routes and reports its state", "[plugins]") {
  Fixture f;
  f.write_manifest("probe-a.yaml", manifest("probe-a", "libplexus_test_probe_a.so"));
  f.host->start();
  auto client = f.client();
  REQUIRE(generation_of(client, "probe-a") == 1);
  const auto state = f.plugin("probe-a");
  REQUIRE(state["state"] == "running");
  REQUIRE(state["version"] == "1.2.0");
  REQUIRE(state["generation"] == 1);
  REQUIRE(state["last_error"].is_null());

  auto listed = client.Get("/api/v1/admin/plugins");
  REQUIRE(listed->status == 200);
  REQUIRE(nlohmann::json::parse(listed->body)["items"][0]["name"] == "probe-a");
  auto reloaded = client.Post("/api/v1/admin/plugins/probe-a/reload", "", "application/json");
  REQUIRE(reloaded->status == 200);
  REQUIRE(generation_of(client, "probe-a") == 2);
  // The previous copy is gone from the run directory.
  std::size_t copies = 0;
  for (const auto& entry : std::filesystem::directory_iterator(f.dir.path() / "run")) copies += entry.is_regular_file();
  REQUIRE(copies == 1);
}

TEST_CASE("ABI and metadata mismatches are refused before any plugin code runs", "[plugins][abi]") {
  Fixture f;
  const auto marker = f.dir.path() / "constructor-ran";
  setenv("PLEXUS_TEST_MARKER", marker.c_str(), 1);
  f.write_manifest("abi-major.yaml", manifest("abi-major", "libplexus_test_abi_major.so"));
  f.write_manifest("abi-minor.yaml", manifest("abi-minor", "libplexus_test_abi_minor.so"));
  f.write_manifest("no-metadata.yaml", manifest("no-metadata", "libplexus_test_no_metadata.so"));
  { std::ofstream(f.dir.path() / "not-elf.so") << "#!/bin/sh\necho not a library\n"; }
  f.write_manifest("not-elf.yaml", manifest("not-elf", (f.dir.path() / "not-elf.so").string()));
  f.write_manifest("probe-a.yaml", manifest("probe-a", "libplexus_test_probe_a.so"));
  f.host->start();
  unsetenv("PLEXUS_TEST_MARKER");

  REQUIRE(f.plugin("abi-major")["state"] == "failed");
  REQUIRE_THAT(f.plugin("abi-major")["last_error"].get<std::string>(), Catch::Contains("expected ABI major 1, got 2"));
  REQUIRE_THAT(f.plugin("abi-minor")["last_error"].get<std::string>(),
               Catch::Contains("expected ABI minor <= " + std::to_string(PLEXUS_ABI_MINOR) + ", got 99"));
  REQUIRE_THAT(f.plugin("no-metadata")["last_error"].get<std::string>(), Catch::Contains("expected a .plexus_metadata"));
  REQUIRE_THAT(f.plugin("not-elf")["last_error"].get<std::string>(), Catch::Contains("expected an ELF"));
  REQUIRE_FALSE(std::filesystem::exists(marker));
  // The others do not stop a good plugin.
  REQUIRE(f.plugin("probe-a")["state"] == "running");
  std::string reason;
  REQUIRE_FALSE(f.host->all_running(reason));
  REQUIRE_THAT(reason, Catch::Contains("enabled but not running"));
}

TEST_CASE("an older plugin with a smaller descriptor still loads", "[plugins][abi]") {
  Fixture f;
  f.write_manifest("old.yaml", manifest("old", "libplexus_test_old.so"));
  f.host->start();
  auto response = f.client().Get("/api/v1/old/ping");
  REQUIRE(response);
  REQUIRE(response->status == 200);
  REQUIRE(response->body == "pong");
  REQUIRE(f.host->disable("old").ok);  // no stop or destroy to call, and that is fine
  REQUIRE(f.client().Get("/api/v1/old/ping")->status == 404);
}

TEST_CASE("exceptions in plugins become JSON 500s and open the circuit breaker", "[plugins]") {
  Fixture f;
  f.write_manifest("probe-a.yaml", manifest("probe-a", "libplexus_test_probe_a.so"));
  f.host->start();
  auto client = f.client();
  auto thrown = client.Get("/api/v1/probe-a/throw");
  REQUIRE(thrown->status == 500);
  const auto error = nlohmann::json::parse(thrown->body)["error"];
  REQUIRE(error["code"] == "plugin_error");
  REQUIRE(thrown->body.find("probe failure") == std::string::npos);
  REQUIRE(client.Get("/api/v1/probe-a/throw-int")->status == 500);
  REQUIRE(client.Get("/api/v1/probe-a/throw")->status == 500);  // third failure opens the circuit
  auto paused = client.Get("/api/v1/probe-a/generation");
  REQUIRE(paused->status == 503);
  REQUIRE(nlohmann::json::parse(paused->body)["error"]["code"] == "plugin_circuit_open");
  REQUIRE(f.plugin("probe-a")["circuit_open"] == true);
  // A reload brings a fresh generation with a closed circuit.
  REQUIRE(f.host->reload("probe-a").ok);
  REQUIRE(generation_of(client, "probe-a") == 2);
}

TEST_CASE("reload under load: not one failed request over 50 reloads", "[plugins][reload]") {
  Fixture f;
  f.write_manifest("probe-a.yaml", manifest("probe-a", "libplexus_test_probe_a.so"));
  f.host->start();
  std::atomic<bool> running{true};
  std::atomic<int> failures{0};
  std::atomic<int> requests{0};
  std::atomic<int> highest{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 3; ++c) {
    clients.emplace_back([&] {
      auto client = f.client();
      int last = 0;
      while (running) {
        const int generation = generation_of(client, "probe-a");
        ++requests;
        if (generation < last) ++failures;  // never back to an older generation
        if (generation < 1) {
          ++failures;
        } else {
          last = generation;
          int seen = highest.load();
          while (generation > seen && !highest.compare_exchange_weak(seen, generation)) {
          }
        }
      }
    });
  }
  for (int i = 0; i < 50; ++i) {
    const auto result = f.host->reload("probe-a");
    INFO(result.message);
    REQUIRE(result.ok);
    const int expected = i + 2;
    // Every client request after the reload sees the new generation.
    auto probe = f.client();
    REQUIRE(generation_of(probe, "probe-a") == expected);
  }
  running = false;
  for (auto& thread : clients) thread.join();
  INFO("requests: " << requests.load());
  REQUIRE(failures.load() == 0);
  REQUIRE(requests.load() > 50);
  REQUIRE(highest.load() == 51);
}

TEST_CASE("unloading waits for a blocked handler, then unloads", "[plugins][reload]") {
  Fixture f;
  const auto release = f.dir.path() / "release";
  auto blocked = start_blocked_request(f, release);
  auto disabling = std::async(std::launch::async, [&] { return f.host->disable("probe-a"); });
  REQUIRE(disabling.wait_for(300ms) == std::future_status::timeout);  // still draining
  { std::ofstream(release) << "go"; }
  REQUIRE(disabling.get().ok);
  auto response = blocked.get();
  REQUIRE(response);
  REQUIRE(response->status == 200);
  REQUIRE(response->body == "released");
  REQUIRE(f.client().Get("/api/v1/probe-a/generation")->status == 404);
  REQUIRE(f.plugin("probe-a")["state"] == "disabled");
}

TEST_CASE("a drain that times out keeps the old generation loaded and says so", "[plugins][reload]") {
  Fixture f(false, 200ms);
  const auto release = f.dir.path() / "release";
  auto blocked = start_blocked_request(f, release);
  REQUIRE(f.host->reload("probe-a").ok);  // the new generation serves at once
  auto client = f.client();
  REQUIRE(generation_of(client, "probe-a") == 2);
  const auto state = f.plugin("probe-a");
  REQUIRE_THAT(state["last_error"].get<std::string>(), Catch::Contains("did not drain"));
  REQUIRE(state["draining"].size() == 1);
  { std::ofstream(release) << "go"; }
  REQUIRE(blocked.get()->body == "released");
}

TEST_CASE("a timer of an unloaded plugin never fires", "[plugins]") {
  Fixture f;
  const auto ticks = f.dir.path() / "ticks";
  f.write_manifest("probe-a.yaml", manifest("probe-a", "libplexus_test_probe_a.so",
                                            "config:\n  timer_file: " + ticks.string() + "\n"));
  f.host->start();
  for (int i = 0; i < 500 && plexus::test::read_file(ticks).size() < 20; ++i) std::this_thread::sleep_for(5ms);
  REQUIRE(plexus::test::read_file(ticks).size() >= 20);
  REQUIRE(f.host->disable("probe-a").ok);
  const auto after_unload = plexus::test::read_file(ticks);
  std::this_thread::sleep_for(200ms);
  REQUIRE(plexus::test::read_file(ticks) == after_unload);
}

TEST_CASE("two plugins defining the same symbols keep their own state", "[plugins]") {
  Fixture f;
  f.write_manifest("probe-a.yaml", manifest("probe-a", "libplexus_test_probe_a.so"));
  f.write_manifest("probe-b.yaml", manifest("probe-b", "libplexus_test_probe_b.so"));
  f.host->start();
  auto client = f.client();
  auto state = [&](const std::string& plugin) {
    return nlohmann::json::parse(client.Get("/api/v1/" + plugin + "/state")->body)["state"].get<int>();
  };
  REQUIRE(state("probe-a") == 1);
  REQUIRE(state("probe-a") == 2);
  REQUIRE(state("probe-b") == 1);
  REQUIRE(state("probe-a") == 3);
}

TEST_CASE("a route outside the declared prefix fails the plugin's start", "[plugins][security]") {
  Fixture f;
  f.write_manifest("probe-a.yaml", manifest("probe-a", "libplexus_test_probe_a.so", "config:\n  bad_route: \"yes\"\n"));
  f.host->start();
  const auto state = f.plugin("probe-a");
  REQUIRE(state["state"] == "failed");
  REQUIRE_THAT(state["last_error"].get<std::string>(), Catch::Contains("outside the plugin's route prefix"));
  REQUIRE(f.client().Get("/api/v1/somebody-else/x")->status == 404);
}

TEST_CASE("a plugin serves routes under each of its route prefixes, and no other plugin's route",
          "[plugins][security]") {
  Fixture f;
  const std::string shared = "config:\n  extra_route: /runtime/probe-shared\n";
  f.write_manifest("probe-a.yaml",
                   manifest("probe-a", "libplexus_test_probe_a.so",
                            "permissions:\n  routes: [/api/v1/probe-a, /runtime]\n" + shared));
  // probe-b may serve under /runtime too, but the route probe-a has is not free.
  f.write_manifest("probe-b.yaml",
                   manifest("probe-b", "libplexus_test_probe_b.so",
                            "permissions:\n  routes: [/api/v1/probe-b, /runtime]\n" + shared));
  f.host->start();
  auto client = f.client();
  REQUIRE(f.plugin("probe-a")["state"] == "running");
  REQUIRE(generation_of(client, "probe-a") == 1);
  auto extra = client.Get("/runtime/probe-shared");
  REQUIRE(extra->status == 200);
  REQUIRE(nlohmann::json::parse(extra->body)["plugin"] == "probe-a");
  const auto refused = f.plugin("probe-b");
  REQUIRE(refused["state"] == "failed");
  REQUIRE(refused["last_error"] == "route GET /runtime/probe-shared is already registered by plugin probe-a");
  REQUIRE(client.Get("/api/v1/probe-b/generation")->status == 404);  // none of its routes went in

  // A reload of the owner keeps its route; with another route probe-b starts next to it.
  REQUIRE(f.host->reload("probe-a").ok);
  REQUIRE(nlohmann::json::parse(client.Get("/runtime/probe-shared")->body)["plugin"] == "probe-a");
  f.write_manifest(
      "probe-b.yaml",
      manifest("probe-b", "libplexus_test_probe_b.so",
               "permissions:\n  routes: [/api/v1/probe-b, /runtime]\nconfig:\n  extra_route: /runtime/b\n"));
  f.host->rescan();
  REQUIRE(f.plugin("probe-b")["state"] == "running");
  REQUIRE(nlohmann::json::parse(client.Get("/runtime/b")->body)["plugin"] == "probe-b");
  REQUIRE(nlohmann::json::parse(client.Get("/runtime/probe-shared")->body)["plugin"] == "probe-a");

  // Outside every prefix is refused, naming them all.
  f.write_manifest("probe-b.yaml", manifest("probe-b", "libplexus_test_probe_b.so",
                                            "permissions:\n  routes: [/api/v1/probe-b, /runtime/b]\n"
                                            "config:\n  extra_route: /runtime/c\n"));
  const auto outside = f.host->reload("probe-b");
  REQUIRE_FALSE(outside.ok);
  REQUIRE_THAT(outside.message, Catch::Contains("route /runtime/c is outside the plugin's route prefixes "
                                                "/api/v1/probe-b, /runtime/b"));
  REQUIRE(client.Get("/runtime/c")->status == 404);
  // The old generation serves on.
  REQUIRE(nlohmann::json::parse(client.Get("/runtime/b")->body)["plugin"] == "probe-b");
}

TEST_CASE("a plugin may follow resource changes but never publish them", "[plugins][security][events]") {
  Fixture f;
  f.write_manifest("probe-a.yaml", manifest("probe-a", "libplexus_test_probe_a.so",
                                            "permissions:\n  events: [probe-a.>, resource.note.>]\n"
                                            "config:\n  publish: \"yes\"\n"));
  f.host->start();
  REQUIRE(f.plugin("probe-a")["state"] == "running");
  std::vector<std::string> seen;
  f.bus.subscribe(">", [&](std::string_view topic, std::string_view) { seen.emplace_back(topic); });
  auto client = f.client();
  REQUIRE(client.Post("/api/v1/probe-a/publish/probe-a.hello", "{}", "application/json")->status == 200);
  const auto forged = client.Post("/api/v1/probe-a/publish/resource.note.changed", "{}", "application/json");
  REQUIRE(forged->status == 400);
  const auto error = nlohmann::json::parse(forged->body);
  CHECK(error["status"] == PLEXUS_ERR_DENIED);
  CHECK_THAT(error["message"].get<std::string>(), Catch::Contains("published by the kernel only"));
  CHECK(seen == std::vector<std::string>{"probe-a.hello"});
}

TEST_CASE("a failing new generation leaves the old one serving", "[plugins][reload]") {
  Fixture f;
  f.write_manifest("probe-a.yaml", manifest("probe-a", "libplexus_test_probe_a.so"));
  f.host->start();
  // The new manifest's config breaks the plugin's schema.
  f.write_manifest("probe-a.yaml", manifest("probe-a", "libplexus_test_probe_a.so", "config:\n  unknown: 1\n"));
  const auto result = f.host->reload("probe-a");
  REQUIRE_FALSE(result.ok);
  auto client = f.client();
  REQUIRE(generation_of(client, "probe-a") == 1);
  REQUIRE(f.plugin("probe-a")["state"] == "running");
  REQUIRE_FALSE(f.plugin("probe-a")["last_error"].is_null());
}

TEST_CASE("the watched manifests directory loads, reloads and unloads plugins", "[plugins][watch]") {
  Fixture f(true);
  f.host->start();
  auto client = f.client();
  auto wait_for = [&](int generation) {
    for (int i = 0; i < 500; ++i) {
      if (generation_of(client, "probe-a") == generation) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  };
  f.write_manifest("probe-a.yaml", manifest("probe-a", "libplexus_test_probe_a.so"));
  REQUIRE(wait_for(1));
  f.write_manifest("probe-a.yaml", manifest("probe-a", "libplexus_test_probe_a.so", "# changed\n"));
  REQUIRE(wait_for(2));
  std::filesystem::remove(f.manifests / "probe-a.yaml");
  REQUIRE(wait_for(-1));
  REQUIRE(f.plugin("probe-a").is_null());
}

TEST_CASE("plugin admin routes refuse unknown plugins and actions", "[plugins]") {
  Fixture f;
  f.host->start();
  auto client = f.client();
  REQUIRE(client.Post("/api/v1/admin/plugins/nope/reload", "", "application/json")->status == 404);
  f.write_manifest("probe-a.yaml", "name: probe-a\nlibrary: libplexus_test_probe_a.so\nenabled: false\n");
  f.host->rescan();
  REQUIRE(client.Post("/api/v1/admin/plugins/probe-a/explode", "", "application/json")->status == 404);
  REQUIRE(client.Post("/api/v1/admin/plugins/probe-a/reload", "", "application/json")->status == 409);
  REQUIRE(client.Post("/api/v1/admin/plugins/probe-a/enable", "", "application/json")->status == 200);
  REQUIRE(generation_of(client, "probe-a") == 1);
}

TEST_CASE("plugins keep their own tables in the kernel database with bound values", "[plugins][database]") {
  const plexus::test::StoreBackend backend;
  Fixture f(false, 5s, backend.name());
  f.write_manifest("probe-a.yaml", manifest("probe-a", "libplexus_test_probe_a.so", "config:\n  database: \"yes\"\n"));
  f.host->start();
  REQUIRE(f.plugin("probe-a")["state"] == "running");
  auto client = f.client();
  REQUIRE(client.Post("/api/v1/probe-a/hits?who=kim", "", "text/plain")->body == R"({"changed":1})");
  REQUIRE(client.Post("/api/v1/probe-a/hits?who=kim", "", "text/plain")->status == 200);
  // A value that would be an injection if spliced is stored and matched as itself.
  const std::string hostile = "/api/v1/probe-a/hits?who=x%27%20OR%20%271%27%3D%271";
  REQUIRE(client.Post(hostile, "", "text/plain")->status == 200);
  CHECK(nlohmann::json::parse(client.Get(hostile)->body)["rows"] == nlohmann::json::parse("[[1]]"));
  const auto kim = nlohmann::json::parse(client.Get("/api/v1/probe-a/hits?who=kim")->body);
  CHECK(kim["columns"] == nlohmann::json{"n"});
  CHECK(kim["rows"] == nlohmann::json::parse("[[2]]"));
  const auto other = nlohmann::json::parse(client.Get("/api/v1/probe-a/hits?who=nobody")->body);
  CHECK(other["rows"] == nlohmann::json::parse("[[0]]"));
  // A missing parameter is the plugin's mistake, reported to it with the name.
  const auto bad = client.Get("/api/v1/probe-a/bad-sql");
  CHECK(bad->status == 400);
  CHECK(nlohmann::json::parse(bad->body)["status"] == PLEXUS_ERR_INVALID);
  CHECK_THAT(bad->body, Catch::Contains(":missing has no value"));
  // The database's refusal reaches the plugin without the bound values (they may be secrets).
  const auto refused = client.Post("/api/v1/probe-a/refused?secret=Opal-Harbour-77", "", "text/plain");
  CHECK(refused->status == 400);
  CHECK_THAT(refused->body, Catch::Contains("no_such_column"));
  CHECK_THAT(refused->body, !Catch::Contains("Opal-Harbour-77"));
  // The migrations are recorded under the plugin's own component; the second ran its
  // statements for this database only.
  CHECK(plexus::store::schema_version(f.database, "plugin:probe-a") == 2);
  CHECK(nlohmann::json::parse(client.Get("/api/v1/probe-a/dialect")->body)["rows"] ==
        nlohmann::json{{backend.name()}});
  // A reload runs the migrations again: nothing to do, the data stays.
  REQUIRE(f.host->reload("probe-a").ok);
  CHECK(nlohmann::json::parse(client.Get("/api/v1/probe-a/hits?who=kim")->body)["rows"] ==
        nlohmann::json::parse("[[2]]"));
}

TEST_CASE("a plugin's malformed migrations are refused naming the field, and nothing runs", "[plugins][database]") {
  Fixture f;
  f.write_manifest("probe-a.yaml", manifest("probe-a", "libplexus_test_probe_a.so", "config:\n  database: \"yes\"\n"));
  f.host->start();
  REQUIRE(f.plugin("probe-a")["state"] == "running");
  auto client = f.client();
  const auto refusal = [&client](const std::string& migrations) {
    const auto response = client.Post("/api/v1/probe-a/migrate", migrations, "application/json");
    REQUIRE(response);
    CHECK(response->status == 400);
    return nlohmann::json::parse(response->body)["message"].get<std::string>();
  };
  // One dialect alone would leave the other database without the table.
  CHECK(refusal(R"j([{"version":3,"sqlite":["CREATE TABLE probe_a_one (x TEXT)"]}])j") ==
        R"(db_migrate: migration 3 needs "statements", or both "sqlite" and "postgresql")");
  CHECK(refusal(R"j([{"version":3,"statements":"CREATE TABLE probe_a_one (x TEXT)"}])j") ==
        R"(db_migrate: migration 3: "statements" must be an array of strings)");
  CHECK(refusal(R"([{"version":3,"statements":[],"postgresql":{"a":1}}])") ==
        R"(db_migrate: migration 3: "postgresql" must be an array of strings)");
  CHECK(refusal(R"([{"version":3,"sqlite":[42],"postgresql":[]}])") ==
        "db_migrate: migration 3: statements must be strings");
  CHECK(refusal(R"([{"statements":[]}])") == R"(db_migrate: each migration needs an integer "version")");
  CHECK(refusal(R"([{"version":3,"description":7,"statements":[]}])") ==
        R"(db_migrate: migration 3: "description" must be a string)");
  CHECK(plexus::store::schema_version(f.database, "plugin:probe-a") == 2);
  CHECK(client.Get("/api/v1/probe-a/hits?who=kim")->status == 200);  // still serving
}

TEST_CASE("tools follow their plugin's generation and run with the caller's permissions", "[plugins][tools]") {
  Fixture f;
  const auto release = f.dir.path() / "release";
  f.write_manifest("probe-a.yaml", manifest("probe-a", "libplexus_test_probe_a.so",
                                            "config:\n  tools: \"yes\"\n  release_file: " + release.string() + "\n"));
  f.host->start();
  REQUIRE(f.plugin("probe-a")["state"] == "running");
  const auto whoami = f.host->tools().find("probe-a.whoami");
  REQUIRE(whoami);
  CHECK(whoami->owner == "probe-a");
  CHECK(whoami->sees_caller);
  CHECK(f.host->tools().find("probe-a.old")->permission == "tools.execute:probe-a.old");
  CHECK_FALSE(f.host->tools().find("probe-a.old")->sees_caller);

  plexus::auth::Caller kim;
  kim.kind = plexus::auth::CallerKind::user;
  kim.tenant = "acme";
  kim.name = "kim";
  kim.grants = {"probe.secret.use"};
  using Outcome = plexus::plugins::ToolCall::Outcome;
  auto seen = f.host->call_tool(kim, "probe-a.whoami", R"({"n":1})", 5s, "test");
  REQUIRE(seen.outcome == Outcome::ok);
  CHECK(nlohmann::json::parse(seen.output)["tenant"] == "acme");
  CHECK(f.host->call_tool(kim, "probe-a.guarded", "{}", 5s, "test").outcome == Outcome::ok);
  CHECK(f.host->call_tool(kim, "probe-a.old", "{}", 5s, "test").outcome == Outcome::denied);
  kim.grants.push_back("tools.execute");
  CHECK(f.host->call_tool(kim, "probe-a.old", "{}", 5s, "test").outcome == Outcome::ok);
  const auto invalid = f.host->call_tool(kim, "probe-a.whoami", R"({"n":[]})", 5s, "test");
  CHECK(invalid.outcome == Outcome::invalid);
  CHECK(invalid.details["field"] == "/n");
  plexus::auth::Caller nobody;
  CHECK(f.host->call_tool(nobody, "probe-a.whoami", "{}", 5s, "test").outcome == Outcome::denied);

  // A timed-out call's late answer lands nowhere; the generation drains once it returns.
  CHECK(f.host->call_tool(kim, "probe-a.slow", "{}", 50ms, "test").outcome == Outcome::timeout);
  { std::ofstream(release) << "go"; }
  REQUIRE(f.host->reload("probe-a").ok);
  CHECK(f.host->tools().find("probe-a.whoami")->owner == "probe-a");
  CHECK(f.host->call_tool(kim, "probe-a.whoami", "{}", 5s, "test").outcome == Outcome::ok);
  REQUIRE(f.host->disable("probe-a").ok);
  CHECK_FALSE(f.host->tools().find("probe-a.whoami"));
  CHECK(f.host->call_tool(kim, "probe-a.whoami", "{}", 5s, "test").outcome == Outcome::not_found);
  CHECK(f.registry.counter("plexus_tool_calls_total", "", {"tool", "outcome"})
            .with({"probe-a.slow", "timeout"})
            .value() == 1);
}
