#include "kernel/events/redis_bridge.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include <hiredis/hiredis.h>
#include <spdlog/logger.h>

#include "kernel/log/log.hpp"
#include "kernel/metrics/registry.hpp"

namespace plexus::events {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kBackoffStart{100};
constexpr int kReadBlockMs = 5000;  // XREAD BLOCK; stop() interrupts it sooner
constexpr int kReadCount = 256;

std::string percent_decoded(std::string_view text, const char* what) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    int value = 0;
    if (i + 2 >= text.size())
      throw std::invalid_argument(std::string("malformed percent escape in the ") + what);
    const auto* begin = text.data() + i + 1;
    const auto [end, error] = std::from_chars(begin, begin + 2, value, 16);
    if (error != std::errc() || end != begin + 2) {
      throw std::invalid_argument(std::string("malformed percent escape in the ") + what);
    }
    out += static_cast<char>(value);
    i += 2;
  }
  return out;
}

struct ReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

struct ContextDeleter {
  void operator()(redisContext* context) const { redisFree(context); }
};

std::string_view text_of(const redisReply* reply) {
  return reply != nullptr && reply->str != nullptr ? std::string_view(reply->str, reply->len)
                                                   : std::string_view();
}

// One connection: connected, authenticated and on its database, or an exception saying
// why not (hiredis' message, which never holds the password).
class Connection {
 public:
  Connection(const RedisTarget& target, std::chrono::milliseconds timeout) {
    const timeval tv{static_cast<time_t>(timeout.count() / 1000),
                     static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
    context_.reset(redisConnectWithTimeout(target.host.c_str(), target.port, tv));
    if (!context_) throw std::runtime_error("out of memory");
    if (context_->err) throw std::runtime_error(context_->errstr);
    redisSetTimeout(context_.get(), tv);
    if (!target.password.empty()) {
      std::vector<std::string> auth{"AUTH"};
      if (!target.username.empty()) auth.push_back(target.username);
      auth.push_back(target.password);
      expect_ok(command(auth), "AUTH");
    }
    if (target.database != 0) expect_ok(command({"SELECT", std::to_string(target.database)}), "SELECT");
  }

  // nullptr on an I/O error (the connection is then unusable).
  Reply command(const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    for (const auto& arg : args) {
      argv.push_back(arg.data());
      lengths.push_back(arg.size());
    }
    return Reply(static_cast<redisReply*>(
        redisCommandArgv(context_.get(), static_cast<int>(argv.size()), argv.data(), lengths.data())));
  }

  void set_timeout(std::chrono::milliseconds timeout) {
    const timeval tv{static_cast<time_t>(timeout.count() / 1000),
                     static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
    redisSetTimeout(context_.get(), tv);
  }

  int fd() const { return context_->fd; }
  std::string error() const { return context_->err ? context_->errstr : "unexpected reply"; }

  void expect_ok(const Reply& reply, const char* what) {
    if (!reply) throw std::runtime_error(std::string(what) + ": " + error());
    if (reply->type == REDIS_REPLY_ERROR)
      throw std::runtime_error(std::string(what) + ": " + std::string(text_of(reply.get())));
  }

 private:
  std::unique_ptr<redisContext, ContextDeleter> context_;
};

// Reconnect delays: 100 ms doubling up to the configured maximum.
class Backoff {
 public:
  explicit Backoff(std::chrono::milliseconds max) : max_(max) {}
  std::chrono::milliseconds next() {
    const auto delay = current_;
    current_ = std::min(current_ * 2, max_);
    return delay;
  }
  void reset() { current_ = kBackoffStart; }

 private:
  std::chrono::milliseconds max_;
  std::chrono::milliseconds current_ = kBackoffStart;
};

}  // namespace

bool bridged_topic(std::string_view topic) { return !topic.starts_with(kLocalTopicPrefix); }

RedisTarget parse_redis_url(const std::string& url) {
  constexpr std::string_view scheme = "redis://";
  if (!url.starts_with(scheme)) throw std::invalid_argument("a Redis URL starts with redis://");
  std::string_view rest(url);
  rest.remove_prefix(scheme.size());
  RedisTarget target;
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    const auto credentials = rest.substr(0, at);
    rest.remove_prefix(at + 1);
    const auto colon = credentials.find(':');
    if (colon == std::string_view::npos) {
      target.password =
          percent_decoded(credentials, "password");  // redis://password@host, as redis-cli reads it
    } else {
      target.username = percent_decoded(credentials.substr(0, colon), "user name");
      target.password = percent_decoded(credentials.substr(colon + 1), "password");
    }
  }
  std::string_view database;
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    database = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
  }
  std::string_view port;
  if (rest.starts_with('[')) {  // [::1]:6379
    const auto close = rest.find(']');
    if (close == std::string_view::npos) throw std::invalid_argument("unclosed [ in the Redis host");
    target.host = std::string(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
    if (rest.starts_with(':'))
      port = rest.substr(1);
    else if (!rest.empty())
      throw std::invalid_argument("unexpected text after the Redis host");
  } else {
    const auto colon = rest.rfind(':');
    target.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) port = rest.substr(colon + 1);
  }
  if (target.host.empty()) throw std::invalid_argument("the Redis URL names no host");
  if (!port.empty()) {
    const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), target.port);
    if (error != std::errc() || end != port.data() + port.size() || target.port < 1 || target.port > 65535) {
      throw std::invalid_argument("the Redis port must be a number from 1 to 65535");
    }
  }
  if (!database.empty()) {
    const auto [end, error] =
        std::from_chars(database.data(), database.data() + database.size(), target.database);
    if (error != std::errc() || end != database.data() + database.size() || target.database < 0) {
      throw std::invalid_argument("the Redis database (after the /) must be a number");
    }
  }
  return target;
}

std::string redact_redis_url(const std::string& url) {
  const auto scheme_end = url.find("://");
  const auto at = url.rfind('@');
  if (scheme_end == std::string::npos || at == std::string::npos || at < scheme_end) return url;
  const auto credentials = url.substr(scheme_end + 3, at - scheme_end - 3);
  const auto colon = credentials.find(':');
  const std::string user = colon == std::string::npos ? "" : credentials.substr(0, colon);
  return url.substr(0, scheme_end + 3) + user + ":***" + url.substr(at);
}

struct RedisBridge::Impl {
  Impl(Bus& bus_, RedisBridgeOptions options_, metrics::Registry* registry)
      : bus(bus_),
        options(std::move(options_)),
        target(parse_redis_url(options.url)),
        redacted_url(redact_redis_url(options.url)),
        send_backoff(options.backoff_max),
        read_backoff(options.backoff_max) {
    if (options.node_id.empty()) throw std::invalid_argument("the Redis bridge needs a node id");
    if (options.stream.empty()) throw std::invalid_argument("events.redis.stream must not be empty");
    if (!target.password.empty()) log::add_secret(target.password);
    if (registry != nullptr) {
      sent =
          &registry
               ->counter("plexus_events_bridge_sent_total", "Events this node appended to the Redis stream")
               .with(std::vector<std::string>{});
      received = &registry
                      ->counter("plexus_events_bridge_received_total",
                                "Events of other nodes read from the Redis stream and published here")
                      .with(std::vector<std::string>{});
      unsent = &registry
                    ->counter("plexus_events_bridge_unsent_total",
                              "Events not sent to other nodes because Redis could not be reached")
                    .with(std::vector<std::string>{});
      auto& errors =
          registry->counter("plexus_events_bridge_errors_total",
                            "Failed Redis connections and commands of the event bridge", {"direction"});
      send_errors = &errors.with({"send"});
      receive_errors = &errors.with({"receive"});
      auto& connected_family =
          registry->gauge("plexus_events_bridge_connected",
                          "1 while the event bridge's Redis connection is up", {"direction"});
      send_connected = &connected_family.with({"send"});
      receive_connected = &connected_family.with({"receive"});
    }
  }

  Bus& bus;
  const RedisBridgeOptions options;
  const RedisTarget target;
  const std::string redacted_url;
  std::shared_ptr<spdlog::logger> logger = log::get("events.redis");

  metrics::Counter* sent = nullptr;
  metrics::Counter* received = nullptr;
  metrics::Counter* unsent = nullptr;
  metrics::Counter* send_errors = nullptr;
  metrics::Counter* receive_errors = nullptr;
  metrics::Gauge* send_connected = nullptr;
  metrics::Gauge* receive_connected = nullptr;

  static void count(metrics::Counter* counter) {
    if (counter != nullptr) counter->inc();
  }
  static void set(metrics::Gauge* gauge, bool up) {
    if (gauge != nullptr) gauge->set(up ? 1 : 0);
  }

  // ---- send: the handler of a queued subscription, so only its lane thread is here.
  std::optional<Connection> send_connection;
  Clock::time_point send_retry_at{};
  Backoff send_backoff;
  bool send_down_logged = false;
  std::uint64_t subscription = 0;

  void send_failed(const std::string& why) {
    send_connection.reset();
    set(send_connected, false);
    count(send_errors);
    send_retry_at = Clock::now() + send_backoff.next();
    if (!send_down_logged) {
      logger->warn("cannot send events to Redis at {}: {}; retrying with backoff", redacted_url, why);
      send_down_logged = true;
    }
  }

  bool connect_for_send() {
    if (send_connection) return true;
    if (Clock::now() < send_retry_at) return false;
    try {
      send_connection.emplace(target, options.connect_timeout);
    } catch (const std::exception& e) {
      send_failed(e.what());
      return false;
    }
    send_backoff.reset();
    set(send_connected, true);
    if (send_down_logged) logger->info("sending events to Redis at {} again", redacted_url);
    send_down_logged = false;
    return true;
  }

  void send(const Event& event) {
    if (!event.origin.empty() || !bridged_topic(event.topic)) return;  // from another node, or local only
    std::vector<std::string> args{"XADD", options.stream};
    if (options.max_length > 0) {
      args.insert(args.end(), {"MAXLEN", "~", std::to_string(options.max_length)});
    }
    args.insert(args.end(), {"*", "topic", event.topic, "key", event.key, "payload", event.payload, "origin",
                             options.node_id});
    // A connection that broke since the last event (e.g. Redis restarted) gets one fresh try.
    for (int attempt = 0; attempt < 2; ++attempt) {
      const bool fresh = !send_connection;
      if (!connect_for_send()) break;
      auto reply = send_connection->command(args);
      if (reply && reply->type != REDIS_REPLY_ERROR) {
        count(sent);
        return;
      }
      const std::string why = reply ? std::string(text_of(reply.get())) : send_connection->error();
      send_failed(why);
      if (fresh || reply) break;  // an error reply, or a new connection failing: no second try
      send_retry_at = {};
    }
    count(unsent);
  }

  // ---- receive: the reader thread.
  std::thread reader;
  std::mutex mutex;  // guards stopping and reader_fd
  std::condition_variable wake;
  bool stopping = false;
  int reader_fd = -1;
  std::atomic<bool> receiving{false};
  Backoff read_backoff;
  std::string last_id;  // empty until pinned at the first connection

  // Sleeps for the next backoff step; false when stop() came first.
  bool wait_backoff() {
    std::unique_lock lock(mutex);
    return !wake.wait_for(lock, read_backoff.next(), [&] { return stopping; });
  }

  bool stop_requested() {
    std::lock_guard lock(mutex);
    return stopping;
  }

  void read_loop() {
    bool down_logged = false;
    while (!stop_requested()) {
      std::optional<Connection> connection;
      try {
        connection.emplace(target, options.connect_timeout);
        if (last_id.empty()) {
          // Pin "now": entries appended from here on are read, even between two XREADs.
          auto newest = connection->command({"XREVRANGE", options.stream, "+", "-", "COUNT", "1"});
          connection->expect_ok(newest, "XREVRANGE");
          last_id = newest->type == REDIS_REPLY_ARRAY && newest->elements > 0 &&
                            newest->element[0]->type == REDIS_REPLY_ARRAY && newest->element[0]->elements > 0
                        ? std::string(text_of(newest->element[0]->element[0]))
                        : "0-0";
        }
        connection->set_timeout(options.connect_timeout + std::chrono::milliseconds(kReadBlockMs));
      } catch (const std::exception& e) {
        count(receive_errors);
        if (!down_logged) {
          logger->warn("cannot receive events from Redis at {}: {}; retrying with backoff", redacted_url,
                       e.what());
          down_logged = true;
        }
        if (!wait_backoff()) break;
        continue;
      }
      {
        std::lock_guard lock(mutex);
        if (stopping) break;
        reader_fd = connection->fd();
      }
      read_backoff.reset();
      receiving = true;
      set(receive_connected, true);
      logger->info("receiving events of other nodes from Redis at {}, stream '{}'", redacted_url,
                   options.stream);
      down_logged = false;
      read_from(*connection);
      receiving = false;
      set(receive_connected, false);
      {
        std::lock_guard lock(mutex);
        reader_fd = -1;
      }
      if (stop_requested()) break;
      count(receive_errors);
      logger->warn("lost the Redis connection for receiving events ({}); reconnecting", connection->error());
      down_logged = true;
      if (!wait_backoff()) break;
    }
  }

  // Reads until the connection fails (or stop() shuts its socket down).
  void read_from(Connection& connection) {
    const std::vector<std::string> base{
        "XREAD",   "COUNT",       std::to_string(kReadCount), "BLOCK", std::to_string(kReadBlockMs),
        "STREAMS", options.stream};
    while (!stop_requested()) {
      auto args = base;
      args.push_back(last_id);
      auto reply = connection.command(args);
      if (!reply || reply->type == REDIS_REPLY_ERROR) {
        if (reply) logger->warn("XREAD failed: {}", text_of(reply.get()));
        return;
      }
      if (reply->type != REDIS_REPLY_ARRAY) continue;  // nil: the block timed out
      for (std::size_t s = 0; s < reply->elements; ++s) {
        const auto* stream = reply->element[s];
        if (stream->type != REDIS_REPLY_ARRAY || stream->elements < 2) continue;
        const auto* entries = stream->element[1];
        for (std::size_t e = 0; e < entries->elements; ++e) deliver(entries->element[e]);
      }
    }
  }

  void deliver(const redisReply* entry) {
    if (entry->type != REDIS_REPLY_ARRAY || entry->elements < 2) return;
    last_id = std::string(text_of(entry->element[0]));
    const auto* fields = entry->element[1];
    Event event;
    for (std::size_t i = 0; i + 1 < fields->elements; i += 2) {
      const auto name = text_of(fields->element[i]);
      const auto value = std::string(text_of(fields->element[i + 1]));
      if (name == "topic")
        event.topic = value;
      else if (name == "key")
        event.key = value;
      else if (name == "payload")
        event.payload = value;
      else if (name == "origin")
        event.origin = value;
    }
    if (event.origin == options.node_id) return;  // ours, already published here
    if (event.origin.empty()) event.origin = "unknown";
    if (!valid_topic(event.topic) || !bridged_topic(event.topic)) {
      count(receive_errors);
      logger->warn("skipped stream entry {}: malformed or local-only topic", last_id);
      return;
    }
    try {
      bus.publish(event);
      count(received);
    } catch (const std::exception& e) {
      count(receive_errors);
      logger->warn("could not publish stream entry {}: {}", last_id, e.what());
    }
  }

  void start() {
    SubscriptionOptions outbox;
    outbox.owner = "kernel";
    outbox.name = "redis-bridge";
    outbox.queue_capacity = options.outbox_capacity;
    outbox.overflow = Overflow::drop_oldest;
    outbox.lanes = 1;  // one connection; this node's events reach the stream in publish order
    subscription = bus.subscribe_events(
        ">", [this](const Event& event) { send(event); }, std::move(outbox));
    reader = std::thread([this] { read_loop(); });
  }

  void stop() {
    if (subscription != 0) {
      bus.unsubscribe(subscription);
      subscription = 0;
    }
    {
      std::lock_guard lock(mutex);
      stopping = true;
      if (reader_fd >= 0) ::shutdown(reader_fd, SHUT_RDWR);  // ends a blocked XREAD now
    }
    wake.notify_all();
    if (reader.joinable()) reader.join();
    send_connection.reset();
    set(send_connected, false);
  }
};

RedisBridge::RedisBridge(Bus& bus, RedisBridgeOptions options, metrics::Registry* metrics)
    : impl_(std::make_unique<Impl>(bus, std::move(options), metrics)) {}

RedisBridge::~RedisBridge() { stop(); }

void RedisBridge::start() { impl_->start(); }

void RedisBridge::stop() { impl_->stop(); }

bool RedisBridge::connected() const { return impl_->receiving.load(); }

}  // namespace plexus::events
