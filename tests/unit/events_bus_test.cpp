// The event bus (issue 6): synchronous and queued subscriptions, overflow policies with
// their counts, per-key order across lanes under concurrent publishers, unsubscribing
// from inside a handler, throwing handlers, destruction with events queued, metrics.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "kernel/events/bus.hpp"
#include "kernel/metrics/registry.hpp"

using plexus::events::Bus;
using plexus::events::Event;
using plexus::events::Overflow;
using plexus::events::SubscriptionOptions;

namespace {

// A door handlers wait at until the test opens it.
class Gate {
 public:
  void wait() {
    std::unique_lock lock(mutex_);
    ++waiting_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return open_; });
  }
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }
  // Blocks until someone waits at the gate (a generous deadline only guards a broken build).
  bool someone_waiting() {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(30), [&] { return waiting_ > 0; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool open_ = false;
  int waiting_ = 0;
};

// A list handlers append to from any thread.
class Received {
 public:
  void add(std::string item) {
    std::lock_guard lock(mutex_);
    items_.push_back(std::move(item));
    changed_.notify_all();
  }
  std::vector<std::string> items() {
    std::lock_guard lock(mutex_);
    return items_;
  }
  bool wait_for_count(std::size_t count) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(30), [&] { return items_.size() >= count; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> items_;
};

template <class Condition>
bool eventually(Condition&& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return done();
}

SubscriptionOptions queued(std::size_t capacity, Overflow overflow, std::string name = "test",
                           std::size_t lanes = 1) {
  SubscriptionOptions options;
  options.queue_capacity = capacity;
  options.overflow = overflow;
  options.lanes = lanes;
  options.name = std::move(name);
  return options;
}

}  // namespace

TEST_CASE("synchronous subscriptions match patterns and run on the publisher's thread", "[events]") {
  Bus bus;
  std::vector<std::string> seen;
  const auto caller = std::this_thread::get_id();
  bool same_thread = true;
  bus.subscribe("cmdb.*", [&](std::string_view topic, std::string_view payload) {
    same_thread = same_thread && std::this_thread::get_id() == caller;
    seen.push_back("one:" + std::string(topic) + "=" + std::string(payload));
  });
  const auto deep = bus.subscribe(
      "cmdb.>",
      [&](std::string_view topic, std::string_view) { seen.push_back("deep:" + std::string(topic)); },
      "plugin-a");
  CHECK(bus.publish("cmdb.ci", "1") == 2);
  CHECK(bus.publish("cmdb.ci.changed", "2") == 1);
  CHECK(bus.publish("other", "3") == 0);
  CHECK(same_thread);
  CHECK(seen == std::vector<std::string>{"one:cmdb.ci=1", "deep:cmdb.ci", "deep:cmdb.ci.changed"});
  CHECK(bus.stats(deep)->delivered == 2);
  CHECK(bus.unsubscribe_owner("plugin-a") == 1);
  CHECK_FALSE(bus.unsubscribe(deep));
  CHECK(bus.publish("cmdb.ci.changed", "4") == 0);
  CHECK_THROWS_AS(bus.publish("Bad Topic", "{}"), std::invalid_argument);
  CHECK_THROWS_AS(bus.subscribe("a.>.b", [](std::string_view, std::string_view) {}), std::invalid_argument);
}

TEST_CASE("overflow policies parse and print, and options out of range are refused by name", "[events]") {
  for (auto overflow : {Overflow::block, Overflow::drop_oldest, Overflow::drop_newest}) {
    CHECK(plexus::events::parse_overflow(plexus::events::to_string(overflow)) == overflow);
  }
  CHECK(plexus::events::to_string(Overflow::drop_oldest) == "drop_oldest");
  CHECK_FALSE(plexus::events::parse_overflow("drop"));
  CHECK_FALSE(plexus::events::parse_overflow(""));

  Bus bus;
  auto handler = [](std::string_view, std::string_view) {};
  auto too_big = queued(plexus::events::kMaxQueueCapacity + 1, Overflow::block);
  CHECK_THROWS_WITH(bus.subscribe("a", handler, too_big), Catch::Contains("queue_capacity"));
  auto no_lanes = queued(8, Overflow::block, "x", 0);
  CHECK_THROWS_WITH(bus.subscribe("a", handler, no_lanes), Catch::Contains("lanes"));
  auto many_lanes = queued(8, Overflow::block, "x", plexus::events::kMaxLanes + 1);
  CHECK_THROWS_WITH(bus.subscribe("a", handler, many_lanes), Catch::Contains("lanes"));
  CHECK(bus.subscription_count() == 0);
}

TEST_CASE("block: a publisher waits for room, and unsubscribing releases it", "[events]") {
  Gate gate;
  Received received;
  Bus bus;  // after what its handlers touch, so the lanes end first
  const auto id = bus.subscribe(
      "t",
      [&](std::string_view, std::string_view payload) {
        if (payload == "1") gate.wait();
        received.add(std::string(payload));
      },
      queued(2, Overflow::block));
  CHECK(bus.publish("t", "1") == 1);
  REQUIRE(gate.someone_waiting());  // event 1 is in the handler; the queue is empty
  CHECK(bus.publish("t", "2") == 1);
  CHECK(bus.publish("t", "3") == 1);  // the queue is full now
  CHECK(bus.stats(id)->queued == 2);

  std::atomic<bool> returned{false};
  std::thread publisher([&] {
    bus.publish("t", "4");
    returned = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK_FALSE(returned.load());  // still waiting for room
  gate.open();
  publisher.join();
  REQUIRE(received.wait_for_count(4));
  CHECK(received.items() == std::vector<std::string>{"1", "2", "3", "4"});
  CHECK(bus.stats(id)->dropped == 0);

  // A publisher blocked on a subscription that goes away returns.
  Gate second_gate;
  const auto second = bus.subscribe(
      "u", [&](std::string_view, std::string_view) { second_gate.wait(); },
      queued(1, Overflow::block, "second"));
  bus.publish("u", "a");
  REQUIRE(second_gate.someone_waiting());
  bus.publish("u", "b");  // fills the queue
  std::atomic<std::size_t> taken{99};
  std::thread blocked([&] { taken = bus.publish("u", "c"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::thread unsubscriber([&] { bus.unsubscribe(second); });  // waits for the handler in flight
  blocked.join();                                              // released by the unsubscribe, not by room
  CHECK(taken.load() == 0);
  second_gate.open();
  unsubscriber.join();
  CHECK_FALSE(bus.stats(second));
}

TEST_CASE("drop_oldest keeps the newest N, drop_newest keeps the first N, and both count", "[events]") {
  const auto policy = GENERATE(Overflow::drop_oldest, Overflow::drop_newest);
  INFO(plexus::events::to_string(policy));
  plexus::metrics::Registry registry;
  Gate gate;
  Received received;
  Bus bus(&registry);
  const auto id = bus.subscribe(
      "t",
      [&](std::string_view, std::string_view payload) {
        if (payload == "1") gate.wait();
        received.add(std::string(payload));
      },
      queued(3, policy, "policy-test"));
  bus.publish("t", "1");
  REQUIRE(gate.someone_waiting());
  std::size_t taken = 0;
  for (int i = 2; i <= 11; ++i) taken += bus.publish("t", std::to_string(i));
  CHECK(bus.stats(id)->queued == 3);
  CHECK(bus.stats(id)->dropped == 7);
  gate.open();
  REQUIRE(received.wait_for_count(4));
  if (policy == Overflow::drop_oldest) {
    CHECK(taken == 10);  // each was queued, pushing an older one out
    CHECK(received.items() == std::vector<std::string>{"1", "9", "10", "11"});
  } else {
    CHECK(taken == 3);
    CHECK(received.items() == std::vector<std::string>{"1", "2", "3", "4"});
  }
  REQUIRE(eventually([&] { return bus.stats(id)->delivered == 4; }));
  const std::string policy_name(plexus::events::to_string(policy));
  CHECK(registry.counter("plexus_events_dropped_total", "", {"subscription", "policy"})
            .with({"policy-test", policy_name})
            .value() == 7);
  CHECK(registry.gauge("plexus_events_queue_depth", "", {"subscription"}).with({"policy-test"}).value() == 0);
}

TEST_CASE("events of one key arrive in publish order across lanes, under concurrent publishers", "[events]") {
  constexpr int kPublishers = 4;
  constexpr int kKeysPerPublisher = 25;
  constexpr int kEventsPerKey = 40;
  std::mutex mutex;
  std::map<std::string, std::vector<int>> by_key;
  std::map<std::string, std::set<std::thread::id>> threads_of_key;
  std::atomic<int> delivered{0};
  Bus bus;
  const auto id = bus.subscribe_events(
      "orders.>",
      [&](const Event& event) {
        std::lock_guard lock(mutex);
        by_key[event.key].push_back(std::stoi(event.payload));
        threads_of_key[event.key].insert(std::this_thread::get_id());
        ++delivered;
      },
      queued(16, Overflow::block, "ordering", 4));

  // Each publisher owns its keys, so "publish order" of a key is well defined; the
  // publishers interleave freely with each other.
  std::vector<std::thread> publishers;
  for (int p = 0; p < kPublishers; ++p) {
    publishers.emplace_back([&bus, p] {
      for (int n = 0; n < kEventsPerKey; ++n) {
        for (int k = 0; k < kKeysPerPublisher; ++k) {
          bus.publish("orders.created", std::to_string(n),
                      "key-" + std::to_string(p) + "-" + std::to_string(k));
        }
      }
    });
  }
  for (auto& publisher : publishers) publisher.join();
  const int total = kPublishers * kKeysPerPublisher * kEventsPerKey;
  REQUIRE(eventually([&] { return delivered.load() == total; }));

  std::lock_guard lock(mutex);
  REQUIRE(by_key.size() == static_cast<std::size_t>(kPublishers * kKeysPerPublisher));
  std::set<std::thread::id> lanes_used;
  for (const auto& [key, sequence] : by_key) {
    INFO(key);
    REQUIRE(sequence.size() == static_cast<std::size_t>(kEventsPerKey));
    for (int n = 0; n < kEventsPerKey; ++n) CHECK(sequence[n] == n);
    CHECK(threads_of_key[key].size() == 1);  // one key, one lane
    lanes_used.insert(*threads_of_key[key].begin());
  }
  CHECK(lanes_used.size() > 1);  // 100 keys spread over 4 lanes
  CHECK(lanes_used.size() <= 4);
  CHECK(bus.stats(id)->dropped == 0);
}

TEST_CASE("keyless events all take lane 0, in publish order", "[events]") {
  Received received;
  std::set<std::thread::id> threads;
  std::mutex mutex;
  Bus bus;
  bus.subscribe(
      "t",
      [&](std::string_view, std::string_view payload) {
        {
          std::lock_guard lock(mutex);
          threads.insert(std::this_thread::get_id());
        }
        received.add(std::string(payload));
      },
      queued(8, Overflow::block, "keyless", 4));
  std::vector<std::string> expected;
  for (int i = 0; i < 200; ++i) {
    bus.publish("t", std::to_string(i));
    expected.push_back(std::to_string(i));
  }
  REQUIRE(received.wait_for_count(200));
  CHECK(received.items() == expected);
  CHECK(threads.size() == 1);
}

TEST_CASE("a handler may unsubscribe its own subscription without deadlock", "[events]") {
  // Everything the handlers touch is declared before the bus, so it outlives the lanes.
  SECTION("queued") {
    std::atomic<std::uint64_t> id{0};
    std::atomic<int> calls{0};
    std::atomic<int> removed{0};  // both lanes may try; exactly one removes it
    Gate subscribed;
    Bus bus;
    id = bus.subscribe(
        "t",
        [&](std::string_view, std::string_view) {
          ++calls;
          if (bus.unsubscribe(id.load())) ++removed;
          subscribed.open();
        },
        queued(8, Overflow::block, "self", 2));
    bus.publish("t", "1");
    bus.publish("t", "2", "other-key");
    subscribed.wait();
    // The winner's unsubscribe returns once the other lane is done, then counts.
    REQUIRE(eventually([&] { return removed.load() == 1; }));
    CHECK_FALSE(bus.stats(id.load()));
    CHECK(bus.publish("t", "3") == 0);
    CHECK(calls.load() >= 1);
    CHECK(calls.load() <= 2);  // the other lane may have taken its event before the stop
  }
  SECTION("synchronous") {
    Bus bus;
    std::uint64_t id = 0;
    int calls = 0;
    id = bus.subscribe("t", [&](std::string_view, std::string_view) {
      ++calls;
      CHECK(bus.unsubscribe(id));
    });
    CHECK(bus.publish("t", "1") == 1);
    CHECK(bus.publish("t", "2") == 0);
    CHECK(calls == 1);
  }
  SECTION("the bus goes away while a self-unsubscribed lane finishes") {
    std::atomic<std::uint64_t> id{0};
    Gate done;
    Bus bus;
    id = bus.subscribe(
        "t",
        [&](std::string_view, std::string_view) {
          bus.unsubscribe(id.load());
          done.open();
        },
        queued(8, Overflow::block, "self-late"));
    bus.publish("t", "1");
    done.wait();
  }  // ~Bus joins the lane thread the handler could not join itself
}

TEST_CASE("a throwing handler is counted and its lane goes on", "[events]") {
  plexus::metrics::Registry registry;
  Received received;
  Bus bus(&registry);
  const auto id = bus.subscribe(
      "t",
      [&](std::string_view, std::string_view payload) {
        if (payload == "2") throw std::runtime_error("handler failure");
        if (payload == "3") throw 42;
        received.add(std::string(payload));
      },
      queued(8, Overflow::block, "thrower"));
  for (int i = 1; i <= 5; ++i) bus.publish("t", std::to_string(i));
  REQUIRE(received.wait_for_count(3));
  CHECK(received.items() == std::vector<std::string>{"1", "4", "5"});
  REQUIRE(eventually([&] { return bus.stats(id)->delivered == 5; }));
  CHECK(bus.stats(id)->handler_errors == 2);
  CHECK(registry.counter("plexus_events_handler_errors_total", "", {"subscription"})
            .with({"thrower"})
            .value() == 2);

  // A synchronous handler that throws does not keep the event from the others.
  int after = 0;
  bus.subscribe("s", [](std::string_view, std::string_view) { throw std::runtime_error("sync failure"); });
  bus.subscribe("s", [&](std::string_view, std::string_view) { ++after; });
  CHECK(bus.publish("s", "{}") == 2);
  CHECK(after == 1);
}

TEST_CASE("destroying the bus stops its lanes and counts the events still queued", "[events]") {
  plexus::metrics::Registry registry;
  auto bus = std::make_unique<Bus>(&registry);
  Gate gate;
  std::atomic<int> handled{0};
  bus->subscribe(
      "t",
      [&](std::string_view, std::string_view) {
        gate.wait();
        ++handled;
      },
      queued(10, Overflow::block, "doomed"));
  for (int i = 0; i < 5; ++i) bus->publish("t", std::to_string(i));
  REQUIRE(gate.someone_waiting());  // one in the handler, four queued

  auto& discarded = registry.counter("plexus_events_discarded_total", "", {"subscription"}).with({"doomed"});
  std::thread destroyer([&] { bus.reset(); });  // waits for the handler in flight
  REQUIRE(eventually([&] { return discarded.value() == 4; }));
  gate.open();
  destroyer.join();
  CHECK(handled.load() == 1);
  CHECK(registry.gauge("plexus_events_queue_depth", "", {"subscription"}).with({"doomed"}).value() == 0);
  CHECK(registry.gauge("plexus_events_subscriptions", "").with(std::vector<std::string>{}).value() == 0);
}

TEST_CASE("metrics count published, delivered and dropped events per subscription", "[events]") {
  plexus::metrics::Registry registry;
  Received received;
  Bus bus(&registry);
  bus.subscribe(
      "m.>", [&](std::string_view, std::string_view payload) { received.add(std::string(payload)); },
      queued(100, Overflow::drop_newest, "metered"));
  SubscriptionOptions sync;
  sync.owner = "plugin-x";  // the name defaults to the owner
  bus.subscribe(
      "m.a", [](std::string_view, std::string_view) {}, sync);
  bus.publish("m.a", "1");
  bus.publish("m.b", "2", "k");
  bus.publish(Event{"m.a", "3", "", "node-b"});
  REQUIRE(received.wait_for_count(3));

  CHECK(registry.counter("plexus_events_published_total", "", {"origin"}).with({"local"}).value() == 2);
  CHECK(registry.counter("plexus_events_published_total", "", {"origin"}).with({"remote"}).value() == 1);
  auto& delivered = registry.counter("plexus_events_delivered_total", "", {"subscription"});
  REQUIRE(eventually([&] { return delivered.with({"metered"}).value() == 3; }));
  CHECK(delivered.with({"plugin-x"}).value() == 2);
  CHECK(registry.gauge("plexus_events_subscriptions", "").with(std::vector<std::string>{}).value() == 2);
  const auto text = registry.render();
  CHECK_THAT(text, Catch::Contains(
                       "plexus_events_dropped_total{subscription=\"metered\",policy=\"drop_newest\"} 0"));
  CHECK_THAT(text, Catch::Contains("plexus_events_queue_depth{subscription=\"metered\"} 0"));
}

TEST_CASE("event handlers see the key and the origin", "[events]") {
  Bus bus;
  std::vector<Event> seen;
  bus.subscribe_events(
      "a.>", [&](const Event& event) { seen.push_back(event); }, SubscriptionOptions{});
  bus.publish("a.b", R"({"x":1})", "k1");
  bus.publish(Event{"a.c", "[]", "k2", "node-b"});
  REQUIRE(seen.size() == 2);
  CHECK(seen[0].topic == "a.b");
  CHECK(seen[0].payload == R"({"x":1})");
  CHECK(seen[0].key == "k1");
  CHECK(seen[0].origin.empty());
  CHECK(seen[1].origin == "node-b");
  CHECK(seen[1].key == "k2");
}
