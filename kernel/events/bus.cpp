#include "kernel/events/bus.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <stdexcept>

#include <spdlog/logger.h>

#include "kernel/log/log.hpp"
#include "kernel/metrics/registry.hpp"

namespace plexus::events {
namespace {

std::vector<std::string_view> segments(std::string_view text) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const auto dot = text.find('.', start);
    parts.push_back(text.substr(start, dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return parts;
}

bool valid_segment(std::string_view segment) {
  if (segment.empty()) return false;
  for (char c : segment) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

void inc(metrics::Counter* counter, double amount = 1.0) {
  if (counter != nullptr && amount > 0) counter->inc(amount);
}
void shift(metrics::Gauge* gauge, double amount) {
  if (gauge != nullptr) gauge->inc(amount);
}

}  // namespace

bool valid_topic(std::string_view topic) {
  if (topic.empty()) return false;
  for (auto segment : segments(topic)) {
    if (!valid_segment(segment)) return false;
  }
  return true;
}

bool valid_pattern(std::string_view pattern) {
  if (pattern.empty()) return false;
  const auto parts = segments(pattern);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (parts[i] == "*") continue;
    if (parts[i] == ">" && i + 1 == parts.size()) continue;
    if (!valid_segment(parts[i])) return false;
  }
  return true;
}

bool topic_matches(std::string_view pattern, std::string_view topic) {
  const auto want = segments(pattern);
  const auto have = segments(topic);
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (want[i] == ">") return have.size() > i;
    if (i >= have.size()) return false;
    if (want[i] != "*" && want[i] != have[i]) return false;
  }
  return want.size() == have.size();
}

std::string_view to_string(Overflow overflow) {
  switch (overflow) {
    case Overflow::block: return "block";
    case Overflow::drop_oldest: return "drop_oldest";
    case Overflow::drop_newest: return "drop_newest";
  }
  return "block";
}

std::optional<Overflow> parse_overflow(std::string_view text) {
  for (auto overflow : {Overflow::block, Overflow::drop_oldest, Overflow::drop_newest}) {
    if (text == to_string(overflow)) return overflow;
  }
  return std::nullopt;
}

// ---- internals ---------------------------------------------------------------------

struct Bus::Metrics {
  explicit Metrics(metrics::Registry& registry)
      : published(registry.counter(
            "plexus_events_published_total",
            "Events published on this node's bus, by origin (local, or remote: from another node)",
            {"origin"})),
        delivered(registry.counter("plexus_events_delivered_total",
                                   "Events handed to a subscription's handler", {"subscription"})),
        dropped(registry.counter("plexus_events_dropped_total",
                                 "Events a queued subscription lost to its overflow policy",
                                 {"subscription", "policy"})),
        discarded(registry.counter("plexus_events_discarded_total",
                                   "Events still queued when their subscription ended", {"subscription"})),
        handler_errors(registry.counter("plexus_events_handler_errors_total", "Handler calls that threw",
                                        {"subscription"})),
        queue_depth(registry.gauge("plexus_events_queue_depth",
                                   "Events waiting in the queues of queued subscriptions", {"subscription"})),
        subscriptions(registry.gauge("plexus_events_subscriptions", "Subscriptions on this node's bus")
                          .with(std::vector<std::string>{})),
        published_local(published.with({"local"})),
        published_remote(published.with({"remote"})) {}
  metrics::Family<metrics::Counter>& published;
  metrics::Family<metrics::Counter>& delivered;
  metrics::Family<metrics::Counter>& dropped;
  metrics::Family<metrics::Counter>& discarded;
  metrics::Family<metrics::Counter>& handler_errors;
  metrics::Family<metrics::Gauge>& queue_depth;
  metrics::Gauge& subscriptions;
  metrics::Counter& published_local;  // looked up once: publish is the hot path
  metrics::Counter& published_remote;
};

namespace {

struct Lane {
  std::mutex mutex;
  std::condition_variable not_empty;
  std::condition_variable not_full;
  std::deque<std::shared_ptr<const Event>> queue;
  bool stopping = false;
  std::thread thread;
  std::atomic<bool> finished{false};
};

// The lane whose thread this is, so a handler that publishes into its own full lane
// (block) or unsubscribes itself is recognised instead of deadlocking.
thread_local const Lane* current_lane = nullptr;

}  // namespace

struct Bus::Subscription {
  std::uint64_t id = 0;
  std::string pattern;
  SubscriptionOptions options;
  EventHandler event_handler;
  Handler view_handler;  // set instead of event_handler by the (topic, payload) overloads
  std::vector<std::unique_ptr<Lane>> lanes;
  std::atomic<bool> stopped{false};
  std::atomic<std::uint64_t> delivered{0};
  std::atomic<std::uint64_t> dropped{0};
  std::atomic<std::uint64_t> handler_errors{0};
  metrics::Counter* delivered_metric = nullptr;
  metrics::Counter* dropped_metric = nullptr;
  metrics::Counter* discarded_metric = nullptr;
  metrics::Counter* errors_metric = nullptr;
  metrics::Gauge* depth_metric = nullptr;

  bool queued() const { return !lanes.empty(); }

  Lane& lane_for(std::string_view key) {
    if (key.empty() || lanes.size() == 1) return *lanes[0];
    return *lanes[std::hash<std::string_view>{}(key) % lanes.size()];
  }

  void count_drop() {
    dropped.fetch_add(1, std::memory_order_relaxed);
    inc(dropped_metric);
  }

  // A handler that throws is counted and logged (never the payload); the lane goes on.
  void call(std::string_view topic, std::string_view payload, std::string_view key, std::string_view origin,
            const Event* event) {
    try {
      if (view_handler) {
        view_handler(topic, payload);
      } else if (event != nullptr) {
        event_handler(*event);
      } else {
        event_handler(Event{std::string(topic), std::string(payload), std::string(key), std::string(origin)});
      }
    } catch (const std::exception& e) {
      handler_errors.fetch_add(1, std::memory_order_relaxed);
      inc(errors_metric);
      log::get("events")->warn("handler of subscription '{}' failed on topic '{}': {}", options.name, topic,
                               e.what());
    } catch (...) {
      handler_errors.fetch_add(1, std::memory_order_relaxed);
      inc(errors_metric);
      log::get("events")->warn("handler of subscription '{}' failed on topic '{}'", options.name, topic);
    }
    delivered.fetch_add(1, std::memory_order_relaxed);
    inc(delivered_metric);
  }

  // True when the event was queued.
  bool enqueue(const std::shared_ptr<const Event>& event) {
    Lane& lane = lane_for(event->key);
    std::unique_lock lock(lane.mutex);
    if (lane.stopping) return false;
    if (lane.queue.size() >= options.queue_capacity) {
      switch (options.overflow) {
        case Overflow::drop_newest: count_drop(); return false;
        case Overflow::drop_oldest:
          lane.queue.pop_front();
          shift(depth_metric, -1);
          count_drop();
          break;
        case Overflow::block:
          if (current_lane == &lane) {
            // Waiting for our own thread to make room would wait forever.
            count_drop();
            log::get("events")->warn(
                "subscription '{}' published into its own full lane; event on '{}' dropped", options.name,
                event->topic);
            return false;
          }
          // Only this lane's mutex is held here, never the bus lock; stop() wakes us.
          lane.not_full.wait(lock,
                             [&] { return lane.stopping || lane.queue.size() < options.queue_capacity; });
          if (lane.stopping) return false;
          break;
      }
    }
    lane.queue.push_back(event);
    shift(depth_metric, 1);
    lock.unlock();
    lane.not_empty.notify_one();
    return true;
  }

  void run(Lane& lane) {
    current_lane = &lane;
    while (true) {
      std::shared_ptr<const Event> event;
      {
        std::unique_lock lock(lane.mutex);
        lane.not_empty.wait(lock, [&] { return lane.stopping || !lane.queue.empty(); });
        if (lane.stopping) break;
        event = std::move(lane.queue.front());
        lane.queue.pop_front();
        shift(depth_metric, -1);
      }
      lane.not_full.notify_one();
      call(event->topic, event->payload, event->key, event->origin, event.get());
    }
    current_lane = nullptr;
    lane.finished = true;
  }

  // Ends every lane: queued events are discarded, blocked publishers return.
  void close() {
    for (auto& lane : lanes) {
      std::size_t discarded = 0;
      {
        std::lock_guard lock(lane->mutex);
        lane->stopping = true;
        discarded = lane->queue.size();
        lane->queue.clear();
      }
      shift(depth_metric, -static_cast<double>(discarded));
      inc(discarded_metric, static_cast<double>(discarded));
      lane->not_empty.notify_all();
      lane->not_full.notify_all();
    }
  }
};

Bus::Bus(metrics::Registry* registry) {
  if (registry != nullptr) metrics_ = std::make_unique<Metrics>(*registry);
}

Bus::~Bus() {
  std::map<std::uint64_t, std::shared_ptr<Subscription>> all;
  {
    std::unique_lock lock(mutex_);
    all.swap(subscriptions_);
  }
  for (auto& [id, subscription] : all) stop(subscription);
  std::lock_guard lock(ended_mutex_);
  for (auto& [subscription, thread] : ended_) {
    // Destroyed from inside a handler: that thread cannot wait for itself.
    if (thread.get_id() == std::this_thread::get_id()) {
      thread.detach();
    } else if (thread.joinable()) {
      thread.join();
    }
  }
}

std::uint64_t Bus::subscribe(std::string pattern, Handler handler, std::string owner) {
  SubscriptionOptions options;
  options.owner = std::move(owner);
  return add(std::move(pattern), {}, true, std::move(handler), std::move(options));
}

std::uint64_t Bus::subscribe(std::string pattern, Handler handler, SubscriptionOptions options) {
  return add(std::move(pattern), {}, true, std::move(handler), std::move(options));
}

std::uint64_t Bus::subscribe_events(std::string pattern, EventHandler handler, SubscriptionOptions options) {
  return add(std::move(pattern), std::move(handler), false, {}, std::move(options));
}

std::uint64_t Bus::add(std::string pattern, EventHandler handler, bool wants_views, Handler view_handler,
                       SubscriptionOptions options) {
  if (!valid_pattern(pattern)) throw std::invalid_argument("malformed topic pattern '" + pattern + "'");
  if (options.queue_capacity > kMaxQueueCapacity) {
    throw std::invalid_argument("queue_capacity must be at most " + std::to_string(kMaxQueueCapacity));
  }
  if (options.lanes < 1 || options.lanes > kMaxLanes) {
    throw std::invalid_argument("lanes must be between 1 and " + std::to_string(kMaxLanes));
  }
  if ((wants_views && !view_handler) || (!wants_views && !handler)) {
    throw std::invalid_argument("handler must not be empty");
  }
  if (options.name.empty()) options.name = options.owner;

  auto subscription = std::make_shared<Subscription>();
  subscription->pattern = std::move(pattern);
  subscription->event_handler = std::move(handler);
  subscription->view_handler = std::move(view_handler);
  if (metrics_) {
    const std::string& name = options.name;
    subscription->delivered_metric = &metrics_->delivered.with({name});
    subscription->errors_metric = &metrics_->handler_errors.with({name});
    if (options.queue_capacity > 0) {
      subscription->dropped_metric = &metrics_->dropped.with({name, to_string(options.overflow)});
      subscription->discarded_metric = &metrics_->discarded.with({name});
      subscription->depth_metric = &metrics_->queue_depth.with({name});
    }
    metrics_->subscriptions.inc();
  }
  subscription->options = std::move(options);
  if (subscription->options.queue_capacity > 0) {
    for (std::size_t i = 0; i < subscription->options.lanes; ++i) {
      subscription->lanes.push_back(std::make_unique<Lane>());
    }
    // The threads hold the subscription alive until they end, whoever drops it first.
    for (auto& lane : subscription->lanes) {
      lane->thread = std::thread([subscription, raw = lane.get()] { subscription->run(*raw); });
    }
  }

  std::unique_lock lock(mutex_);
  const auto id = next_id_++;
  subscription->id = id;
  subscriptions_.emplace(id, std::move(subscription));
  return id;
}

void Bus::stop(const std::shared_ptr<Subscription>& subscription) {
  if (subscription->stopped.exchange(true)) return;
  if (metrics_) metrics_->subscriptions.dec();
  if (!subscription->queued()) return;
  subscription->close();
  std::vector<std::thread> own;
  for (auto& lane : subscription->lanes) {
    if (!lane->thread.joinable()) continue;
    if (lane->thread.get_id() == std::this_thread::get_id()) {
      own.push_back(std::move(lane->thread));  // ends when this handler returns
    } else {
      lane->thread.join();
    }
  }
  std::lock_guard lock(ended_mutex_);
  // Threads of earlier self-unsubscriptions that have finished by now.
  std::erase_if(ended_, [](auto& entry) {
    const bool done = std::all_of(entry.first->lanes.begin(), entry.first->lanes.end(),
                                  [](const auto& lane) { return lane->finished.load(); });
    if (done && entry.second.joinable() && entry.second.get_id() != std::this_thread::get_id()) {
      entry.second.join();
      return true;
    }
    return false;
  });
  for (auto& thread : own) ended_.emplace_back(subscription, std::move(thread));
}

bool Bus::unsubscribe(std::uint64_t id) {
  std::shared_ptr<Subscription> subscription;
  {
    std::unique_lock lock(mutex_);
    auto it = subscriptions_.find(id);
    if (it == subscriptions_.end()) return false;
    subscription = std::move(it->second);
    subscriptions_.erase(it);
  }
  stop(subscription);
  return true;
}

std::size_t Bus::unsubscribe_owner(std::string_view owner) {
  std::vector<std::shared_ptr<Subscription>> removed;
  {
    std::unique_lock lock(mutex_);
    for (auto it = subscriptions_.begin(); it != subscriptions_.end();) {
      if (it->second->options.owner == owner) {
        removed.push_back(std::move(it->second));
        it = subscriptions_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (const auto& subscription : removed) stop(subscription);
  return removed.size();
}

std::size_t Bus::publish(std::string_view topic, std::string_view payload_json, std::string_view key) {
  return deliver(topic, payload_json, key, {}, nullptr);
}

std::size_t Bus::publish(const Event& event) {
  return deliver(event.topic, event.payload, event.key, event.origin, &event);
}

std::size_t Bus::deliver(std::string_view topic, std::string_view payload, std::string_view key,
                         std::string_view origin, const Event* whole) {
  if (!valid_topic(topic)) throw std::invalid_argument("malformed topic '" + std::string(topic) + "'");
  std::vector<std::shared_ptr<Subscription>> receivers;
  {
    std::shared_lock lock(mutex_);
    for (const auto& [id, subscription] : subscriptions_) {
      if (topic_matches(subscription->pattern, topic)) receivers.push_back(subscription);
    }
  }
  if (metrics_) (origin.empty() ? metrics_->published_local : metrics_->published_remote).inc();
  std::shared_ptr<const Event> shared;  // one copy for every queued subscription, made when first needed
  std::size_t taken = 0;
  for (const auto& subscription : receivers) {
    if (subscription->stopped.load()) continue;  // unsubscribed since the snapshot
    if (!subscription->queued()) {
      subscription->call(topic, payload, key, origin, whole);
      ++taken;
      continue;
    }
    if (!shared) {
      shared = whole != nullptr
                   ? std::make_shared<const Event>(*whole)
                   : std::make_shared<const Event>(Event{std::string(topic), std::string(payload),
                                                         std::string(key), std::string(origin)});
    }
    if (subscription->enqueue(shared)) ++taken;
  }
  return taken;
}

std::optional<SubscriptionStats> Bus::stats(std::uint64_t id) const {
  std::shared_ptr<Subscription> subscription;
  {
    std::shared_lock lock(mutex_);
    auto it = subscriptions_.find(id);
    if (it == subscriptions_.end()) return std::nullopt;
    subscription = it->second;
  }
  SubscriptionStats stats;
  stats.delivered = subscription->delivered.load();
  stats.dropped = subscription->dropped.load();
  stats.handler_errors = subscription->handler_errors.load();
  for (const auto& lane : subscription->lanes) {
    std::lock_guard lock(lane->mutex);
    stats.queued += lane->queue.size();
  }
  return stats;
}

std::size_t Bus::subscription_count() const {
  std::shared_lock lock(mutex_);
  return subscriptions_.size();
}

}  // namespace plexus::events
