// A resource's history: its revisions, the diff between two, rollback.
#include <limits>

#include "kernel/resources/store_internal.hpp"

namespace plexus::resources {

Revision ResourceStore::revision(const auth::Caller& caller, std::string_view kind, const std::string& id,
                                 std::int64_t number) {
  kinds_.require(kind);
  soci::session sql(database_.pool());
  existing_row(sql, caller.tenant, kind, id, false, true);
  auto revision = existing_revision(sql, caller.tenant, kind, id, number);
  revision.content = kinds_.require(kind)->shown(std::move(revision.content));
  return revision;
}

RevisionPage ResourceStore::revisions(const auth::Caller& caller, std::string_view kind,
                                      const std::string& id, int limit, std::optional<std::int64_t> before) {
  kinds_.require(kind);
  soci::session sql(database_.pool());
  existing_row(sql, caller.tenant, kind, id, false, true);
  const std::string kind_text(kind);
  const long long below = before.value_or(std::numeric_limits<long long>::max());
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT revision, author, created_at, reason, content_hash FROM resource_revisions "
                      "WHERE tenant_id = :tenant AND kind = :kind AND id = :id AND revision < :before "
                      "ORDER BY revision DESC LIMIT " +
                          std::to_string(limit + 1),
       soci::use(caller.tenant, "tenant"), soci::use(kind_text, "kind"), soci::use(id, "id"),
       soci::use(below, "before"));
  RevisionPage page;
  for (const auto& r : rows) {
    if (static_cast<int>(page.items.size()) == limit) {
      page.next_before = page.items.back().number;
      break;
    }
    Revision revision;
    revision.number = integer_at(r, 0);
    revision.author = text_at(r, 1);
    revision.created_at = text_at(r, 2);
    revision.reason = text_at(r, 3);
    revision.hash = text_at(r, 4);
    page.items.push_back(std::move(revision));
  }
  return page;
}

ContentDiff ResourceStore::diff(const auth::Caller& caller, std::string_view kind, const std::string& id,
                                std::int64_t from, std::int64_t to) {
  const auto registered = kinds_.require(kind);
  soci::session sql(database_.pool());
  existing_row(sql, caller.tenant, kind, id, false, true);
  const auto older = existing_revision(sql, caller.tenant, kind, id, from);
  const auto newer = existing_revision(sql, caller.tenant, kind, id, to);
  // Sealed secrets differ on every save; clients see (and diff) the shown form.
  return diff_content(registered->shown(older.content), registered->shown(newer.content));
}

Resource ResourceStore::rollback(const auth::Caller& caller, std::string_view kind_name,
                                 const std::string& id, std::int64_t to_revision, const std::string& reason,
                                 std::optional<std::int64_t> expected_revision) {
  const auto kind = kinds_.require(kind_name);
  // The save hook runs outside the transaction (and without holding a pooled session:
  // it may read through the store), against the revision read here.
  std::optional<std::int64_t> checked;
  if (kind->kind.check_save) {
    nlohmann::json content, previous;
    {
      soci::session sql(database_.pool());
      const auto row = existing_row(sql, caller.tenant, kind_name, id, false, false);
      if (expected_revision && row.revision != *expected_revision) stale_revision(*expected_revision, row.revision);
      content = existing_revision(sql, caller.tenant, kind_name, id, to_revision).content;
      previous = kind->shown(existing_revision(sql, caller.tenant, kind_name, id, row.revision).content);
      checked = row.revision;
    }
    kind->require_valid(content);
    run_save_check(*kind, caller, id, "rollback", kind->shown(content), previous);
  }
  return write([&](soci::session& sql, std::vector<ResourceChange>& changes) {
    auto row = existing_row(sql, caller.tenant, kind_name, id, true, false);
    if (expected_revision && row.revision != *expected_revision)
      stale_revision(*expected_revision, row.revision);
    if (checked && row.revision != *checked) changed_while_checking(kind_name, id);
    const auto target = existing_revision(sql, caller.tenant, kind_name, id, to_revision);
    // The kind's rules may have changed since that revision was written.
    kind->require_valid(target.content);
    const auto before = existing_revision(sql, caller.tenant, kind_name, id, row.revision);
    const auto why = reason.empty() ? "rollback to revision " + std::to_string(to_revision) : reason;
    const auto shown = kind->shown(append_revision(sql, *kind, caller, row, target.content, why).content);
    audit(sql, caller, "rollback", kind_name, id,
          {{"revision", before.number}, {"content", kind->shown(before.content)}},
          {{"revision", row.revision}, {"content", shown}}, {{"reason", why}, {"to_revision", to_revision}});
    changes.push_back({caller.tenant, row.kind, id, row.revision, std::nullopt, "rolled_back"});
    Resource resource = resource_of(sql, caller.tenant, row, false);
    resource.content = shown;
    resource.pending_promotion = pending_promotion(sql, caller.tenant, kind_name, id);
    return resource;
  });
}

}  // namespace plexus::resources
