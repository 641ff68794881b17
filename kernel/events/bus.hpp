// The in-process event bus: topics ("cmdb.ci.changed") and patterns ("cmdb.*" one
// level, "cmdb.>" any depth). A subscription is either synchronous (its handler runs on
// the publisher's thread, outside the bus lock, so it may publish or unsubscribe) or
// queued: a bounded queue per lane, drained by the subscription's own threads, with a
// declared overflow policy. Events with the same key always take the same lane, so a
// queued subscription sees them in publish order. docs/events.md is the user's guide.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace plexus::metrics {
class Registry;
}

namespace plexus::events {

// True when `topic` matches `pattern`.
bool topic_matches(std::string_view pattern, std::string_view topic);
// Topics and patterns: dot-separated segments of [a-z0-9_-], patterns may use "*" and a final ">".
bool valid_topic(std::string_view topic);
bool valid_pattern(std::string_view pattern);

// What a queued subscription does with an event when the lane it belongs to is full.
enum class Overflow {
  block,        // the publisher waits for room (never holding the bus lock)
  drop_oldest,  // the oldest queued event makes room; counted as dropped
  drop_newest,  // the new event is not queued; counted as dropped
};
std::string_view to_string(Overflow overflow);
std::optional<Overflow> parse_overflow(std::string_view text);  // "block", "drop_oldest", "drop_newest"

// Largest queue_capacity and lanes a subscription may ask for.
inline constexpr std::size_t kMaxQueueCapacity = 1'000'000;
inline constexpr std::size_t kMaxLanes = 64;

struct SubscriptionOptions {
  std::string owner = "kernel";
  std::size_t queue_capacity = 0;  // per lane; 0: delivered synchronously on the publisher's thread
  Overflow overflow = Overflow::block;
  // Delivery threads of a queued subscription; events with the same key always go to the
  // same lane, so they arrive in publish order. Keyless events all go to lane 0.
  std::size_t lanes = 1;
  std::string name;  // label in metrics; default: owner
};

// One event as delivered. `origin` is empty for events published on this node, and the
// node id of the publisher for events that came from another node (RedisBridge).
struct Event {
  std::string topic;
  std::string payload;  // JSON text
  std::string key;      // ordering key; may be empty
  std::string origin;
};

// Figures of one subscription since it was made.
struct SubscriptionStats {
  std::uint64_t delivered = 0;       // handler calls that returned (or threw)
  std::uint64_t dropped = 0;         // lost to the overflow policy
  std::uint64_t handler_errors = 0;  // handler calls that threw
  std::size_t queued = 0;            // waiting in the lanes now
};

class Bus {
 public:
  using Handler = std::function<void(std::string_view topic, std::string_view payload_json)>;
  using EventHandler = std::function<void(const Event& event)>;

  // Without a registry the bus keeps its figures only in stats(); with one (which must
  // outlive the bus) it also registers the plexus_events_* families.
  explicit Bus(metrics::Registry* metrics = nullptr);
  // Stops every queued subscription: its lanes end, events still queued are discarded.
  ~Bus();
  Bus(const Bus&) = delete;
  Bus& operator=(const Bus&) = delete;

  // Synchronous, as before. Throws std::invalid_argument for a malformed pattern.
  std::uint64_t subscribe(std::string pattern, Handler handler, std::string owner = "kernel");
  // Throws std::invalid_argument for a malformed pattern, or naming the field
  // ("queue_capacity", "lanes") that is out of range.
  std::uint64_t subscribe(std::string pattern, Handler handler, SubscriptionOptions options);
  // The same, for handlers that want the key and the origin too.
  std::uint64_t subscribe_events(std::string pattern, EventHandler handler, SubscriptionOptions options);

  // A queued subscription stops its threads; events still queued are discarded (counted),
  // a publisher blocked on it returns. Waits for handler calls in flight on other threads;
  // from inside its own handler it returns at once (that lane ends when the handler returns).
  bool unsubscribe(std::uint64_t id);
  std::size_t unsubscribe_owner(std::string_view owner);

  // How many subscriptions took the event: synchronous handlers called, plus queued
  // subscriptions that accepted it (a drop_newest that dropped it does not count).
  // Throws std::invalid_argument on a malformed topic.
  std::size_t publish(std::string_view topic, std::string_view payload_json, std::string_view key = {});
  // The same with every field, e.g. an event that came from another node.
  std::size_t publish(const Event& event);

  // nullopt when there is no such subscription (any more).
  std::optional<SubscriptionStats> stats(std::uint64_t id) const;
  std::size_t subscription_count() const;

  struct Subscription;  // defined in bus.cpp
  struct Metrics;

 private:
  std::uint64_t add(std::string pattern, EventHandler handler, bool wants_views, Handler view_handler,
                    SubscriptionOptions options);
  void stop(const std::shared_ptr<Subscription>& subscription);
  std::size_t deliver(std::string_view topic, std::string_view payload, std::string_view key,
                      std::string_view origin, const Event* whole);

  std::unique_ptr<Metrics> metrics_;
  mutable std::shared_mutex mutex_;
  std::map<std::uint64_t, std::shared_ptr<Subscription>> subscriptions_;
  std::uint64_t next_id_ = 1;
  // Lane threads of subscriptions that ended from inside their own handler; joined later.
  std::mutex ended_mutex_;
  std::vector<std::pair<std::shared_ptr<Subscription>, std::thread>> ended_;
};

}  // namespace plexus::events
