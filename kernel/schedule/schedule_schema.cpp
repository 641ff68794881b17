#include "kernel/schedule/schedule_schema.hpp"

namespace plexus::schedule::schedule_schema {

std::vector<store::Migration> migrations() {
  return {
      {1,
       "schedules",
       {
           // missed_runs '' and catch_up_cap 0: the configured defaults.
           "CREATE TABLE schedules (tenant_id TEXT NOT NULL, name TEXT NOT NULL, owner TEXT NOT NULL, "
           "expression TEXT NOT NULL, time_zone TEXT NOT NULL, missed_runs TEXT NOT NULL, "
           "catch_up_cap INTEGER NOT NULL, singleton INTEGER NOT NULL, paused INTEGER NOT NULL, "
           "job_kind TEXT NOT NULL, payload_json TEXT NOT NULL, priority INTEGER NOT NULL, "
           "created_at TEXT NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (tenant_id, name))",
           // Where each schedule stands: node_id '' for a singleton (one row for the cluster),
           // a node's id for a per-node schedule. Ticks advance next_run_at by compare-and-set.
           "CREATE TABLE schedule_runs (tenant_id TEXT NOT NULL, name TEXT NOT NULL, node_id TEXT NOT NULL, "
           "next_run_at TEXT NOT NULL, last_run_at TEXT, PRIMARY KEY (tenant_id, name, node_id))",
           "CREATE INDEX schedules_owner ON schedules (owner)",
       }},
  };
}

}  // namespace plexus::schedule::schedule_schema
