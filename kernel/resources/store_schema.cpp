#include "kernel/resources/store_schema.hpp"

namespace plexus::resources {

const std::vector<store::Migration>& store_migrations() {
  static const std::vector<store::Migration> migrations = {
      {1,
       "resources, revisions, promotions, references",
       {
           // One row per resource: its current revision and the revision each stage points at.
           "CREATE TABLE resources ("
           " tenant_id TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL,"
           " revision BIGINT NOT NULL,"
           " staging_revision BIGINT, production_revision BIGINT,"
           " deleted INTEGER NOT NULL DEFAULT 0,"
           " created_by TEXT NOT NULL, created_at TEXT NOT NULL,"
           " updated_by TEXT NOT NULL, updated_at TEXT NOT NULL,"
           " PRIMARY KEY (tenant_id, kind, id))",
           // Every save; never changed, only removed by retention.
           "CREATE TABLE resource_revisions ("
           " tenant_id TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL, revision BIGINT NOT NULL,"
           " author TEXT NOT NULL, created_at TEXT NOT NULL, reason TEXT NOT NULL,"
           " content TEXT NOT NULL, content_hash TEXT NOT NULL,"
           " PRIMARY KEY (tenant_id, kind, id, revision))",
           "CREATE INDEX resource_revisions_time ON resource_revisions (tenant_id, created_at)",
           // Promotions waiting for (or given) a second person's approval.
           "CREATE TABLE resource_promotions ("
           " tenant_id TEXT NOT NULL, request_id TEXT NOT NULL,"
           " kind TEXT NOT NULL, id TEXT NOT NULL, stage TEXT NOT NULL, revision BIGINT NOT NULL,"
           " status TEXT NOT NULL,"
           " requested_by TEXT NOT NULL, requester_user_id TEXT NOT NULL, reason TEXT NOT NULL,"
           " requested_at TEXT NOT NULL,"
           " decided_by TEXT, decided_at TEXT,"
           " PRIMARY KEY (tenant_id, request_id))",
           "CREATE INDEX resource_promotions_resource ON resource_promotions (tenant_id, kind, id, status)",
           // Edges from a resource's current content to the resources it uses.
           "CREATE TABLE resource_references ("
           " tenant_id TEXT NOT NULL, from_kind TEXT NOT NULL, from_id TEXT NOT NULL,"
           " to_kind TEXT NOT NULL, to_id TEXT NOT NULL,"
           " PRIMARY KEY (tenant_id, from_kind, from_id, to_kind, to_id))",
           "CREATE INDEX resource_references_target ON resource_references (tenant_id, to_kind, to_id)",
       }},
  };
  return migrations;
}

}  // namespace plexus::resources
