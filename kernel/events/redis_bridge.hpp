// Events between nodes (DESIGN.md "Scale-out"): every event published on this node's bus
// is appended (XADD) to one Redis stream, and a reader thread (XREAD BLOCK) publishes the
// events other nodes appended on this node's bus, marked with their origin, so they are
// never sent back (no loops). Best effort: while Redis is unreachable, local publishing
// goes on untouched, events meant for other nodes are dropped and counted, and both
// directions reconnect with backoff. Topics under "local." never leave the node.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "kernel/events/bus.hpp"

namespace plexus::metrics {
class Registry;
}

namespace plexus::events {

// Topics that stay on the node that published them.
inline constexpr std::string_view kLocalTopicPrefix = "local.";
bool bridged_topic(std::string_view topic);

struct RedisBridgeOptions {
  std::string url;                       // redis://[[user]:password@]host[:port][/db]
  std::string stream = "plexus:events";  // the stream key every node shares
  std::uint64_t max_length = 100000;     // XADD MAXLEN ~ this; 0: never trimmed
  std::string node_id;                   // written as each entry's origin; entries of this node are skipped
  std::size_t outbox_capacity = 10000;   // events waiting for XADD before the oldest are dropped
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds backoff_max{30000};  // reconnect delay doubles from 100 ms up to this
};

// What a redis:// URL names. Throws std::invalid_argument naming what is wrong (never
// the password).
struct RedisTarget {
  std::string host;
  int port = 6379;
  std::string username;
  std::string password;
  int database = 0;
};
RedisTarget parse_redis_url(const std::string& url);
// The URL with its password replaced by "***", for logs.
std::string redact_redis_url(const std::string& url);

class RedisBridge {
 public:
  // Throws std::invalid_argument for a malformed URL or an empty node id or stream.
  // `metrics` (optional) must outlive the bridge.
  RedisBridge(Bus& bus, RedisBridgeOptions options, metrics::Registry* metrics = nullptr);
  // Stops (see stop()).
  ~RedisBridge();
  RedisBridge(const RedisBridge&) = delete;
  RedisBridge& operator=(const RedisBridge&) = delete;

  // Subscribes to every bridged topic and starts the reader; returns at once, also when
  // Redis is down (the bridge keeps trying).
  void start();
  // Unsubscribes and ends the reader; events not yet sent are discarded. Idempotent.
  void stop();

  // Both directions connected now.
  bool connected() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace plexus::events
