// Resource changes on the event bus: topic resource.<kind>.changed, keyed by the
// resource so a queued subscriber with several lanes sees each resource's changes in
// order. docs/resources.md "Change events".
#pragma once

#include "kernel/resources/resource_store.hpp"

namespace plexus::events {
class Bus;
}

namespace plexus::resources {

// A ChangeListener publishing each change on `bus` (which must outlive the store):
// payload to_json(change), key "<tenant>/<kind>/<id>".
ChangeListener publish_changes_on(events::Bus& bus);

}  // namespace plexus::resources
