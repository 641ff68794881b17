// The nodes of a cluster as they report themselves: each node writes a heartbeat
// row (id, last seen, free-form info such as address and version) every few
// seconds, and GET /api/v1/admin/cluster lists the nodes seen recently.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernel/jobs/database_clock.hpp"
#include "kernel/store/database.hpp"

namespace plexus::jobs {

struct NodeRecord {
  std::string node_id;
  store::TimePoint first_seen, last_seen;
  nlohmann::json info;  // what the node sent with its last heartbeat: {"address": ..., "version": ...}
};

class NodeRegistry {
 public:
  // Applies the "kernel.cluster" migrations; throws store::MigrationError for a newer schema.
  explicit NodeRegistry(store::Database& database, Clock clock = database_clock());

  // Records that `node_id` is alive now, replacing its info. Throws std::invalid_argument
  // for an empty id or info that is not an object.
  void heartbeat(const std::string& node_id, const nlohmann::json& info = nlohmann::json::object());

  // Nodes whose last heartbeat is at or after `since`, most recently seen first.
  std::vector<NodeRecord> nodes_seen(store::TimePoint since);

 private:
  store::Database& database_;
  Clock clock_;
};

}  // namespace plexus::jobs
