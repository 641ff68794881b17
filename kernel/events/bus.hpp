// The in-process event bus: topics ("cmdb.ci.changed") and patterns ("cmdb.*" one
// level, "cmdb.>" any depth). Delivery is synchronous on the publisher's thread,
// outside the bus lock, so a subscriber may publish or unsubscribe in its callback.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>

namespace plexus::events {

// True when `topic` matches `pattern`.
bool topic_matches(std::string_view pattern, std::string_view topic);
// Topics and patterns: dot-separated segments of [a-z0-9_-], patterns may use "*" and a final ">".
bool valid_topic(std::string_view topic);
bool valid_pattern(std::string_view pattern);

class Bus {
 public:
  using Handler = std::function<void(std::string_view topic, std::string_view payload_json)>;

  // Throws std::invalid_argument for a malformed pattern.
  std::uint64_t subscribe(std::string pattern, Handler handler, std::string owner = "kernel");
  bool unsubscribe(std::uint64_t id);
  std::size_t unsubscribe_owner(std::string_view owner);
  // Returns how many subscribers received the event. Throws on a malformed topic.
  std::size_t publish(std::string_view topic, std::string_view payload_json);

 private:
  struct Subscription {
    std::string pattern;
    std::string owner;
    std::shared_ptr<Handler> handler;
  };
  mutable std::shared_mutex mutex_;
  std::map<std::uint64_t, Subscription> subscriptions_;
  std::uint64_t next_id_ = 1;
};

}  // namespace plexus::events
