// An SSE client of GET /api/v1/admin/events/stream on a thread of its own, for tests that
// watch the event bus of a running plexusd.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "tests/support/plexusd_process.hpp"

namespace plexus::test {

class StreamClient {
 public:
  StreamClient(const Plexusd& node, const std::string& token, const std::string& pattern);
  ~StreamClient();
  StreamClient(const StreamClient&) = delete;
  StreamClient& operator=(const StreamClient&) = delete;

  // Waits for the stream's "ready" event: from then on, nothing published is missed.
  bool ready();
  // Waits until an event with this key has arrived; all events seen so far.
  std::vector<nlohmann::json> until_key(const std::string& key);
  // Waits until `done(events)` holds (or a generous deadline passes); all events seen so far.
  std::vector<nlohmann::json> until(const std::function<bool(const std::vector<nlohmann::json>&)>& done);

 private:
  void parse();

  httplib::Client client_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::condition_variable changed_;
  std::string text_;
  bool is_ready_ = false;
  std::vector<nlohmann::json> events_;
};

}  // namespace plexus::test
