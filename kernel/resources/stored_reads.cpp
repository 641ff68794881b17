// Reads for the kernel and plugins acting for a tenant: stored content of the
// revision a stage points at, without a caller and without presenting secrets.
#include "kernel/resources/store_internal.hpp"

namespace plexus::resources {
namespace {

// The resources column holding the revision `stage` points at.
std::string stage_column(std::string_view stage) {
  if (stage.empty()) return "r.revision";
  if (stage == kStaging) return "r.staging_revision";
  if (stage == kProduction) return "r.production_revision";
  throw http::HttpError(400, "invalid_field", "stage must be \"\", \"staging\" or \"production\"",
                        {{"field", "stage"}});
}

}  // namespace

std::vector<std::pair<std::string, Revision>> ResourceStore::stored_revisions(const std::string& tenant,
                                                                              std::string_view kind,
                                                                              std::string_view stage) {
  const std::string kind_text(kind);
  soci::session sql(database_.pool());
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT r.id, v.revision, v.author, v.created_at, v.reason, v.content_hash, v.content "
                      "FROM resources r JOIN resource_revisions v ON v.tenant_id = r.tenant_id "
                      "AND v.kind = r.kind AND v.id = r.id AND v.revision = " +
                          stage_column(stage) +
                          " WHERE r.tenant_id = :tenant AND r.kind = :kind AND r.deleted = 0 ORDER BY r.id",
       soci::use(tenant, "tenant"), soci::use(kind_text, "kind"));
  std::vector<std::pair<std::string, Revision>> found;
  for (const auto& r : rows) {
    Revision revision;
    revision.number = integer_at(r, 1);
    revision.author = text_at(r, 2);
    revision.created_at = text_at(r, 3);
    revision.reason = text_at(r, 4);
    revision.hash = text_at(r, 5);
    revision.content = nlohmann::json::parse(text_at(r, 6));
    found.emplace_back(text_at(r, 0), std::move(revision));
  }
  return found;
}

std::optional<Revision> ResourceStore::stored_revision(const std::string& tenant, std::string_view kind,
                                                       const std::string& id, std::string_view stage) {
  stage_column(stage);  // refuses an unknown stage
  soci::session sql(database_.pool());
  const auto row = load_row(sql, tenant, kind, id, false);
  if (!row || row->deleted) return std::nullopt;
  const auto number = stage.empty() ? std::optional(row->revision)
                                    : (stage == kStaging ? row->staging : row->production);
  if (!number) return std::nullopt;
  return load_revision(sql, tenant, kind, id, *number, true);
}

}  // namespace plexus::resources
