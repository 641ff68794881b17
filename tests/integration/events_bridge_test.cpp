// Events between two plexusd nodes through one Redis stream (issue 6): an event POSTed
// on node A reaches an event-stream client on node B exactly once, key and payload
// intact; an event published on B reaches B's clients once (never echoed back by the
// bridge) and A's too; local.* topics stay home; with Redis gone, A keeps serving and
// publishing, counts the bridge errors, and shuts down cleanly.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/event_stream.hpp"
#include "tests/support/plexusd_process.hpp"
#include "tests/support/redis_server.hpp"

using nlohmann::json;
using plexus::test::bearer;
using plexus::test::Plexusd;
using plexus::test::StreamClient;

namespace {

constexpr auto kDeadline = std::chrono::seconds(60);  // only keeps a broken build from hanging

template <class Condition>
bool eventually(Condition&& done) {
  const auto deadline = std::chrono::steady_clock::now() + kDeadline;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

int publish(const Plexusd& node, const std::string& token, const json& body) {
  auto response = node.client().Post("/api/v1/admin/events", bearer(token), body.dump(), "application/json");
  REQUIRE(response);
  INFO(response->body);
  return response->status;
}

std::string metrics_of(const Plexusd& node) {
  auto response = node.client().Get("/metrics");
  REQUIRE(response);
  return response->body;
}

// The first sample of `series` (name with labels), or -1.
double sample(const std::string& text, const std::string& series) {
  const auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

std::size_t count_key(const std::vector<json>& events, const std::string& key) {
  return static_cast<std::size_t>(
      std::count_if(events.begin(), events.end(), [&](const json& e) { return e["key"] == key; }));
}

}  // namespace

TEST_CASE("two nodes share events through Redis: once each, no echo, and A survives Redis going away",
          "[events][redis][cluster]") {
  auto redis = plexus::test::RedisServer::start();
  if (!redis) return;
  auto env = [&](const std::string& node) {
    return std::map<std::string, std::string>{{"PLEXUS_EVENTS__REDIS__URL", redis->url()},
                                              {"PLEXUS_EVENTS__REDIS__STREAM", "plexus:test-events"},
                                              {"PLEXUS_CLUSTER__NODE_ID", node},
                                              {"PLEXUS_PLUGINS__WATCH", "false"}};
  };
  Plexusd a(env("node-a"));
  Plexusd b(env("node-b"));
  const auto token_a = a.admin_token();
  const auto token_b = b.admin_token();

  // Both readers are on the stream, so nothing appended from now on is missed.
  const std::string receiving = "plexus_events_bridge_connected{direction=\"receive\"}";
  REQUIRE(eventually(
      [&] { return sample(metrics_of(a), receiving) == 1 && sample(metrics_of(b), receiving) == 1; }));

  std::optional<StreamClient> stream_a, stream_b, stream_all_b;
  auto& on_a = stream_a.emplace(a, token_a, ">");
  auto& on_b = stream_b.emplace(b, token_b, "orders.>");
  auto& everything_on_b = stream_all_b.emplace(b, token_b, ">");
  REQUIRE(on_a.ready());
  REQUIRE(on_b.ready());
  REQUIRE(everything_on_b.ready());

  // A -> B, key and payload intact, exactly once. The marker, published after it, arrives
  // after it (one stream, one reader, one lane): a duplicate would have come before.
  const json payload{{"id", 42}, {"note", "caf\u00e9 \"quoted\"\nline two"}, {"items", {1, 2, 3}}};
  REQUIRE(publish(a, token_a, {{"topic", "orders.created"}, {"key", "order-42"}, {"payload", payload}}) ==
          202);
  REQUIRE(publish(a, token_a,
                  {{"topic", "orders.marker"}, {"key", "marker-a"}, {"payload", json::object()}}) == 202);
  auto seen_b = on_b.until_key("marker-a");
  INFO(json(seen_b).dump());
  REQUIRE(count_key(seen_b, "order-42") == 1);
  const auto& received =
      *std::find_if(seen_b.begin(), seen_b.end(), [](const json& e) { return e["key"] == "order-42"; });
  CHECK(received["topic"] == "orders.created");
  CHECK(received["payload"] == payload);
  CHECK(received["origin"] == "node-a");

  // B -> B and A, once each: B's own event is not read back from the stream.
  REQUIRE(publish(b, token_b, {{"topic", "orders.shipped"}, {"key", "order-7"}, {"payload", {{"id", 7}}}}) ==
          202);
  REQUIRE(publish(b, token_b,
                  {{"topic", "orders.marker"}, {"key", "marker-b"}, {"payload", json::object()}}) == 202);
  seen_b = on_b.until_key("marker-b");
  CHECK(count_key(seen_b, "order-7") == 1);
  const auto seen_a = on_a.until_key("marker-b");
  INFO(json(seen_a).dump());
  CHECK(count_key(seen_a, "order-7") == 1);
  CHECK(count_key(seen_a, "order-42") == 1);  // A's own, delivered locally only

  // local.* stays on A.
  REQUIRE(publish(a, token_a,
                  {{"topic", "local.cache.flush"}, {"key", "local-1"}, {"payload", json::object()}}) == 202);
  REQUIRE(publish(a, token_a,
                  {{"topic", "orders.marker"}, {"key", "marker-c"}, {"payload", json::object()}}) == 202);
  CHECK(count_key(everything_on_b.until_key("marker-c"), "local-1") == 0);
  CHECK(count_key(on_a.until_key("local-1"), "local-1") == 1);

  // Bad input names the field.
  auto bad = a.client().Post("/api/v1/admin/events", bearer(token_a),
                             R"({"topic":"Not A Topic","payload":1})", "application/json");
  REQUIRE(bad);
  CHECK(bad->status == 400);
  CHECK(json::parse(bad->body)["error"]["details"]["field"] == "topic");
  bad = a.client().Post("/api/v1/admin/events", bearer(token_a), R"({"topic":"a.b"})", "application/json");
  CHECK(json::parse(bad->body)["error"]["details"]["field"] == "payload");
  auto bad_pattern = a.client().Get("/api/v1/admin/events/stream?pattern=a.>.b", bearer(token_a));
  REQUIRE(bad_pattern);
  CHECK(bad_pattern->status == 400);
  CHECK(json::parse(bad_pattern->body)["error"]["details"]["field"] == "pattern");

  // Redis goes away: A still serves, still publishes locally, and counts what it could not send.
  redis->stop();
  REQUIRE(publish(a, token_a,
                  {{"topic", "orders.created"}, {"key", "order-43"}, {"payload", {{"id", 43}}}}) == 202);
  CHECK(count_key(on_a.until_key("order-43"), "order-43") == 1);
  REQUIRE(eventually([&] {
    publish(a, token_a, {{"topic", "orders.created"}, {"key", "more"}, {"payload", json::object()}});
    const auto text = metrics_of(a);
    return sample(text, "plexus_events_bridge_unsent_total") > 0 &&
           sample(text, "plexus_events_bridge_errors_total{direction=\"receive\"}") > 0;
  }));
  auto health = a.client().Get("/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);
  auto cluster = a.client().Get("/api/v1/admin/cluster", bearer(token_a));
  REQUIRE(cluster);
  CHECK(cluster->status == 200);
  stream_a.reset();  // the clients go first, so no stream holds a shutdown up
  stream_b.reset();
  stream_all_b.reset();
  CHECK(a.stop() == 0);
  CHECK(b.stop() == 0);
  // The password never reached a log (the suite's log scan checks every file too).
  CHECK(a.output().find(redis->url()) == std::string::npos);
}
