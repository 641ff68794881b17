// Two plexusd processes on one PostgreSQL (issue 6, leader election): exactly one
// holds the leader lease, both see each other, and when the leader is killed with
// SIGKILL the other takes over once the lease expires, with a higher fencing token.
#include <chrono>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/plexusd_process.hpp"
#include "tests/support/postgres_db.hpp"

using nlohmann::json;
using plexus::test::bearer;
using plexus::test::Plexusd;

namespace {

json cluster_of(const Plexusd& node, const std::string& token) {
  auto response = node.client().Get("/api/v1/admin/cluster", bearer(token));
  REQUIRE(response);
  REQUIRE(response->status == 200);
  return json::parse(response->body);
}

// Polls until `done` holds; the deadline only keeps a broken build from hanging.
template <class Condition>
bool eventually(Condition&& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

}  // namespace

TEST_CASE("two nodes on one PostgreSQL elect one leader, and the other takes over when it dies", "[cluster]") {
  plexus::test::TempDir dir;
  const auto url = plexus::test::fresh_store_url("postgresql", dir);
  auto env = [&url](const std::string& node) {
    return std::map<std::string, std::string>{{"PLEXUS_STORE__URL", url},
                                              {"PLEXUS_CLUSTER__NODE_ID", node},
                                              {"PLEXUS_CLUSTER__LEASE_TTL", "2s"},
                                              {"PLEXUS_PLUGINS__WATCH", "false"}};
  };
  Plexusd a(env("node-a"));
  Plexusd b(env("node-b"));
  const auto token_a = a.admin_token();
  const auto token_b = b.admin_token();

  // Both agree on one leader, each sees the other, and exactly one says it leads.
  json seen_a, seen_b;
  REQUIRE(eventually([&] {
    seen_a = cluster_of(a, token_a);
    seen_b = cluster_of(b, token_b);
    return !seen_a["leader"].is_null() && seen_a["leader"] == seen_b["leader"] && seen_a["nodes"].size() == 2 &&
           seen_b["nodes"].size() == 2;
  }));
  INFO(seen_a.dump() << "\n" << seen_b.dump());
  CHECK(seen_a["this_node_leads"].get<bool>() != seen_b["this_node_leads"].get<bool>());
  CHECK(seen_a["node_id"] == "node-a");
  const auto leader = seen_a["leader"]["node_id"].get<std::string>();
  const auto first_token = seen_a["leader"]["token"].get<std::int64_t>();

  // SIGKILL the leader: no release, so the survivor waits out the lease and takes over.
  auto& dead = leader == "node-a" ? a : b;
  auto& survivor = leader == "node-a" ? b : a;
  const auto& survivor_token = leader == "node-a" ? token_b : token_a;
  dead.kill();
  json after;
  REQUIRE(eventually([&] {
    after = cluster_of(survivor, survivor_token);
    return after["this_node_leads"].get<bool>();
  }));
  INFO(after.dump());
  CHECK(after["leader"]["node_id"] != leader);
  CHECK(after["leader"]["token"].get<std::int64_t>() > first_token);
  CHECK(survivor.stop() == 0);
}
