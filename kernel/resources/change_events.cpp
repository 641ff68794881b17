#include "kernel/resources/change_events.hpp"

#include "kernel/events/bus.hpp"

namespace plexus::resources {

ChangeListener publish_changes_on(events::Bus& bus) {
  return [&bus](const ResourceChange& change) {
    bus.publish(change_topic(change), to_json(change).dump(), change.tenant + "/" + change.kind + "/" + change.id);
  };
}

}  // namespace plexus::resources
