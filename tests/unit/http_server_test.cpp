// The kernel HTTP server over real loopback sockets: limits, keep-alive, timeouts,
// SSE without worker threads, graceful shutdown, TLS and the error body.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <thread>

#include "kernel/http/server.hpp"
#include "kernel/metrics/registry.hpp"
#include "tests/support/test_support.hpp"

using namespace std::chrono_literals;
using plexus::http::EventStream;
using plexus::http::Request;
using plexus::http::Response;
using plexus::http::Route;
using plexus::http::ServerOptions;
using plexus::test::RawConnection;
using plexus::test::status_of;

namespace {

ServerOptions test_options() {
  ServerOptions options;
  options.listeners[0].port = 0;
  options.io_threads = 2;
  options.workers = 4;
  return options;
}

// A server on a free loopback port with a few routes every test can use.
struct TestServer {
  explicit TestServer(ServerOptions options = test_options()) {
    router.add({"GET", "/hello", [](Request&) { return Response::text(200, "hello"); }});
    router.add({"POST", "/echo", [](Request& r) { return Response::text(200, r.body); }});
    router.add({"GET", "/items/{id}", [](Request& r) {
                  return Response::json(200, {{"id", r.path_params.at("id")}, {"q", r.query_or("q", "")}});
                }});
    router.add({"GET", "/throws", [](Request&) -> Response { throw std::runtime_error("secret internal detail"); }});
    router.add({"GET", "/throws-int", [](Request&) -> Response { throw 42; }});
    server = std::make_unique<plexus::http::Server>(std::move(options), router, registry);
  }
  void start() { server->start(); }
  int port(const char* listener = "main") const { return server->port(listener); }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port());
    c.set_connection_timeout(5);
    c.set_read_timeout(10);
    return c;
  }

  plexus::metrics::Registry registry;
  plexus::http::Router router;
  std::unique_ptr<plexus::http::Server> server;
};

// GET /hold: its handler keeps a worker until `release` is set.
struct HeldRoute {
  explicit HeldRoute(plexus::http::Router& router) {
    router.add({"GET", "/hold", [this](Request&) {
                  entered.set_value();
                  released.wait_for(10s);
                  return Response::text(200, "held");
                }});
  }
  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
};

nlohmann::json body_json(const std::string& raw) { return nlohmann::json::parse(raw.substr(raw.find("\r\n\r\n") + 4)); }

}  // namespace

TEST_CASE("keep-alive serves several requests on one connection", "[http]") {
  TestServer t;
  t.start();
  RawConnection connection(t.port());
  for (int i = 0; i < 3; ++i) {
    REQUIRE(connection.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"));
    const auto response = connection.read_response();
    REQUIRE(status_of(response) == 200);
    REQUIRE(response.ends_with("hello"));
    REQUIRE(response.find("Connection: close") == std::string::npos);
  }
  REQUIRE(t.server->open_connections() == 1);
}

TEST_CASE("pipelined requests are answered in order", "[http]") {
  TestServer t;
  t.start();
  RawConnection connection(t.port());
  REQUIRE(connection.send("GET /items/1 HTTP/1.1\r\nHost: x\r\n\r\nGET /items/2 HTTP/1.1\r\nHost: x\r\n\r\n"));
  REQUIRE(body_json(connection.read_response())["id"] == "1");
  REQUIRE(body_json(connection.read_response())["id"] == "2");
}

TEST_CASE("a body over the limit gets 413 and the server keeps serving", "[http]") {
  auto options = test_options();
  options.max_body_size = 1024;
  TestServer t(options);
  t.start();
  auto client = t.client();
  auto small = client.Post("/echo", std::string(1000, 'a'), "text/plain");
  REQUIRE(small);
  REQUIRE(small->status == 200);

  RawConnection connection(t.port());
  REQUIRE(connection.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" + std::string(5000, 'b')));
  const auto response = connection.read_response();
  REQUIRE(status_of(response) == 413);
  REQUIRE(body_json(response)["error"]["code"] == "payload_too_large");

  // Chunked bodies are held to the same limit.
  RawConnection chunked(t.port());
  std::string chunk(2048, 'c');
  REQUIRE(chunked.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n" + chunk + "\r\n0\r\n\r\n"));
  REQUIRE(status_of(chunked.read_response()) == 413);

  auto after = t.client().Get("/hello");
  REQUIRE(after);
  REQUIRE(after->status == 200);
}

TEST_CASE("headers over the limit get 431", "[http]") {
  auto options = test_options();
  options.max_header_size = 2048;
  TestServer t(options);
  t.start();
  RawConnection connection(t.port());
  REQUIRE(connection.send("GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4096, 'h') + "\r\n\r\n"));
  const auto response = connection.read_response();
  REQUIRE(status_of(response) == 431);
  REQUIRE(body_json(response)["error"]["code"] == "request_header_fields_too_large");
  REQUIRE(t.client().Get("/hello")->status == 200);
}

TEST_CASE("a garbage request line gets 400 and the next request still works", "[http]") {
  TestServer t;
  t.start();
  {
    RawConnection connection(t.port());
    REQUIRE(connection.send("\x01\x02 garbage \xff\r\n\r\n"));
    const auto response = connection.read_response();
    REQUIRE(status_of(response) == 400);
    const auto error = body_json(response)["error"];
    REQUIRE(error["code"] == "bad_request");
    REQUIRE_FALSE(error["request_id"].get<std::string>().empty());
    REQUIRE(connection.closed_by_peer(2s));
  }
  RawConnection next(t.port());
  REQUIRE(next.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"));
  REQUIRE(status_of(next.read_response()) == 200);
}

TEST_CASE("unknown routes, wrong methods and handler failures get the JSON error body", "[http]") {
  TestServer t;
  t.start();
  auto client = t.client();
  auto missing = client.Get("/nope");
  REQUIRE(missing->status == 404);
  auto error = nlohmann::json::parse(missing->body)["error"];
  REQUIRE(error["code"] == "not_found");
  REQUIRE(error.contains("message"));
  REQUIRE(error.contains("details"));
  REQUIRE(error["request_id"] == missing->get_header_value("X-Request-ID"));

  auto wrong = client.Delete("/hello");
  REQUIRE(wrong->status == 405);
  REQUIRE(wrong->get_header_value("Allow") == "GET");

  auto failed = client.Get("/throws");
  REQUIRE(failed->status == 500);
  REQUIRE(nlohmann::json::parse(failed->body)["error"]["code"] == "internal_error");
  REQUIRE(failed->body.find("secret internal detail") == std::string::npos);

  auto non_std = client.Get("/throws-int");
  REQUIRE(non_std->status == 500);
  REQUIRE(client.Get("/hello")->status == 200);
}

TEST_CASE("X-Request-ID is accepted when sane, generated otherwise, and returned", "[http]") {
  TestServer t;
  t.start();
  auto client = t.client();
  auto kept = client.Get("/hello", {{"X-Request-ID", "abc-123.def"}});
  REQUIRE(kept->get_header_value("X-Request-ID") == "abc-123.def");
  auto replaced = client.Get("/hello", {{"X-Request-ID", "bad id with spaces"}});
  const auto generated = replaced->get_header_value("X-Request-ID");
  REQUIRE(generated.size() == 32);
  auto other = client.Get("/hello");
  REQUIRE(other->get_header_value("X-Request-ID") != generated);
}

TEST_CASE("path parameters and query strings are percent-decoded", "[http]") {
  TestServer t;
  t.start();
  RawConnection connection(t.port());
  REQUIRE(connection.send("GET /items/a%20b?q=x%2By+z HTTP/1.1\r\nHost: x\r\n\r\n"));
  const auto response = connection.read_response();
  REQUIRE(status_of(response) == 200);
  auto body = body_json(response);
  REQUIRE(body["id"] == "a b");
  REQUIRE(body["q"] == "x+y z");
  REQUIRE(connection.send("GET /items/%zz HTTP/1.1\r\nHost: x\r\n\r\n"));
  REQUIRE(status_of(connection.read_response()) == 400);
}

TEST_CASE("HEAD answers like GET without a body", "[http]") {
  TestServer t;
  t.start();
  RawConnection connection(t.port());
  REQUIRE(connection.send("HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n"));
  const auto head = connection.read_some(2s, "\r\n\r\n");
  REQUIRE(status_of(head) == 200);
  REQUIRE(head.find("Content-Length: 5") != std::string::npos);
  REQUIRE(head.ends_with("\r\n\r\n"));
}

TEST_CASE("Expect: 100-continue gets an interim response before the body", "[http]") {
  TestServer t;
  t.start();
  RawConnection connection(t.port());
  REQUIRE(connection.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"));
  REQUIRE(connection.read_some(2s, "\r\n\r\n").starts_with("HTTP/1.1 100 Continue"));
  REQUIRE(connection.send("ping"));
  const auto response = connection.read_response();
  REQUIRE(status_of(response) == 200);
  REQUIRE(response.ends_with("ping"));
}

TEST_CASE("a client that sends headers too slowly is cut off", "[http]") {
  auto options = test_options();
  options.header_timeout = 300ms;
  TestServer t(options);
  t.start();
  RawConnection slow(t.port());
  REQUIRE(slow.send("GET /hello HTTP/1.1\r\n"));
  // Meanwhile everybody else is served.
  REQUIRE(t.client().Get("/hello")->status == 200);
  REQUIRE(slow.closed_by_peer(5s));
  // The server closes the socket before its read completes and counts the rejection.
  const std::string counted = R"(plexus_http_rejected_total{reason="timeout"} 1)";
  for (int i = 0; i < 200 && t.registry.render().find(counted) == std::string::npos; ++i) std::this_thread::sleep_for(10ms);
  REQUIRE_THAT(t.registry.render(), Catch::Contains(counted));
}

TEST_CASE("idle keep-alive connections are closed after the idle timeout", "[http]") {
  auto options = test_options();
  options.idle_timeout = 200ms;
  TestServer t(options);
  t.start();
  RawConnection connection(t.port());
  REQUIRE(connection.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"));
  REQUIRE(status_of(connection.read_response()) == 200);
  REQUIRE(connection.closed_by_peer(5s));
}

TEST_CASE("300 idle connections do not delay a request", "[http]") {
  TestServer t;
  t.start();
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (int i = 0; i < 300; ++i) idle.push_back(std::make_unique<RawConnection>(t.port()));
  // Half of them are mid-request, the rest have sent nothing.
  for (int i = 0; i < 150; ++i) REQUIRE(idle[i]->send("GET /hello HTTP/1.1\r\n"));
  auto response = t.client().Get("/hello");
  REQUIRE(response);
  REQUIRE(response->status == 200);
  REQUIRE(t.server->open_connections() >= 300);
}

TEST_CASE("a slow handler does not block other requests", "[http]") {
  TestServer t;
  std::promise<void> release;
  auto released = release.get_future().share();
  t.router.add({"GET", "/slow", [released](Request&) {
                  released.wait_for(10s);
                  return Response::text(200, "slow");
                }});
  t.start();
  auto slow = std::async(std::launch::async, [&] { return t.client().Get("/slow"); });
  REQUIRE(t.client().Get("/hello")->status == 200);
  release.set_value();
  REQUIRE(slow.get()->status == 200);
}

TEST_CASE("200 open SSE streams hold no worker and ordinary requests are served", "[http][sse]") {
  auto options = test_options();
  options.workers = 2;  // far fewer workers than streams
  TestServer t(options);
  std::mutex mutex;
  std::vector<std::shared_ptr<EventStream>> streams;
  std::atomic<int> closed{0};
  t.router.add({"GET", "/stream", [&](Request&) {
                  return Response::event_stream([&](std::shared_ptr<EventStream> stream) {
                    stream->on_close([&] { ++closed; });
                    stream->send("hello", "first");
                    std::lock_guard lock(mutex);
                    streams.push_back(std::move(stream));
                  });
                }});
  t.start();
  std::vector<std::unique_ptr<RawConnection>> clients;
  for (int i = 0; i < 200; ++i) {
    clients.push_back(std::make_unique<RawConnection>(t.port()));
    REQUIRE(clients.back()->send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n"));
  }
  for (auto& client : clients) {
    const auto first = client->read_some(10s, "data: first\n\n");
    REQUIRE(first.find("text/event-stream") != std::string::npos);
    REQUIRE(first.find("event: hello\ndata: first\n\n") != std::string::npos);
  }
  for (int i = 0; i < 20; ++i) REQUIRE(t.client().Get("/hello")->status == 200);

  {
    std::lock_guard lock(mutex);
    REQUIRE(streams.size() == 200);
    for (auto& stream : streams) REQUIRE(stream->send("tick", "line one\nline two", "7"));
  }
  const auto tick = clients[17]->read_some(10s, "line two\n\n");
  REQUIRE(tick.find("id: 7\nevent: tick\ndata: line one\ndata: line two\n\n") != std::string::npos);

  // A client that goes away ends its stream and runs the producer's on_close.
  clients[0].reset();
  for (int i = 0; i < 200 && closed.load() == 0; ++i) std::this_thread::sleep_for(10ms);
  REQUIRE(closed.load() == 1);
  std::lock_guard lock(mutex);
  const auto ended = std::find_if(streams.begin(), streams.end(), [](auto& s) { return !s->is_open(); });
  REQUIRE(ended != streams.end());
  REQUIRE_FALSE((*ended)->send("late", "nobody listens"));
  REQUIRE(std::count_if(streams.begin(), streams.end(), [](auto& s) { return s->is_open(); }) == 199);
}

TEST_CASE("a producer closing a stream ends the response cleanly", "[http][sse]") {
  TestServer t;
  t.router.add({"GET", "/short", [](Request&) {
                  return Response::event_stream([](std::shared_ptr<EventStream> stream) {
                    stream->send("", "only");
                    stream->close();
                  });
                }});
  t.start();
  RawConnection connection(t.port());
  REQUIRE(connection.send("GET /short HTTP/1.1\r\nHost: x\r\n\r\n"));
  const auto response = connection.read_response();
  REQUIRE(status_of(response) == 200);
  REQUIRE(response.find("data: only\n\n") != std::string::npos);
  REQUIRE(connection.closed_by_peer(5s));
}

TEST_CASE("a stream whose client does not read is dropped, not buffered forever", "[http][sse]") {
  auto options = test_options();
  options.sse_max_queued = 8;
  TestServer t(options);
  std::promise<std::shared_ptr<EventStream>> opened;
  t.router.add({"GET", "/flood", [&](Request&) {
                  return Response::event_stream([&](std::shared_ptr<EventStream> s) { opened.set_value(s); });
                }});
  t.start();
  RawConnection connection(t.port());
  REQUIRE(connection.send("GET /flood HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto stream = opened.get_future().get();
  const std::string big(64 * 1024, 'x');
  bool dropped = false;
  for (int i = 0; i < 100000 && !dropped; ++i) dropped = !stream->send("big", big);
  REQUIRE(dropped);
  REQUIRE(t.client().Get("/hello")->status == 200);
}

TEST_CASE("graceful shutdown completes an in-flight request and refuses new ones", "[http]") {
  TestServer t;
  std::promise<void> entered;
  t.router.add({"GET", "/work", [&](Request&) {
                  entered.set_value();
                  std::this_thread::sleep_for(300ms);
                  return Response::text(200, "done");
                }});
  t.start();
  const int port = t.port();
  RawConnection idle(port);
  RawConnection busy(port);
  REQUIRE(busy.send("GET /work HTTP/1.1\r\nHost: x\r\n\r\n"));
  entered.get_future().wait();
  auto stopped = std::async(std::launch::async, [&] { return t.server->stop(10s); });
  const auto response = busy.read_response();
  REQUIRE(status_of(response) == 200);
  REQUIRE(response.ends_with("done"));
  REQUIRE(response.find("Connection: close") != std::string::npos);
  REQUIRE(idle.closed_by_peer(5s));
  REQUIRE(stopped.get());
  REQUIRE_THROWS(RawConnection(port));
}

TEST_CASE("shutdown cuts off a handler that outlives the deadline", "[http]") {
  TestServer t;
  std::promise<void> entered;
  std::promise<void> release;
  auto released = release.get_future().share();
  t.router.add({"GET", "/stuck", [&, released](Request&) {
                  entered.set_value();
                  released.wait_for(10s);
                  return Response::text(200, "late");
                }});
  t.start();
  RawConnection busy(t.port());
  REQUIRE(busy.send("GET /stuck HTTP/1.1\r\nHost: x\r\n\r\n"));
  entered.get_future().wait();
  REQUIRE_FALSE(t.server->stop(200ms));
  REQUIRE(busy.closed_by_peer(5s));
  release.set_value();
}

TEST_CASE("HTTPS with a certificate generated for the test", "[http][tls]") {
  plexus::test::TempDir dir;
  const auto cert = dir.path() / "cert.pem";
  const auto key = dir.path() / "key.pem";
  const auto made = plexus::test::run_command({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                                               "-subj", "/CN=127.0.0.1", "-keyout", key.string(), "-out",
                                               cert.string()});
  REQUIRE(made.exit_code == 0);
  auto options = test_options();
  options.listeners[0].tls_cert_file = cert.string();
  options.listeners[0].tls_key_file = key.string();
  TestServer t(options);
  t.start();
  httplib::SSLClient client("127.0.0.1", t.port());
  client.set_ca_cert_path(cert.string());
  client.enable_server_certificate_verification(false);
  auto first = client.Get("/hello");
  REQUIRE(first);
  REQUIRE(first->status == 200);
  REQUIRE(first->body == "hello");
  // HTTPS tells browsers to stay on HTTPS (ASVS 9.1.1).
  REQUIRE(first->get_header_value("Strict-Transport-Security") == "max-age=31536000; includeSubDomains");
  REQUIRE(client.Get("/items/9")->status == 200);  // same TLS connection, kept alive

  // Plain HTTP to the TLS port does not get an answer in clear text.
  RawConnection plain(t.port());
  REQUIRE(plain.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"));
  REQUIRE(status_of(plain.read_response(2s)) == 0);
}

TEST_CASE("a bad TLS key stops start-up with the listener and file named", "[http][tls]") {
  plexus::test::TempDir dir;
  const auto cert = dir.write("cert.pem", "not a certificate");
  auto options = test_options();
  options.listeners[0].tls_cert_file = cert.string();
  options.listeners[0].tls_key_file = cert.string();
  TestServer t(options);
  REQUIRE_THROWS_WITH(t.start(), Catch::Contains("listener 'main'") && Catch::Contains("cert.pem"));
}

TEST_CASE("a second listener serves the console surface apart from the API (COM-14)", "[http]") {
  auto options = test_options();
  options.listeners[0].surface = plexus::http::Surface::api;
  plexus::http::ListenerOptions console;
  console.name = "console";
  console.port = 0;
  console.surface = plexus::http::Surface::console;
  options.listeners.push_back(console);
  TestServer t(options);
  t.router.add({"GET", "/", [](Request&) { return Response::text(200, "console"); }, plexus::http::Surface::console});
  t.router.add({"GET", "/both", [](Request&) { return Response::text(200, "both"); }, plexus::http::Surface::both});
  t.start();
  httplib::Client console_client("127.0.0.1", t.port("console"));
  REQUIRE(console_client.Get("/")->body == "console");
  REQUIRE(console_client.Get("/hello")->status == 404);
  REQUIRE(console_client.Get("/both")->status == 200);
  REQUIRE(t.client().Get("/")->status == 404);
  REQUIRE(t.client().Get("/hello")->status == 200);
  REQUIRE(t.client().Get("/both")->status == 200);
}

TEST_CASE("per-route metrics count requests and rejections", "[http][metrics]") {
  TestServer t;
  t.start();
  auto client = t.client();
  for (int i = 0; i < 3; ++i) client.Get("/items/" + std::to_string(i));
  client.Get("/nope");
  RawConnection bad(t.port());
  bad.send("BROKEN\r\n\r\n");
  bad.read_response();
  // Requests are counted once their response is written, which the server notes just
  // after the client has read it: wait until every count has landed.
  const std::vector<std::string> expected = {
      R"(plexus_http_requests_total{method="GET",route="/items/{id}",status="200"} 3)",
      R"(plexus_http_requests_total{method="GET",route="unmatched",status="404"} 1)",
      R"(plexus_http_request_duration_seconds_count{method="GET",route="/items/{id}"} 3)",
      R"(plexus_http_rejected_total{reason="malformed"} 1)"};
  auto all_there = [&](const std::string& text) {
    return std::all_of(expected.begin(), expected.end(),
                       [&](const std::string& line) { return text.find(line) != std::string::npos; });
  };
  std::string text = t.registry.render();
  for (int i = 0; i < 500 && !all_there(text); ++i) {
    std::this_thread::sleep_for(10ms);
    text = t.registry.render();
  }
  for (const auto& line : expected) REQUIRE_THAT(text, Catch::Contains(line));
}

TEST_CASE("the workers' gauges show busy, blocked and queued handlers at each scrape", "[http][metrics]") {
  auto options = test_options();
  options.workers = 1;
  TestServer t(options);
  HeldRoute hold(t.router);
  t.start();
  auto shows = [&](const std::vector<std::string>& lines) {
    std::string text;
    for (int i = 0; i < 500; ++i) {
      text = t.registry.render();
      if (std::all_of(lines.begin(), lines.end(), [&](const auto& l) { return text.find(l + "\n") != std::string::npos; }))
        return true;
      std::this_thread::sleep_for(10ms);
    }
    FAIL_CHECK("the gauges stayed at:\n" << text);
    return false;
  };
  CHECK(shows({"plexus_http_workers_busy 0", "plexus_http_workers_blocked 0", "plexus_http_requests_queued 0"}));
  auto held = std::async(std::launch::async, [&] { return t.client().Get("/hold"); });
  hold.entered.get_future().wait();  // the only worker is now taken, and past a millisecond soon
  auto waiting = std::async(std::launch::async, [&] { return t.client().Get("/hello"); });
  CHECK(shows({"plexus_http_workers_busy 1", "plexus_http_workers_blocked 1", "plexus_http_requests_queued 1"}));
  hold.release.set_value();
  REQUIRE(held.get()->body == "held");
  REQUIRE(waiting.get()->body == "hello");
  CHECK(shows({"plexus_http_workers_busy 0", "plexus_http_workers_blocked 0", "plexus_http_requests_queued 0"}));
}

TEST_CASE("non-blocking routes answer on the I/O thread while every worker is busy", "[http]") {
  auto options = test_options();
  options.workers = 1;
  TestServer t(options);
  HeldRoute hold(t.router);
  Route quick{"GET", "/quick", [](Request&) { return Response::text(200, "quick"); }};
  quick.non_blocking = true;
  quick.permission = "public";  // deciding access for any other route may block
  t.router.add(std::move(quick));
  t.start();
  auto held = std::async(std::launch::async, [&] { return t.client().Get("/hold"); });
  hold.entered.get_future().wait();  // the only worker is now taken
  auto waiting = std::async(std::launch::async, [&] { return t.client().Get("/hello"); });
  REQUIRE(t.client().Get("/quick")->body == "quick");
  REQUIRE(t.client().Get("/missing")->status == 404);  // errors need no worker either
  REQUIRE(waiting.wait_for(100ms) == std::future_status::timeout);  // /hello needs the worker
  hold.release.set_value();
  REQUIRE(held.get()->body == "held");
  REQUIRE(waiting.get()->body == "hello");
}
