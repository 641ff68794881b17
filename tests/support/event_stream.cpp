#include "tests/support/event_stream.hpp"

#include <algorithm>

namespace plexus::test {

namespace {
constexpr auto kDeadline = std::chrono::seconds(60);  // only keeps a broken build from hanging
}

StreamClient::StreamClient(const Plexusd& node, const std::string& token, const std::string& pattern)
    : client_(node.client()) {
  thread_ = std::thread([this, token, pattern] {
    client_.Get(("/api/v1/admin/events/stream?pattern=" + pattern).c_str(), bearer(token),
                [this](const char* data, std::size_t size) {
                  std::lock_guard lock(mutex_);
                  text_.append(data, size);
                  parse();
                  changed_.notify_all();
                  return !stopping_.load();
                });
  });
}

StreamClient::~StreamClient() {
  stopping_ = true;
  client_.stop();
  thread_.join();
}

bool StreamClient::ready() {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, kDeadline, [&] { return is_ready_; });
}

std::vector<nlohmann::json> StreamClient::until_key(const std::string& key) {
  return until([&](const std::vector<nlohmann::json>& events) {
    return std::any_of(events.begin(), events.end(), [&](const nlohmann::json& e) { return e["key"] == key; });
  });
}

std::vector<nlohmann::json> StreamClient::until(
    const std::function<bool(const std::vector<nlohmann::json>&)>& done) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, kDeadline, [&] { return done(events_); });
  return events_;
}

// SSE frames end with an empty line; "ready" is named, bus events are unnamed.
void StreamClient::parse() {
  std::size_t end;
  while ((end = text_.find("\n\n")) != std::string::npos) {
    const auto frame = text_.substr(0, end);
    text_.erase(0, end + 2);
    std::string event, data;
    std::size_t start = 0;
    while (start <= frame.size()) {
      auto newline = frame.find('\n', start);
      if (newline == std::string::npos) newline = frame.size();
      const auto line = frame.substr(start, newline - start);
      if (line.starts_with("event: ")) event = line.substr(7);
      if (line.starts_with("data: ")) data += line.substr(6);
      start = newline + 1;
    }
    if (event == "ready") is_ready_ = true;
    if (event.empty() && !data.empty()) events_.push_back(nlohmann::json::parse(data));
  }
}

}  // namespace plexus::test
