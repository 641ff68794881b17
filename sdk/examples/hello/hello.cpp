// hello: a Plexus plugin, built against nothing but the SDK (plexus/plugin.hpp).
//
//   GET /api/v1/hello         {"name","version","generation","greeting"} as JSON
//   GET /api/v1/hello/stream  Server-Sent Events: a "tick" every second, until the client goes
//   GET /api/v1/hello/me      who is calling (any signed-in caller), and whether they may greet
//   PUT /api/v1/hello/greeting  {"greeting": "..."}: needs hello.greeting.write; audited
//   plexus_hello_requests_total{route}  a counter at /metrics
//
// Everything crosses the boundary through plugin.hpp; the C++17 standard library is
// the only other dependency.
#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include <plexus/plugin.hpp>

#define PLUGIN_NAME "hello"
#define PLUGIN_VERSION "0.1.0"

// The configuration the manifest may give; the kernel validates it before start().
#define CONFIG_SCHEMA                                                    \
  "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{" \
  "\"greeting\":{\"type\":\"string\",\"maxLength\":200,"                 \
  "\"description\":\"Greeting returned by GET /api/v1/hello\",\"default\":\"Hello\"}}}"

namespace {

// Returns member `key` of a flat JSON object as a JSON string token, quotes and escapes
// included, or "" when it is absent or not a string. Enough for a schema-validated
// object with additionalProperties false; a real plugin would use a JSON library.
std::string json_string_member(std::string_view json, std::string_view key) {
  const std::string quoted_key = "\"" + std::string(key) + "\"";
  for (std::size_t at = json.find(quoted_key); at != std::string_view::npos;
       at = json.find(quoted_key, at + 1)) {
    std::size_t i = json.find_first_not_of(" \t\r\n", at + quoted_key.size());
    // Not followed by ':'? Then it was a value that happens to match, not the key.
    if (i == std::string_view::npos || json[i] != ':') continue;
    i = json.find_first_not_of(" \t\r\n", i + 1);
    if (i == std::string_view::npos || json[i] != '"') return {};
    for (std::size_t end = i + 1; end < json.size(); ++end) {
      if (json[end] == '\\') {
        ++end;  // skip the escaped character
      } else if (json[end] == '"') {
        return std::string(json.substr(i, end - i + 1));
      }
    }
    return {};
  }
  return {};
}

// `text` as a JSON string token; control characters are dropped.
std::string json_quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) >= 0x20) {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

class HelloPlugin : public plexus::sdk::Plugin {
 public:
  // Registration happens here, never in a constructor or a static initialiser.
  void start() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      greeting_json_ = json_string_member(host().config_json(), "greeting");
      if (greeting_json_.empty()) greeting_json_ = "\"Hello\"";
    }

    requests_ = host().counter("plexus_hello_requests_total", "Requests served by the " PLUGIN_NAME " plugin",
                               {"route"});

    // Builds a string and returns: it never blocks, so the kernel may run it on an I/O thread.
    // Public: anyone may call it, credentials or not.
    host().route(
        "GET", "/api/v1/hello", plexus::sdk::kPublic,
        [this](const plexus::sdk::Request&, plexus::sdk::Response& res) {
          requests_.add(1, {"/api/v1/hello"});
          res.json(200, "{\"name\":\"" PLUGIN_NAME "\",\"version\":\"" PLUGIN_VERSION "\",\"generation\":" +
                            std::to_string(host().generation()) + ",\"greeting\":" + greeting() + "}");
        },
        PLEXUS_ROUTE_NONBLOCKING);

    host().route("GET", "/api/v1/hello/stream", plexus::sdk::kPublic,
                 [this](const plexus::sdk::Request&, plexus::sdk::Response& res) {
                   requests_.add(1, {"/api/v1/hello/stream"});
                   res.stream([this](plexus::sdk::EventStream stream) { subscribe(std::move(stream)); });
                 });

    // Any signed-in caller; the host says who it is and answers permission questions.
    host().route("GET", "/api/v1/hello/me", plexus::sdk::kAuthenticated,
                 [this](const plexus::sdk::Request& req, plexus::sdk::Response& res) {
                   const auto caller = req.caller();
                   const bool may_greet = host().allowed(caller, "hello.greeting.write");
                   res.json(200, "{\"tenant\":" + json_quote(caller.tenant()) + ",\"name\":" +
                                     json_quote(caller.name()) + ",\"kind\":" + json_quote(caller.kind()) +
                                     ",\"may_greet\":" + (may_greet ? "true" : "false") + "}");
                 });

    // Only callers granted hello.greeting.write (admin, or a custom role); every change audited.
    host().route("PUT", "/api/v1/hello/greeting", "hello.greeting.write",
                 [this](const plexus::sdk::Request& req, plexus::sdk::Response& res) {
                   const std::string next = json_string_member(req.body(), "greeting");
                   if (next.size() < 2 || next.size() > 202) {
                     res.json(400, "{\"error\":{\"code\":\"invalid_greeting\",\"message\":"
                                   "\"the body must be {\\\"greeting\\\": \\\"1 to 200 characters\\\"}\","
                                   "\"details\":{\"field\":\"greeting\"}}}");
                     return;
                   }
                   std::string previous;
                   {
                     std::lock_guard<std::mutex> lock(mutex_);
                     previous = greeting_json_;
                     greeting_json_ = next;
                   }
                   host().audit(req.caller(), "{\"action\":\"greeting.update\",\"target\":\"greeting\","
                                              "\"before\":" + previous + ",\"after\":" + next + "}");
                   res.json(200, "{\"greeting\":" + next + "}");
                 });

    // One timer serves every stream. A timer per stream would also work, but each
    // Host::timer() callback is kept until the plugin unloads.
    tick_timer_ = host().timer(1000, true, [this] { tick(); });
    timer_started_ = true;

    host().info("started " PLUGIN_NAME " " PLUGIN_VERSION ", generation " +
                std::to_string(host().generation()));
  }

  // Called once no call into the plugin is running: close and release every stream
  // (each handle holds host state) and stop the timer.
  void stop() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopped_ = true;
      for (auto& subscriber : subscribers_) subscriber.stream.close();
      subscribers_.clear();  // the last copy of each handle: this releases the streams
    }
    if (!timer_started_) return;
    try {
      host().cancel_timer(tick_timer_);
    } catch (const plexus::sdk::Error&) {
      // When unloading, the host revokes timers before calling stop(): already gone.
    }
  }

 private:
  std::string greeting() {
    std::lock_guard<std::mutex> lock(mutex_);  // held for a copy: still never blocks for long
    return greeting_json_;
  }

  struct Subscriber {
    plexus::sdk::EventStream stream;
    std::uint64_t ticks = 0;
  };

  // Runs on a worker thread once the stream is live.
  void subscribe(plexus::sdk::EventStream stream) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopped_) {
      stream.close();
      return;
    }
    subscribers_.push_back(Subscriber{std::move(stream), 0});
  }

  // Runs on a worker thread every second. A stream closes by itself when the client goes
  // away; send() then answers false and the stream is dropped (and released) here, under
  // the lock, so no other thread can still be using that handle.
  void tick() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = subscribers_.begin(); it != subscribers_.end();) {
      const std::string count = std::to_string(++it->ticks);
      if (it->stream.send("tick", "{\"count\":" + count + "}", count)) {
        ++it;
      } else {
        it = subscribers_.erase(it);
      }
    }
  }

  plexus::sdk::Metric requests_;
  std::uint64_t tick_timer_ = 0;
  bool timer_started_ = false;  // stop() may follow a start() that failed early

  std::mutex mutex_;  // guards what follows; handlers and the timer run on several threads
  std::string greeting_json_;  // a JSON string token, quotes included
  bool stopped_ = false;
  std::list<Subscriber> subscribers_;
};

PLEXUS_PLUGIN(HelloPlugin, PLUGIN_NAME, PLUGIN_VERSION, CONFIG_SCHEMA)
