#include "kernel/jobs/cluster_schema.hpp"

namespace plexus::jobs::cluster_schema {

const std::vector<store::Migration>& migrations() {
  static const std::vector<store::Migration> list = {
      {1,
       "leader leases and node heartbeats",
       {
           // One row per lease name. holder "" means free; expires_at "" sorts before every time.
           "CREATE TABLE leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, token BIGINT NOT NULL, "
           "expires_at TEXT NOT NULL, acquired_at TEXT NOT NULL)",
           "CREATE TABLE nodes (node_id TEXT PRIMARY KEY, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, "
           "info_json TEXT NOT NULL)",
           "CREATE INDEX nodes_last_seen ON nodes (last_seen)",
       }},
  };
  return list;
}

}  // namespace plexus::jobs::cluster_schema
