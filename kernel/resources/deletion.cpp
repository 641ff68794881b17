// Soft delete and restore (both asked of the kind's save hook), and the references that
// keep a resource from being deleted.
#include "kernel/resources/store_internal.hpp"

namespace plexus::resources {
namespace {

nlohmann::json state_view(std::int64_t revision, bool deleted) {
  return {{"revision", revision}, {"deleted", deleted}};
}

nlohmann::json refs_json(const std::vector<ResourceRef>& refs) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& ref : refs) out.push_back({{"kind", ref.kind}, {"id", ref.id}});
  return out;
}

}  // namespace

std::vector<ResourceRef> ResourceStore::live_referrers(soci::session& sql, const std::string& tenant,
                                                       std::string_view kind, const std::string& id) {
  const std::string kind_text(kind);
  // A deleted resource's references no longer count: it uses nothing until restored.
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT e.from_kind, e.from_id FROM resource_references e JOIN resources r "
                      "ON r.tenant_id = e.tenant_id AND r.kind = e.from_kind AND r.id = e.from_id "
                      "WHERE e.tenant_id = :tenant AND e.to_kind = :kind AND e.to_id = :id AND r.deleted = 0 "
                      "ORDER BY e.from_kind, e.from_id",
       soci::use(tenant, "tenant"), soci::use(kind_text, "kind"), soci::use(id, "id"));
  std::vector<ResourceRef> out;
  for (const auto& r : rows) out.push_back({text_at(r, 0), text_at(r, 1)});
  return out;
}

std::vector<ResourceRef> ResourceStore::referrers(const auth::Caller& caller, std::string_view kind,
                                                  const std::string& id) {
  kinds_.require(kind);
  soci::session sql(database_.pool());
  existing_row(sql, caller.tenant, kind, id, false, true);
  return live_referrers(sql, caller.tenant, kind, id);
}

Resource ResourceStore::remove(const auth::Caller& caller, std::string_view kind, const std::string& id,
                               std::optional<std::int64_t> expected_revision, const std::string& reason) {
  const auto registered = kinds_.require(kind);
  // The save hook may refuse a delete too (a system API): it runs outside the transaction,
  // without a pooled session, against the revision read here; content null, previous the
  // current content.
  std::optional<std::int64_t> checked;
  if (registered->kind.check_save) {
    nlohmann::json previous;
    {
      soci::session sql(database_.pool());
      const auto row = existing_row(sql, caller.tenant, kind, id, false, false);
      if (expected_revision && row.revision != *expected_revision)
        stale_revision(*expected_revision, row.revision);
      previous = registered->shown(existing_revision(sql, caller.tenant, kind, id, row.revision).content);
      checked = row.revision;
    }
    run_save_check(*registered, caller, id, "delete", nullptr, previous);
  }
  return write([&](soci::session& sql, std::vector<ResourceChange>& changes) {
    auto row = existing_row(sql, caller.tenant, kind, id, true, false);
    if (expected_revision && row.revision != *expected_revision)
      stale_revision(*expected_revision, row.revision);
    if (checked && row.revision != *checked) changed_while_checking(kind, id);
    if (const auto users = live_referrers(sql, caller.tenant, kind, id); !users.empty()) {
      conflict("still_referenced",
               std::string(kind) + " '" + id + "' is used by " + std::to_string(users.size()) +
                   " other resource(s); change them first",
               {{"referrers", refs_json(users)}});
    }
    row.deleted = true;
    row.updated_by = caller.actor();
    row.updated_at = store::utc_now();
    update_row(sql, caller.tenant, row);
    audit(sql, caller, "delete", kind, id, state_view(row.revision, false), state_view(row.revision, true),
          {{"reason", reason}});
    changes.push_back({caller.tenant, row.kind, id, row.revision, std::nullopt, "deleted"});
    return resource_of(sql, caller.tenant, row, false);
  });
}

Resource ResourceStore::restore(const auth::Caller& caller, std::string_view kind, const std::string& id,
                                const std::string& reason) {
  const auto registered = kinds_.require(kind);
  // As for delete: the hook sees the content coming back, previous null (none is live).
  std::optional<std::int64_t> checked;
  if (registered->kind.check_save) {
    nlohmann::json content;
    {
      soci::session sql(database_.pool());
      const auto row = existing_row(sql, caller.tenant, kind, id, false, true);
      if (!row.deleted) conflict("not_deleted", std::string(kind) + " '" + id + "' is not deleted");
      content = registered->shown(existing_revision(sql, caller.tenant, kind, id, row.revision).content);
      checked = row.revision;
    }
    run_save_check(*registered, caller, id, "restore", content, nullptr);
  }
  return write([&](soci::session& sql, std::vector<ResourceChange>& changes) {
    auto row = existing_row(sql, caller.tenant, kind, id, true, true);
    if (!row.deleted) conflict("not_deleted", std::string(kind) + " '" + id + "' is not deleted");
    if (checked && row.revision != *checked) changed_while_checking(kind, id);
    row.deleted = false;
    row.updated_by = caller.actor();
    row.updated_at = store::utc_now();
    update_row(sql, caller.tenant, row);
    audit(sql, caller, "restore", kind, id, state_view(row.revision, true), state_view(row.revision, false),
          {{"reason", reason}});
    changes.push_back({caller.tenant, row.kind, id, row.revision, std::nullopt, "restored"});
    return resource_of(sql, caller.tenant, row, true);
  });
}

}  // namespace plexus::resources
