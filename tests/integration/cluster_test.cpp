// Two plexusd processes on one PostgreSQL (issue 6, leader election): exactly one
// holds the leader lease, both see each other, and when the leader is killed with
// SIGKILL the other takes over once the lease expires, with a higher fencing token.
// A singleton schedule fires each tick exactly once across both nodes, through the kill.
#include <chrono>
#include <set>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "kernel/store/clock.hpp"
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

namespace {

// The scheduled_for of every job the schedule enqueued, oldest first (a kind nobody handles:
// the jobs stay queued and are only counted).
std::vector<std::string> fire_times(const Plexusd& node, const std::string& token) {
  auto response = node.client().Get("/api/v1/jobs?kind=cluster.tick&limit=1000", bearer(token));
  REQUIRE(response);
  REQUIRE(response->status == 200);
  std::vector<std::string> times;
  const auto body = json::parse(response->body);
  for (const auto& job : body["items"]) times.push_back(job["payload"]["scheduled_for"]);
  std::reverse(times.begin(), times.end());
  return times;
}

// No duplicates, and one fire time for every second from the first to the last.
void check_exactly_once(const std::vector<std::string>& times) {
  INFO(json(times).dump());
  const std::set<std::string> distinct(times.begin(), times.end());
  CHECK(distinct.size() == times.size());
  REQUIRE_FALSE(distinct.empty());
  const auto first = *plexus::store::parse_time(*distinct.begin());
  const auto last = *plexus::store::parse_time(*distinct.rbegin());
  CHECK(static_cast<std::size_t>(std::chrono::duration_cast<std::chrono::seconds>(last - first).count()) + 1 ==
        distinct.size());
}

}  // namespace

TEST_CASE("a singleton schedule fires each tick exactly once across two nodes, through a kill -9", "[cluster]") {
  plexus::test::TempDir dir;
  const auto url = plexus::test::fresh_store_url("postgresql", dir);
  auto env = [&url](const std::string& node) {
    return std::map<std::string, std::string>{{"PLEXUS_STORE__URL", url},
                                              {"PLEXUS_CLUSTER__NODE_ID", node},
                                              {"PLEXUS_CLUSTER__LEASE_TTL", "2s"},
                                              {"PLEXUS_SCHEDULES__TICK", "200ms"},
                                              // Ticks missed during the takeover go through the policy.
                                              {"PLEXUS_SCHEDULES__MISFIRE_THRESHOLD", "500ms"},
                                              {"PLEXUS_PLUGINS__WATCH", "false"}};
  };
  Plexusd a(env("node-a"));
  Plexusd b(env("node-b"));
  const auto token_a = a.admin_token();
  const auto token_b = b.admin_token();
  std::string leader;
  REQUIRE(eventually([&] {
    const auto seen = cluster_of(a, token_a);
    if (seen["leader"].is_null()) return false;
    leader = seen["leader"]["node_id"];
    return true;
  }));

  // run_all: ticks missed while no node leads (after the kill) are caught up, so none is lost.
  const json spec = {{"expression", "@every 1s"}, {"job_kind", "cluster.tick"}, {"missed_runs", "run_all"}};
  auto made = a.client().Put("/api/v1/schedules/heartbeat", bearer(token_a), spec.dump(), "application/json");
  REQUIRE(made);
  REQUIRE(made->status == 201);

  // Both nodes tick five times a second; each fire time is enqueued once.
  REQUIRE(eventually([&] { return fire_times(b, token_b).size() >= 6; }));
  check_exactly_once(fire_times(b, token_b));

  // Kill the leader; the survivor takes the lease and continues where the schedule stood.
  auto& dead = leader == "node-a" ? a : b;
  auto& survivor = leader == "node-a" ? b : a;
  const auto& survivor_token = leader == "node-a" ? token_b : token_a;
  const auto before_kill = fire_times(survivor, survivor_token).size();
  dead.kill();
  REQUIRE(eventually([&] { return cluster_of(survivor, survivor_token)["this_node_leads"].get<bool>(); }));
  REQUIRE(eventually([&] { return fire_times(survivor, survivor_token).size() >= before_kill + 6; }));
  check_exactly_once(fire_times(survivor, survivor_token));
  CHECK(survivor.stop() == 0);
}
