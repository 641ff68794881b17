// The leader lease and the node heartbeats, on SQLite and PostgreSQL
// (tests/support/postgres_db.hpp), with a clock the test moves by hand.
#include "kernel/jobs/leader_lease.hpp"

#include <chrono>
#include <latch>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <soci/soci.h>

#include "kernel/jobs/node_registry.hpp"
#include "tests/support/postgres_db.hpp"
#include "tests/support/test_support.hpp"
#include "tests/unit/manual_clock.hpp"

using namespace std::chrono_literals;
using plexus::jobs::LeaderLease;
using plexus::jobs::NodeRegistry;
using plexus::store::Database;
using plexus::store::DatabaseOptions;

namespace {

struct Fixture {
  plexus::test::StoreBackend backend;
  plexus::test::TempDir dir;
  std::string url = backend.fresh_url(dir);
  Database database{DatabaseOptions{url}};
  plexus::test::ManualClock time;
};

}  // namespace

TEST_CASE("one node holds the lease until it expires, then another takes over with a higher token") {
  Fixture f;
  LeaderLease lease(f.database, "kernel", f.time.clock());

  const auto a = lease.try_acquire_or_renew("node-a", 10s);
  CHECK(a.leader);
  CHECK(a.holder == "node-a");
  CHECK(a.token == 1);
  CHECK(a.expires_at == f.time.now() + 10s);

  const auto b = lease.try_acquire_or_renew("node-b", 10s);
  CHECK_FALSE(b.leader);
  CHECK(b.holder == "node-a");
  CHECK(b.token == 1);

  // Renewing keeps the term (same token) and pushes the expiry out.
  f.time.advance(8s);
  const auto renewed = lease.try_acquire_or_renew("node-a", 10s);
  CHECK(renewed.leader);
  CHECK(renewed.token == 1);
  CHECK(renewed.expires_at == f.time.now() + 10s);

  f.time.advance(9999ms);
  CHECK_FALSE(lease.try_acquire_or_renew("node-b", 10s).leader);

  // node-a stopped renewing: at the expiry node-b takes over in a new term.
  f.time.advance(1ms);
  const auto takeover = lease.try_acquire_or_renew("node-b", 10s);
  CHECK(takeover.leader);
  CHECK(takeover.holder == "node-b");
  CHECK(takeover.token == 2);

  const auto late = lease.try_acquire_or_renew("node-a", 10s);
  CHECK_FALSE(late.leader);
  CHECK(late.holder == "node-b");
  CHECK(late.token == 2);

  const auto seen_by_a = lease.current("node-a");
  CHECK_FALSE(seen_by_a.leader);
  CHECK(seen_by_a.holder == "node-b");
  CHECK(lease.current("node-b").leader);
}

TEST_CASE("a released lease is free at once and the next term gets a new token") {
  Fixture f;
  LeaderLease lease(f.database, "kernel", f.time.clock());
  REQUIRE(lease.try_acquire_or_renew("node-a", 1h).leader);

  CHECK_FALSE(lease.release("node-b"));  // only the holder can release
  CHECK(lease.current("node-a").leader);

  CHECK(lease.release("node-a"));
  const auto free = lease.current("node-a");
  CHECK_FALSE(free.leader);
  CHECK(free.holder.empty());
  CHECK(free.token == 1);

  const auto b = lease.try_acquire_or_renew("node-b", 1h);
  CHECK(b.leader);
  CHECK(b.token == 2);
  // Even the same node starts a new term after giving the lease up.
  REQUIRE(lease.release("node-b"));
  CHECK(lease.try_acquire_or_renew("node-b", 1h).token == 3);
}

TEST_CASE("leases of different names are independent") {
  Fixture f;
  LeaderLease kernel(f.database, "kernel", f.time.clock());
  LeaderLease reports(f.database, "reports", f.time.clock());
  CHECK(kernel.try_acquire_or_renew("node-a", 10s).leader);
  CHECK(reports.try_acquire_or_renew("node-b", 10s).leader);
  CHECK_FALSE(kernel.try_acquire_or_renew("node-b", 10s).leader);
}

TEST_CASE("nodes asking at the same moment through their own connection pools elect exactly one leader") {
  Fixture f;
  LeaderLease migrated(f.database, "kernel", f.time.clock());  // the schema first, not raced for below
  constexpr int kNodes = 6;
  std::vector<std::unique_ptr<Database>> databases;
  for (int i = 0; i < kNodes; ++i) {
    databases.push_back(std::make_unique<Database>(DatabaseOptions{.url = f.url, .pool_size = 1}));
  }
  std::vector<plexus::jobs::LeaseStatus> results(kNodes);
  std::latch start(kNodes);
  std::vector<std::thread> nodes;
  for (int i = 0; i < kNodes; ++i) {
    nodes.emplace_back([&, i] {
      LeaderLease lease(*databases[i], "kernel", f.time.clock());
      start.arrive_and_wait();
      results[i] = lease.try_acquire_or_renew("node-" + std::to_string(i), 30s);
    });
  }
  for (auto& node : nodes) node.join();

  int leaders = 0;
  std::set<std::string> holders;
  for (const auto& result : results) {
    leaders += result.leader ? 1 : 0;
    holders.insert(result.holder);
    CHECK(result.token == 1);
  }
  CHECK(leaders == 1);
  CHECK(holders.size() == 1);
}

TEST_CASE("the lease rejects an empty node id and a ttl that is not positive") {
  Fixture f;
  LeaderLease lease(f.database, "kernel", f.time.clock());
  CHECK_THROWS_AS(lease.try_acquire_or_renew("", 10s), std::invalid_argument);
  CHECK_THROWS_AS(lease.try_acquire_or_renew("node-a", 0s), std::invalid_argument);
}

TEST_CASE("the database clock of PostgreSQL is the server's, readable on both backends") {
  Fixture f;
  soci::session sql(f.database.pool());
  const auto server = plexus::jobs::database_now(sql);
  // Same host here: the server's clock agrees with ours to well within a minute.
  CHECK(std::chrono::abs(server - std::chrono::system_clock::now()) < 1min);
}

TEST_CASE("node heartbeats record last seen and info, and nodes_seen lists the recent ones") {
  Fixture f;
  NodeRegistry nodes(f.database, f.time.clock());
  const auto start = f.time.now();
  nodes.heartbeat("node-a", {{"address", "10.0.0.1:8080"}, {"version", "0.9.0"}});
  f.time.advance(5s);
  nodes.heartbeat("node-b", {{"address", "10.0.0.2:8080"}});
  f.time.advance(5s);
  nodes.heartbeat("node-a", {{"address", "10.0.0.1:8080"}, {"version", "0.9.1"}});

  const auto all = nodes.nodes_seen(start);
  REQUIRE(all.size() == 2);
  CHECK(all[0].node_id == "node-a");
  CHECK(all[0].first_seen == start);
  CHECK(all[0].last_seen == start + 10s);
  CHECK(all[0].info["version"] == "0.9.1");
  CHECK(all[1].node_id == "node-b");
  CHECK(all[1].last_seen == start + 5s);

  const auto recent = nodes.nodes_seen(start + 6s);
  REQUIRE(recent.size() == 1);
  CHECK(recent[0].node_id == "node-a");

  CHECK_THROWS_AS(nodes.heartbeat("", {}), std::invalid_argument);
  CHECK_THROWS_AS(nodes.heartbeat("node-c", nlohmann::json::array()), std::invalid_argument);
}
