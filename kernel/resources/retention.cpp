// Retention: old revisions go, except the ones anybody may still need.
#include "kernel/resources/store_internal.hpp"

namespace plexus::resources {

PruneResult ResourceStore::prune(const RetentionPolicy& policy, store::TimePoint now) {
  if (policy.keep_last < 1) throw std::invalid_argument("retention must keep at least the last revision");
  const auto cutoff = store::format_time(now - policy.keep_younger_than);
  const long long keep_last = policy.keep_last;
  std::vector<std::string> tenants;
  {
    soci::session sql(database_.pool());
    soci::rowset<soci::row> rows =
        (sql.prepare << "SELECT DISTINCT tenant_id FROM resources ORDER BY tenant_id");
    for (const auto& r : rows) tenants.push_back(text_at(r, 0));
  }
  PruneResult result;
  // One transaction per tenant, with its audit row: the tenant's history changed.
  for (const auto& tenant : tenants) {
    result.removed += write([&](soci::session& sql, std::vector<ResourceChange>&) -> std::int64_t {
      soci::statement statement =
          (sql.prepare
               << "DELETE FROM resource_revisions WHERE tenant_id = :tenant AND created_at < :cutoff "
                  "AND EXISTS (SELECT 1 FROM resources r WHERE r.tenant_id = resource_revisions.tenant_id "
                  "AND r.kind = resource_revisions.kind AND r.id = resource_revisions.id "
                  "AND resource_revisions.revision <= r.revision - :keep_last "
                  "AND (r.staging_revision IS NULL OR r.staging_revision <> resource_revisions.revision) "
                  "AND (r.production_revision IS NULL OR "
                  "r.production_revision <> resource_revisions.revision)) "
                  "AND NOT EXISTS (SELECT 1 FROM resource_promotions p "
                  "WHERE p.tenant_id = resource_revisions.tenant_id AND p.kind = resource_revisions.kind "
                  "AND p.id = resource_revisions.id AND p.status = 'pending' "
                  "AND p.revision = resource_revisions.revision)",
           soci::use(tenant, "tenant"), soci::use(cutoff, "cutoff"), soci::use(keep_last, "keep_last"));
      statement.execute(true);
      const std::int64_t removed = statement.get_affected_rows();
      if (removed > 0) {
        audit::AuditEvent event;
        event.tenant = tenant;
        event.actor = "system";
        event.action = "resource.prune";
        event.target = "resources";
        event.details = {{"removed", removed},
                         {"keep_last", policy.keep_last},
                         {"keep_younger_than_seconds", policy.keep_younger_than.count()}};
        audit_.record_within(sql, std::move(event));
      }
      return removed;
    });
  }
  return result;
}

}  // namespace plexus::resources
