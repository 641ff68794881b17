// One client connection: read a request within the limits, hand it to the worker
// pool, write the response, repeat while keep-alive lasts; or turn into an SSE
// stream fed by producers on any thread. Every step runs on the connection's strand.
#include <chrono>
#include <ctime>
#include <deque>
#include <functional>

#include <spdlog/logger.h>

#include "kernel/http/event_stream.hpp"
#include "kernel/http/server_impl.hpp"
#include "kernel/log/log.hpp"

namespace plexus::http {
namespace {

namespace bhttp = beast::http;
using Clock = std::chrono::steady_clock;

// RFC 9110 IMF-fixdate, formatted once per second per thread.
const std::string& http_date() {
  thread_local std::time_t cached_second = 0;
  thread_local std::string cached;
  const std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buffer[64];
    const auto n = std::strftime(buffer, sizeof buffer, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached.assign(buffer, n);
    cached_second = now;
  }
  return cached;
}

std::string sse_frame(std::string_view event, std::string_view data, std::string_view id) {
  std::string frame;
  frame.reserve(data.size() + event.size() + id.size() + 32);
  if (!id.empty()) frame.append("id: ").append(id).append("\n");
  if (!event.empty()) frame.append("event: ").append(event).append("\n");
  std::size_t start = 0;
  while (true) {
    const auto newline = data.find('\n', start);
    frame.append("data: ").append(data.substr(start, newline - start)).append("\n");
    if (newline == std::string_view::npos) break;
    start = newline + 1;
  }
  frame.append("\n");
  return frame;
}

// The producer-side handle of a stream; outlives the session harmlessly.
class StreamHandle final : public EventStream {
 public:
  using Post = std::function<void(std::string frame)>;
  using Close = std::function<void()>;
  StreamHandle(Post post, Close close) : post_(std::move(post)), close_(std::move(close)) {}

  bool send(std::string_view event, std::string_view data, std::string_view id) override {
    // Keep event names and ids on one line, or they would inject fields.
    if (event.find_first_of("\r\n") != std::string_view::npos || id.find_first_of("\r\n") != std::string_view::npos) {
      return false;
    }
    return post(sse_frame(event, data, id));
  }
  bool send_comment(std::string_view text) override {
    std::string frame;
    std::size_t start = 0;
    while (true) {
      const auto newline = text.find('\n', start);
      frame.append(": ").append(text.substr(start, newline - start)).append("\n");
      if (newline == std::string_view::npos) break;
      start = newline + 1;
    }
    frame.append("\n");
    return post(std::move(frame));
  }
  void close() override {
    if (open_.exchange(false)) close_();
  }
  bool is_open() const override { return open_.load(); }
  void on_close(std::function<void()> callback) override {
    {
      std::lock_guard lock(mutex_);
      if (!ended_) {
        callbacks_.push_back(std::move(callback));
        return;
      }
    }
    callback();
  }

  // Called by the session once, when the stream is over.
  std::vector<std::function<void()>> end() {
    open_ = false;
    std::lock_guard lock(mutex_);
    ended_ = true;
    return std::exchange(callbacks_, {});
  }

 private:
  bool post(std::string frame) {
    if (!open_.load()) return false;
    post_(std::move(frame));
    return true;
  }
  Post post_;
  Close close_;
  std::atomic<bool> open_{true};
  std::mutex mutex_;
  bool ended_ = false;
  std::vector<std::function<void()>> callbacks_;
};

template <class Stream>
class Session final : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(Server::Impl& server, ListenerContext& listener, Stream stream)
      : server_(server), listener_(listener), stream_(std::move(stream)), heartbeat_(stream_.get_executor()) {}

  ~Session() override {
    server_.untrack(this);
    server_.connections.fetch_sub(1);
    listener_.connections->dec();
  }

  void start(std::string remote) {
    remote_ = std::move(remote);
    server_.track(this->shared_from_this());
    if constexpr (is_tls) {
      lowest().expires_after(server_.options.header_timeout);
      stream_.async_handshake(net::ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) return self->close_now();
                                self->wait_for_request();
                              });
    } else {
      wait_for_request();
    }
  }

  void shutdown() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] { self->on_shutdown(); });
  }

  void force_close() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] { self->close_now(); });
  }

 private:
  static constexpr bool is_tls = !std::is_same_v<Stream, beast::tcp_stream>;
  enum class State { waiting, reading, handling, writing, streaming, closed };

  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  // Keep-alive: the idle timeout applies until the first byte of the next request,
  // then the header timeout, so slow senders are cut off but quiet clients may stay.
  void wait_for_request() {
    if (server_.stopping) return close_gracefully();
    state_ = State::waiting;
    if (buffer_.size() > 0) return read_header();
    lowest().expires_after(server_.options.idle_timeout);
    stream_.async_read_some(buffer_.prepare(4096), [self = this->shared_from_this()](beast::error_code ec,
                                                                                     std::size_t n) {
      self->buffer_.commit(n);
      if (ec) return self->close_now();
      self->read_header();
    });
  }

  void read_header() {
    state_ = State::reading;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_.options.max_header_size));
    parser_->body_limit(server_.options.max_body_size);
    lowest().expires_after(server_.options.header_timeout);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                               if (ec) return self->on_read_error(ec);
                               self->after_header();
                             });
  }

  void after_header() {
    received_ = Clock::now();
    auto& request = parser_->get();
    const auto length = parser_->content_length();
    if (length && *length > server_.options.max_body_size) return on_read_error(bhttp::error::body_limit);
    if (parser_->is_done()) return on_request();
    const auto expect = request[bhttp::field::expect];
    if (beast::iequals(expect, "100-continue")) {
      static const std::string continue_line = "HTTP/1.1 100 Continue\r\n\r\n";
      lowest().expires_after(server_.options.write_timeout);
      return net::async_write(stream_, net::buffer(continue_line),
                              [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                                if (ec) return self->close_now();
                                self->read_body();
                              });
    }
    read_body();
  }

  void read_body() {
    lowest().expires_after(server_.options.body_timeout);
    bhttp::async_read(stream_, buffer_, *parser_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->on_read_error(ec);
      self->on_request();
    });
  }

  void on_read_error(beast::error_code ec) {
    if (ec == bhttp::error::header_limit) {
      return reject(431, "request_header_fields_too_large", "the request headers exceed the server's limit",
                    "header_limit");
    }
    if (ec == bhttp::error::body_limit) {
      return reject(413, "payload_too_large",
                    "the request body exceeds the limit of " + std::to_string(server_.options.max_body_size) +
                        " bytes",
                    "body_limit");
    }
    if (ec == beast::error::timeout) {
      // A request started but did not arrive in time. Beast has closed the socket
      // already, so there is no 408 to send; the client is simply cut off.
      server_.dispatcher.rejected("timeout");
      return close_now();
    }
    if (ec == bhttp::error::end_of_stream || ec == net::error::eof || ec == net::error::connection_reset ||
        ec == net::error::operation_aborted || ec == net::ssl::error::stream_truncated) {
      return close_now();
    }
    reject(400, "bad_request", "malformed HTTP request: " + ec.message(), "malformed");
  }

  // Answers an unreadable request and closes: the stream position is unknown now.
  void reject(int status, std::string_view code, const std::string& message, std::string_view reason) {
    if (!reason.empty()) server_.dispatcher.rejected(reason);
    request_ = Request{};
    request_.request_id = generate_request_id();
    request_.remote_address = remote_;
    keep_alive_ = false;
    Dispatched dispatched{Response::error(status, code, message, nullptr, request_.request_id), "rejected"};
    write_response(std::move(dispatched), false);
  }

  void on_request() {
    state_ = State::handling;
    auto message = parser_->release();
    parser_.reset();
    request_ = Request{};
    request_.method = std::string(message.method_string());
    request_.target = std::string(message.target());
    for (const auto& field : message) request_.headers.add(std::string(field.name_string()), std::string(field.value()));
    request_.body = std::move(message.body());
    request_.remote_address = remote_;
    request_.listener = listener_.options.name;
    const auto id = request_.headers.get("X-Request-ID");
    request_.request_id = id && acceptable_request_id(*id) ? std::string(*id) : generate_request_id();
    keep_alive_ = message.keep_alive();
    version_ = message.version();

    if (log::debug_mode()) log_request_details();

    Routed routed = server_.dispatcher.route(request_, listener_.options.surface);
    if (routed.answer || runs_inline(*routed.route)) {
      // Errors and handlers that never block answer right here: no thread hand-off.
      return write_response(server_.dispatcher.run(request_, std::move(routed)), true);
    }
    // The worker pool runs the handler; the strand resumes with its response.
    server_.workers.post([self = this->shared_from_this(), routed = std::move(routed)]() mutable {
      Dispatched dispatched = self->server_.dispatcher.run(self->request_, std::move(routed));
      net::post(self->stream_.get_executor(), [self, dispatched = std::move(dispatched)]() mutable {
        self->write_response(std::move(dispatched), true);
      });
    });
  }

  void log_request_details() {
    static const auto logger = log::get("http.debug");
    log::RequestScope scope(request_.request_id);
    for (const auto& [name, value] : request_.headers.all()) {
      const bool sensitive = beast::iequals(name, "authorization") || beast::iequals(name, "cookie") ||
                             beast::iequals(name, "x-api-key") || beast::iequals(name, "proxy-authorization");
      logger->debug("{} {} header {}: {}", request_.method, request_.path.empty() ? request_.target : request_.path,
                    name, sensitive ? "***" : value);
    }
  }

  void prepare_headers(const Response& response, bhttp::response_header<>& header) {
    header.result(static_cast<unsigned>(response.status));
    header.version(version_ == 10 ? 10 : 11);
    for (const auto& [name, value] : response.headers.all()) header.insert(name, value);
    header.set(bhttp::field::date, http_date());
    header.set("X-Request-ID", request_.request_id);
    // ASVS 14.4: the same protective headers on every response; a handler may set its own
    // Content-Security-Policy or Cache-Control (the web console, cacheable assets).
    header.set("X-Content-Type-Options", "nosniff");
    header.set("X-Frame-Options", "DENY");
    header.set("Referrer-Policy", "no-referrer");
    if (!response.headers.get("Content-Security-Policy")) {
      header.set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
    }
    if (!response.headers.get("Cache-Control")) header.set(bhttp::field::cache_control, "no-store");
    if constexpr (is_tls) {
      if (server_.options.hsts_max_age.count() > 0) {
        header.set(bhttp::field::strict_transport_security,
                   "max-age=" + std::to_string(server_.options.hsts_max_age.count()) + "; includeSubDomains");
      }
    }
  }

  void write_response(Dispatched dispatched, bool routed) {
    if (state_ == State::closed) return;
    if (dispatched.response.stream_started && dispatched.response.status == 200) {
      return start_stream(std::move(dispatched));
    }
    state_ = State::writing;
    route_label_ = std::move(dispatched.route_label);
    routed_ = routed;
    auto& response = dispatched.response;
    response_.emplace();
    prepare_headers(response, response_->base());
    const bool head = request_.method == "HEAD";
    response_->keep_alive(keep_alive_ && !server_.stopping);
    if (head) {
      response_->content_length(response.body.size());
    } else {
      response_->body() = std::move(response.body);
      response_->prepare_payload();
    }
    lowest().expires_after(server_.options.write_timeout);
    bhttp::async_write(stream_, *response_, [self = this->shared_from_this()](beast::error_code ec, std::size_t bytes) {
      self->after_write(ec, bytes);
    });
  }

  void after_write(beast::error_code ec, std::size_t bytes) {
    const bool keep_alive = response_->keep_alive();
    const int status = response_->result_int();
    response_.reset();
    if (routed_) server_.dispatcher.completed(request_, status, route_label_, bytes, Clock::now() - received_);
    if (ec) return close_now();
    if (!keep_alive) return close_gracefully();
    wait_for_request();
  }

  // ---- Server-Sent Events -------------------------------------------------------

  void start_stream(Dispatched dispatched) {
    state_ = State::streaming;
    route_label_ = std::move(dispatched.route_label);
    stream_header_.emplace();
    prepare_headers(dispatched.response, stream_header_->base());
    stream_header_->keep_alive(false);
    stream_header_->chunked(true);
    serializer_.emplace(*stream_header_);
    started_ = std::move(dispatched.response.stream_started);
    std::weak_ptr<Session> weak = this->shared_from_this();
    handle_ = std::make_shared<StreamHandle>(
        [weak](std::string frame) {
          if (auto self = weak.lock()) {
            net::post(self->stream_.get_executor(),
                      [self, frame = std::move(frame)]() mutable { self->enqueue(std::move(frame)); });
          }
        },
        [weak] {
          if (auto self = weak.lock()) net::post(self->stream_.get_executor(), [self] { self->finish_stream(); });
        });
    server_.sse_streams.inc();
    stream_counted_ = true;
    lowest().expires_after(server_.options.write_timeout);
    bhttp::async_write_header(stream_, *serializer_,
                              [self = this->shared_from_this()](beast::error_code ec, std::size_t bytes) {
                                self->server_.dispatcher.completed(self->request_, 200, self->route_label_, bytes,
                                                                   Clock::now() - self->received_);
                                if (ec) return self->end_stream();
                                self->on_stream_open();
                              });
  }

  void on_stream_open() {
    lowest().expires_never();
    watch_for_disconnect();
    schedule_heartbeat();
    // Producers register on a worker: the I/O thread never runs handler code.
    server_.workers.post([started = std::move(started_), handle = handle_, id = request_.request_id] {
      log::RequestScope scope(id);
      try {
        started(handle);
      } catch (const std::exception& e) {
        log::get("http")->error("stream start failed: {}", e.what());
        handle->close();
      }
    });
    if (!queue_.empty() && !writing_) write_next();
  }

  // A streaming client sends nothing; a completed read means it went away.
  void watch_for_disconnect() {
    stream_.async_read_some(net::buffer(discard_), [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->end_stream();
      self->watch_for_disconnect();
    });
  }

  void schedule_heartbeat() {
    heartbeat_.expires_after(server_.options.sse_heartbeat);
    heartbeat_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
      if (ec || self->state_ != State::streaming) return;
      if (self->queue_.empty()) self->enqueue(": keep-alive\n\n");
      self->schedule_heartbeat();
    });
  }

  void enqueue(std::string frame) {
    if (state_ != State::streaming || closing_stream_) return;
    if (queue_.size() >= server_.options.sse_max_queued) {
      server_.dispatcher.rejected("sse_slow_client");
      return end_stream();
    }
    queue_.push_back(std::move(frame));
    if (!writing_ && serializer_ && serializer_->is_header_done()) write_next();
  }

  void write_next() {
    writing_ = true;
    lowest().expires_after(server_.options.write_timeout);
    net::async_write(stream_, bhttp::make_chunk(net::buffer(queue_.front())),
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                       // After end_stream the front buffer stays put until the session goes.
                       if (self->state_ != State::streaming) return;
                       self->lowest().expires_never();
                       self->queue_.pop_front();
                       self->writing_ = false;
                       if (ec) return self->end_stream();
                       if (!self->queue_.empty()) return self->write_next();
                       if (self->closing_stream_) self->write_last_chunk();
                     });
  }

  void finish_stream() {
    if (state_ != State::streaming || closing_stream_) return;
    closing_stream_ = true;
    if (!writing_ && serializer_ && serializer_->is_header_done()) write_last_chunk();
  }

  void write_last_chunk() {
    writing_ = true;
    lowest().expires_after(server_.options.write_timeout);
    net::async_write(stream_, bhttp::make_chunk_last(),
                     [self = this->shared_from_this()](beast::error_code, std::size_t) { self->end_stream(); });
  }

  void end_stream() {
    if (state_ != State::streaming) return;
    release_stream();
    state_ = State::closed;
    // No TLS close_notify here: a read is still pending on the stream.
    beast::error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    lowest().close();
  }

  // Stream bookkeeping, once: gauge, heartbeat, and the producers' on_close callbacks.
  void release_stream() {
    heartbeat_.cancel();
    // A write in flight still reads the front buffer.
    queue_.erase(writing_ && !queue_.empty() ? queue_.begin() + 1 : queue_.begin(), queue_.end());
    if (stream_counted_) {
      server_.sse_streams.dec();
      stream_counted_ = false;
    }
    if (!handle_) return;
    auto callbacks = handle_->end();
    handle_.reset();
    if (callbacks.empty()) return;
    server_.workers.post([callbacks = std::move(callbacks)] {
      for (const auto& callback : callbacks) callback();
    });
  }

  // ---- shutdown and close ---------------------------------------------------------

  void on_shutdown() {
    switch (state_) {
      case State::waiting: return close_now();
      case State::streaming: return finish_stream();
      default: keep_alive_ = false; return;  // reading/handling/writing: close after the response
    }
  }

  void close_gracefully() {
    if (state_ == State::closed) return;
    state_ = State::closed;
    if constexpr (is_tls) {
      lowest().expires_after(std::chrono::seconds(2));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) { self->lowest().close(); });
    } else {
      beast::error_code ignored;
      lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
      lowest().close();
    }
  }

  void close_now() {
    if (state_ == State::streaming) release_stream();
    state_ = State::closed;
    lowest().close();
  }

  Server::Impl& server_;
  ListenerContext& listener_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::optional<bhttp::response<bhttp::string_body>> response_;
  State state_ = State::waiting;
  Request request_;
  std::string remote_;
  std::string route_label_;
  bool routed_ = false;
  bool keep_alive_ = false;
  unsigned version_ = 11;
  Clock::time_point received_;

  // Streaming.
  std::optional<bhttp::response<bhttp::empty_body>> stream_header_;
  std::optional<bhttp::response_serializer<bhttp::empty_body>> serializer_;
  std::function<void(std::shared_ptr<EventStream>)> started_;
  std::shared_ptr<StreamHandle> handle_;
  std::deque<std::string> queue_;
  bool writing_ = false;
  bool closing_stream_ = false;
  bool stream_counted_ = false;
  net::steady_timer heartbeat_;
  char discard_[256];
};

}  // namespace

void start_session(Server::Impl& server, ListenerContext& listener, tcp::socket socket) {
  beast::error_code ec;
  const auto endpoint = socket.remote_endpoint(ec);
  const std::string remote = ec ? std::string("unknown") : endpoint.address().to_string();
  socket.set_option(tcp::no_delay(true), ec);
  server.connections.fetch_add(1);
  listener.connections->inc();
  if (listener.tls) {
    using TlsStream = beast::ssl_stream<beast::tcp_stream>;
    auto session = std::make_shared<Session<TlsStream>>(server, listener,
                                                        TlsStream(beast::tcp_stream(std::move(socket)), *listener.tls));
    session->start(remote);
  } else {
    auto session = std::make_shared<Session<beast::tcp_stream>>(server, listener, beast::tcp_stream(std::move(socket)));
    session->start(remote);
  }
}

}  // namespace plexus::http
