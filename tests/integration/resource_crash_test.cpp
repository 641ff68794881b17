// Issue 5: kill -9 during a burst of resource writes, restart on the same data:
// every acknowledged revision is there with the content it was acknowledged with,
// each resource's revisions run 1..N without a gap, each revision has its audit
// row, the audit chain verifies and (SQLite) the database file passes
// integrity_check and foreign_key_check. On SQLite and PostgreSQL.
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <soci/soci.h>

#include "kernel/store/database.hpp"
#include "tests/support/plexusd_process.hpp"
#include "tests/support/postgres_db.hpp"

using namespace std::chrono_literals;
using nlohmann::json;
using plexus::test::bearer;

namespace {

// The kernel's own kind; its "sqlite" driver comes from the connector plugin.
constexpr const char* kKind = "datasource";
constexpr int kWriters = 4;
constexpr int kResourcesPerWriter = 3;
constexpr int kAcknowledgedBeforeKill = 240;

json content_of(const std::string& id, int n) {
  return {{"driver", "sqlite"},
          {"path", "/tmp/crash-" + id + "-" + std::to_string(n) + ".db"},
          {"read_only", true}};
}

// A manifests directory with the sqlite connector, enabled.
std::string manifests_with_sqlite_connector(const plexus::test::TempDir& dir) {
  dir.write(
      "connector-sqlite.yaml",
      "name: connector-sqlite\nlibrary: libplexus_connector_sqlite.so\nversion: \"*\"\nenabled: true\n");
  return dir.path().string();
}

struct Acknowledged {
  std::string id;
  std::int64_t revision = 0;
  json content;
};

// One client writing its own resources round-robin (so its If-Match is always
// current) until a request goes unanswered: from then on plexusd is dead. Its
// state is read only after its thread is joined.
class Writer {
 public:
  Writer(int port, std::string token, int number) : client_("127.0.0.1", port), token_(std::move(token)) {
    client_.set_read_timeout(10);
    for (int i = 0; i < kResourcesPerWriter; ++i)
      ids_.push_back("w" + std::to_string(number) + "-r" + std::to_string(i));
  }

  // Writes until plexusd stops answering; anything but a 2xx before that is an error.
  void run(std::atomic<int>& total) {
    for (int n = 0;; ++n) {
      const auto& id = ids_[static_cast<std::size_t>(n) % ids_.size()];
      const auto content = content_of(id, n);
      const auto revision = revisions_[id];
      const auto result = write(id, content, revision);
      if (!result) return;  // killed: this write may or may not have been committed
      if (result->status / 100 != 2) {
        error_ = id + ": " + std::to_string(result->status) + " " + result->body;
        return;
      }
      const auto written = json::parse(result->body)["revision"].get<std::int64_t>();
      revisions_[id] = written;
      acknowledged_.push_back({id, written, content});
      ++total;
    }
  }

  const std::vector<Acknowledged>& acknowledged() const { return acknowledged_; }
  const std::vector<std::string>& ids() const { return ids_; }
  // The refused write that stopped it, if one did.
  const std::string& error() const { return error_; }

 private:
  // Revision 1 by POST, later ones by PUT with If-Match.
  httplib::Result write(const std::string& id, const json& content, std::int64_t revision) {
    auto headers = bearer(token_);
    const std::string collection = std::string("/api/v1/resources/") + kKind;
    if (revision == 0) {
      const json body{{"id", id}, {"content", content}, {"reason", "burst"}};
      return client_.Post(collection, headers, body.dump(), "application/json");
    }
    headers.emplace("If-Match", "\"" + std::to_string(revision) + "\"");
    const json body{{"content", content}, {"reason", "burst"}};
    return client_.Put(collection + "/" + id, headers, body.dump(), "application/json");
  }

  httplib::Client client_;
  std::string token_;
  std::vector<std::string> ids_;
  std::map<std::string, std::int64_t> revisions_;
  std::vector<Acknowledged> acknowledged_;
  std::string error_;
};

json get_json(httplib::Client& client, const std::string& token, const std::string& path) {
  auto response = client.Get(path, bearer(token));
  REQUIRE(response);
  INFO(path << " -> " << response->status << " " << response->body);
  REQUIRE(response->status == 200);
  return json::parse(response->body);
}

}  // namespace

TEST_CASE("kill -9 during a burst of writes loses no acknowledged revision", "[resources][crash]") {
  plexus::test::StoreBackend backend;
  plexus::test::TempDir manifests, databases;
  const auto url = backend.fresh_url(databases);
  plexus::test::Plexusd plexus({{"PLEXUS_STORE__URL", url}, {"PLEXUS_PLUGINS__WATCH", "false"}},
                               {"--manifests", manifests_with_sqlite_connector(manifests)});

  std::vector<std::unique_ptr<Writer>> writers;
  {
    const auto token = plexus.admin_token();
    for (int i = 0; i < kWriters; ++i) writers.push_back(std::make_unique<Writer>(plexus.port, token, i));
  }
  std::atomic<int> total{0}, writing{kWriters};
  std::vector<std::thread> threads;
  for (auto& writer : writers) {
    threads.emplace_back([&writer, &total, &writing] {
      writer->run(total);
      --writing;
    });
  }
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (total < kAcknowledgedBeforeKill && writing == kWriters &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  plexus.kill();
  for (auto& thread : threads) thread.join();
  for (const auto& writer : writers) {
    INFO("refused: " << writer->error());
    REQUIRE(writer->error().empty());
  }
  REQUIRE(total >= kAcknowledgedBeforeKill);

  plexus.restart();
  const auto admin = plexus.admin_token();
  auto client = plexus.client();
  const std::string base = std::string("/api/v1/resources/") + kKind + "/";
  for (const auto& writer : writers) {
    std::map<std::string, std::int64_t> last_acknowledged;
    for (const auto& ack : writer->acknowledged()) last_acknowledged[ack.id] = ack.revision;
    for (const auto& id : writer->ids()) {
      INFO(id);
      const auto current = get_json(client, admin, base + id)["revision"].get<std::int64_t>();
      // A write in flight at the kill may have been committed without its answer.
      CHECK(current >= last_acknowledged[id]);
      const auto revisions = get_json(client, admin, base + id + "/revisions?limit=1000");
      std::vector<std::int64_t> numbers, expected;
      for (const auto& item : revisions["items"]) numbers.push_back(item["revision"].get<std::int64_t>());
      for (auto n = current; n >= 1; --n) expected.push_back(n);
      CHECK(numbers == expected);
      const auto audit =
          get_json(client, admin, "/api/v1/admin/audit?limit=1000&target=" + std::string(kKind) + "/" + id);
      std::size_t writes = 0;
      for (const auto& row : audit["items"])
        writes += row["action"] == "resource.create" || row["action"] == "resource.update" ? 1 : 0;
      CHECK(writes == static_cast<std::size_t>(current));
    }
    for (const auto& ack : writer->acknowledged()) {
      INFO(ack.id << " revision " << ack.revision);
      const auto revision =
          get_json(client, admin, base + ack.id + "/revisions/" + std::to_string(ack.revision));
      CHECK(revision["content"] == ack.content);
    }
  }
  const auto verified = get_json(client, admin, "/api/v1/admin/audit/verify");
  INFO(verified.dump());
  CHECK(verified["ok"] == true);

  REQUIRE(plexus.stop() == 0);
  if (backend.name() == "sqlite") {
    plexus::store::Database database({.url = url, .pool_size = 1});
    soci::session sql(database.pool());
    std::string integrity;
    sql << "PRAGMA integrity_check", soci::into(integrity);
    CHECK(integrity == "ok");
    int foreign_key_problems = 0;
    soci::rowset<soci::row> problems = sql.prepare << "PRAGMA foreign_key_check";
    for (auto it = problems.begin(); it != problems.end(); ++it) ++foreign_key_problems;
    CHECK(foreign_key_problems == 0);
  }
}
