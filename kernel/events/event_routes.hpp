// The event bus over the admin API, for operators and tests: publish one event, and
// watch the events that match a pattern as Server-Sent Events (docs/events.md).
#pragma once

#include <cstddef>
#include <string>

namespace plexus {
namespace http {
class Router;
}
namespace audit {
class AuditLog;
}
namespace events {

class Bus;

struct EventRouteOptions {
  std::string node_id;             // "origin" of the events published on this node
  std::size_t stream_queue = 256;  // events.sse.queue_capacity: per client, oldest dropped beyond it
};

// POST /api/v1/admin/events {"topic", "key"?, "payload"} (admin.events.publish; audited)
// and GET /api/v1/admin/events/stream?pattern=P (admin.events.view). The stream first
// sends an event "ready" once the subscription is in place, then one unnamed event per
// bus event: {"topic", "key", "payload", "origin"}. Its subscription is queued with
// drop_oldest, so a slow client never holds a publisher up, and ends with the stream.
void register_event_routes(http::Router& router, Bus& bus, EventRouteOptions options, audit::AuditLog* audit);

}  // namespace events
}  // namespace plexus
