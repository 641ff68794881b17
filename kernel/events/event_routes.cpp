#include "kernel/events/event_routes.hpp"

#include <atomic>
#include <memory>
#include <mutex>

#include "kernel/audit/audit_log.hpp"
#include "kernel/events/bus.hpp"
#include "kernel/http/router.hpp"

namespace plexus::events {
namespace {

using http::HttpError;
using http::Request;
using http::Response;

constexpr std::size_t kMaxTopicLength = 256;
constexpr std::size_t kMaxKeyLength = 256;

const auth::Caller& caller_of(const Request& request) {
  static const auth::Caller anonymous;
  return request.caller ? *request.caller : anonymous;
}

// The bus is node-wide and its events carry no tenant, so only the installation's
// administrators (tenant default) may watch or feed it, as with tenant management.
void require_default_tenant(const Request& request) {
  if (caller_of(request).tenant != "default") {
    throw HttpError(403, "forbidden", "the event bus is open to callers of tenant default only");
  }
}

Response publish(Request& request, Bus& bus, audit::AuditLog* audit) {
  require_default_tenant(request);
  const auto body = request.json();
  if (!body.is_object())
    throw HttpError(400, "invalid_field", "the body must be a JSON object", {{"field", "body"}});
  const auto topic = body.find("topic");
  if (topic == body.end() || !topic->is_string() ||
      topic->get_ref<const std::string&>().size() > kMaxTopicLength ||
      !valid_topic(topic->get_ref<const std::string&>())) {
    throw HttpError(
        400, "invalid_field",
        "\"topic\" is required: dot-separated segments of a-z, 0-9, '_' and '-', at most 256 characters",
        {{"field", "topic"}});
  }
  std::string key;
  if (const auto it = body.find("key"); it != body.end() && !it->is_null()) {
    if (!it->is_string() || it->get_ref<const std::string&>().size() > kMaxKeyLength) {
      throw HttpError(400, "invalid_field", "\"key\" must be a string of at most 256 characters",
                      {{"field", "key"}});
    }
    key = it->get<std::string>();
  }
  // The body is JSON, so any value here is JSON; absent is the mistake to catch.
  const auto payload = body.find("payload");
  if (payload == body.end()) {
    throw HttpError(400, "invalid_field", "\"payload\" is required: any JSON value", {{"field", "payload"}});
  }
  const std::string& name = topic->get_ref<const std::string&>();
  const auto taken = bus.publish(name, payload->dump(), key);
  if (audit != nullptr) {
    auto event = audit::event_of(caller_of(request), "events.publish", "event/" + name);
    event.details = {{"key", key}};  // never the payload: it may hold anything
    audit->record(std::move(event));
  }
  return Response::json(202, {{"topic", name}, {"key", key}, {"subscribers", taken}});
}

// The JSON a stream client gets for one event. A payload that is not JSON (it can only
// come from another node's bug) is passed as a string rather than breaking the line.
std::string stream_data(const Event& event, const std::string& node_id) {
  auto payload = nlohmann::json::parse(event.payload, nullptr, false);
  if (payload.is_discarded()) payload = event.payload;
  return nlohmann::json{{"topic", event.topic},
                        {"key", event.key},
                        {"payload", std::move(payload)},
                        {"origin", event.origin.empty() ? node_id : event.origin}}
      .dump();
}

Response stream(Request& request, Bus& bus, const EventRouteOptions& options) {
  require_default_tenant(request);
  const std::string pattern = request.query_or("pattern", ">");
  if (pattern.size() > kMaxTopicLength || !valid_pattern(pattern)) {
    throw HttpError(
        400, "invalid_parameter",
        "\"pattern\" is dot-separated segments of a-z, 0-9, '_' and '-', where '*' matches one segment "
        "and a final '>' any number",
        {{"field", "pattern"}});
  }
  return Response::event_stream([&bus, pattern, options](std::shared_ptr<http::EventStream> client) {
    // "ready" goes out before any event, and only once the subscription exists, so a
    // client that saw it knows it misses nothing published after.
    auto order = std::make_shared<std::mutex>();
    auto sequence = std::make_shared<std::atomic<std::uint64_t>>(0);
    SubscriptionOptions queued;
    queued.owner = "admin-events-stream";
    queued.queue_capacity = options.stream_queue;
    queued.overflow = Overflow::drop_oldest;
    std::uint64_t id = 0;
    {
      std::lock_guard lock(*order);
      id = bus.subscribe_events(
          pattern,
          [client, order, sequence, node_id = options.node_id](const Event& event) {
            const auto data = stream_data(event, node_id);
            std::lock_guard hold(*order);
            client->send({}, data, std::to_string(++*sequence));
          },
          std::move(queued));
      client->send("ready", nlohmann::json{{"pattern", pattern}}.dump());
    }
    // Outside the lock: on a stream that has already ended this runs at once, and
    // unsubscribing waits for the handler, which may be waiting for that lock.
    client->on_close([&bus, id] { bus.unsubscribe(id); });
  });
}

}  // namespace

void register_event_routes(http::Router& router, Bus& bus, EventRouteOptions options,
                           audit::AuditLog* audit) {
  std::vector<http::Route> routes;
  http::Route post{"POST", "/api/v1/admin/events",
                   [&bus, audit](Request& request) { return publish(request, bus, audit); }};
  post.summary =
      "Publish an event {\"topic\", \"key\"?, \"payload\"} on the bus (and to other nodes through Redis)";
  post.permission = "admin.events.publish";
  routes.push_back(std::move(post));
  http::Route watch{"GET", "/api/v1/admin/events/stream",
                    [&bus, options](Request& request) { return stream(request, bus, options); }};
  watch.summary = "Server-Sent Events of the bus events matching ?pattern= (default >, every event)";
  watch.permission = "admin.events.view";
  routes.push_back(std::move(watch));
  router.add_all(std::move(routes));
}

}  // namespace plexus::events
