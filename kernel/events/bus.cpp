#include "kernel/events/bus.hpp"

#include <mutex>
#include <stdexcept>
#include <vector>

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

std::uint64_t Bus::subscribe(std::string pattern, Handler handler, std::string owner) {
  if (!valid_pattern(pattern)) throw std::invalid_argument("malformed topic pattern '" + pattern + "'");
  std::unique_lock lock(mutex_);
  const auto id = next_id_++;
  subscriptions_.emplace(id, Subscription{std::move(pattern), std::move(owner),
                                          std::make_shared<Handler>(std::move(handler))});
  return id;
}

bool Bus::unsubscribe(std::uint64_t id) {
  std::unique_lock lock(mutex_);
  return subscriptions_.erase(id) > 0;
}

std::size_t Bus::unsubscribe_owner(std::string_view owner) {
  std::unique_lock lock(mutex_);
  return std::erase_if(subscriptions_, [&](const auto& entry) { return entry.second.owner == owner; });
}

std::size_t Bus::publish(std::string_view topic, std::string_view payload_json) {
  if (!valid_topic(topic)) throw std::invalid_argument("malformed topic '" + std::string(topic) + "'");
  std::vector<std::shared_ptr<Handler>> receivers;
  {
    std::shared_lock lock(mutex_);
    for (const auto& [id, subscription] : subscriptions_) {
      if (topic_matches(subscription.pattern, topic)) receivers.push_back(subscription.handler);
    }
  }
  for (const auto& handler : receivers) (*handler)(topic, payload_json);
  return receivers.size();
}

}  // namespace plexus::events
