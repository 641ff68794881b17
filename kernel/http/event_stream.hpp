// A Server-Sent Events stream as handlers and producers see it. Thread-safe: a
// producer on any thread queues events; the server writes them without holding a
// worker thread, and drops a client that falls too far behind.
#pragma once

#include <functional>
#include <string_view>

namespace plexus::http {

class EventStream {
 public:
  virtual ~EventStream() = default;
  // Queues one event ("event:", "id:" and one "data:" line per line of `data`).
  // False when the stream is closed, or was just closed because the client is too slow.
  virtual bool send(std::string_view event, std::string_view data, std::string_view id = {}) = 0;
  // A comment line; clients ignore it, proxies see traffic.
  virtual bool send_comment(std::string_view text) = 0;
  // Ends the stream after what is queued has been written.
  virtual void close() = 0;
  virtual bool is_open() const = 0;
  // Runs once when the stream ends for any reason (client gone, close(), shutdown).
  // Runs at once if the stream has already ended.
  virtual void on_close(std::function<void()> callback) = 0;
};

}  // namespace plexus::http
