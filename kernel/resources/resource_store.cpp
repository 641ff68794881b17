// The core of the store: rows and revisions, create, update, get and list.
#include <set>

#include <spdlog/logger.h>

#include "kernel/log/log.hpp"
#include "kernel/resources/content_hash.hpp"
#include "kernel/resources/store_internal.hpp"
#include "kernel/resources/store_schema.hpp"

namespace plexus::resources {
namespace {

nlohmann::json content_view(std::int64_t revision, const nlohmann::json& content) {
  return {{"revision", revision}, {"content", content}};
}

}  // namespace

bool is_resource_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (std::size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-'))) return false;
  }
  return true;
}

ResourceStore::ResourceStore(store::Database& database, audit::AuditLog& audit, ResourceKinds& kinds,
                             ChangeListener on_change)
    : database_(database), audit_(audit), kinds_(kinds), on_change_(std::move(on_change)) {
  store::migrate(database_, kComponent, store_migrations());
}

std::uint64_t ResourceStore::add_change_listener(ChangeListener listener) {
  std::lock_guard lock(listeners_mutex_);
  const auto id = next_listener_++;
  listeners_.emplace(id, std::move(listener));
  return id;
}

void ResourceStore::remove_change_listener(std::uint64_t id) {
  std::lock_guard lock(listeners_mutex_);
  listeners_.erase(id);
}

void ResourceStore::announce(const std::vector<ResourceChange>& changes) const {
  auto tell = [](const ChangeListener& listener, const ResourceChange& change) {
    try {
      listener(change);
    } catch (const std::exception& e) {
      log::get("resources")
          ->error("change listener failed for {}/{} ({}): {}", change.kind, change.id, change.action,
                  e.what());
    }
  };
  for (const auto& change : changes) {
    {
      // Held while telling: remove_change_listener then waits for a running call.
      std::lock_guard lock(listeners_mutex_);
      for (const auto& [id, listener] : listeners_) tell(listener, change);
    }
    if (on_change_) tell(on_change_, change);
  }
}

// ---- rows and revisions ------------------------------------------------------------

std::optional<ResourceStore::Row> ResourceStore::load_row(soci::session& sql, const std::string& tenant,
                                                          std::string_view kind, const std::string& id,
                                                          bool lock) {
  Row row;
  row.kind = std::string(kind);
  row.id = id;
  long long revision = 0, staging = 0, production = 0;
  int deleted = 0;
  soci::indicator staging_indicator = soci::i_ok, production_indicator = soci::i_ok;
  const std::string query =
      "SELECT revision, staging_revision, production_revision, deleted, created_by, created_at, updated_by, "
      "updated_at FROM resources WHERE tenant_id = :tenant AND kind = :kind AND id = :id" +
      std::string(lock && postgresql() ? " FOR UPDATE" : "");
  sql << query, soci::into(revision), soci::into(staging, staging_indicator),
      soci::into(production, production_indicator), soci::into(deleted), soci::into(row.created_by),
      soci::into(row.created_at), soci::into(row.updated_by), soci::into(row.updated_at),
      soci::use(tenant, "tenant"), soci::use(row.kind, "kind"), soci::use(id, "id");
  if (!sql.got_data()) return std::nullopt;
  row.revision = revision;
  if (staging_indicator == soci::i_ok) row.staging = staging;
  if (production_indicator == soci::i_ok) row.production = production;
  row.deleted = deleted != 0;
  return row;
}

ResourceStore::Row ResourceStore::existing_row(soci::session& sql, const std::string& tenant,
                                               std::string_view kind, const std::string& id, bool lock,
                                               bool include_deleted) {
  auto row = load_row(sql, tenant, kind, id, lock);
  if (!row || (row->deleted && !include_deleted)) resource_not_found(kind, id);
  return std::move(*row);
}

std::optional<Revision> ResourceStore::load_revision(soci::session& sql, const std::string& tenant,
                                                     std::string_view kind, const std::string& id,
                                                     std::int64_t number, bool with_content) {
  Revision revision;
  revision.number = number;
  const std::string kind_text(kind);
  const long long wanted = number;
  std::string content;
  sql << "SELECT author, created_at, reason, content_hash, " + std::string(with_content ? "content" : "''") +
             " FROM resource_revisions WHERE tenant_id = :tenant AND kind = :kind AND id = :id AND revision "
             "= :revision",
      soci::into(revision.author), soci::into(revision.created_at), soci::into(revision.reason),
      soci::into(revision.hash), soci::into(content), soci::use(tenant, "tenant"),
      soci::use(kind_text, "kind"), soci::use(id, "id"), soci::use(wanted, "revision");
  if (!sql.got_data()) return std::nullopt;
  if (with_content) revision.content = nlohmann::json::parse(content);
  return revision;
}

Revision ResourceStore::existing_revision(soci::session& sql, const std::string& tenant,
                                          std::string_view kind, const std::string& id, std::int64_t number) {
  auto revision = load_revision(sql, tenant, kind, id, number, true);
  if (!revision) revision_not_found(kind, id, number);
  return std::move(*revision);
}

Resource ResourceStore::resource_of(soci::session& sql, const std::string& tenant, const Row& row,
                                    bool with_content) {
  Resource resource;
  resource.kind = row.kind;
  resource.id = row.id;
  resource.revision = row.revision;
  resource.stages = row.stages();
  resource.deleted = row.deleted;
  resource.created_by = row.created_by;
  resource.created_at = row.created_at;
  resource.updated_by = row.updated_by;
  resource.updated_at = row.updated_at;
  if (with_content) {
    const auto stored = existing_revision(sql, tenant, row.kind, row.id, row.revision).content;
    const auto kind = kinds_.find(row.kind);
    resource.content = kind ? kind->shown(stored) : stored;
    resource.pending_promotion = pending_promotion(sql, tenant, row.kind, row.id);
  }
  return resource;
}

ResourceStore::Row ResourceStore::insert_resource(soci::session& sql, const auth::Caller& caller,
                                                  std::string_view kind, const std::string& id) {
  Row row;
  row.kind = std::string(kind);
  row.id = id;
  row.created_by = row.updated_by = caller.actor();
  row.created_at = row.updated_at = store::utc_now();
  try {
    sql << "INSERT INTO resources (tenant_id, kind, id, revision, deleted, created_by, created_at, "
           "updated_by, "
           "updated_at) VALUES (:tenant, :kind, :id, 0, 0, :created_by, :created_at, :updated_by, "
           ":updated_at)",
        soci::use(caller.tenant, "tenant"), soci::use(row.kind, "kind"), soci::use(id, "id"),
        soci::use(row.created_by, "created_by"), soci::use(row.created_at, "created_at"),
        soci::use(row.updated_by, "updated_by"), soci::use(row.updated_at, "updated_at");
  } catch (const soci::soci_error& error) {
    // PostgreSQL: a concurrent create of the same id committed first (unique key).
    if (error.get_error_category() != soci::soci_error::constraint_violation) throw;
    conflict("already_exists", std::string(kind) + " '" + id + "' already exists", {{"field", "id"}});
  }
  return row;
}

void ResourceStore::update_row(soci::session& sql, const std::string& tenant, const Row& row) {
  const long long revision = row.revision;
  const long long staging = row.staging.value_or(0), production = row.production.value_or(0);
  soci::indicator staging_indicator = row.staging ? soci::i_ok : soci::i_null;
  soci::indicator production_indicator = row.production ? soci::i_ok : soci::i_null;
  const int deleted = row.deleted ? 1 : 0;
  sql << "UPDATE resources SET revision = :revision, staging_revision = :staging, "
         "production_revision = :production, deleted = :deleted, updated_by = :updated_by, "
         "updated_at = :updated_at WHERE tenant_id = :tenant AND kind = :kind AND id = :id",
      soci::use(revision, "revision"), soci::use(staging, staging_indicator, "staging"),
      soci::use(production, production_indicator, "production"), soci::use(deleted, "deleted"),
      soci::use(row.updated_by, "updated_by"), soci::use(row.updated_at, "updated_at"),
      soci::use(tenant, "tenant"), soci::use(row.kind, "kind"), soci::use(row.id, "id");
}

Revision ResourceStore::append_revision(soci::session& sql, const RegisteredKind& kind,
                                        const auth::Caller& caller, Row& row, const nlohmann::json& content,
                                        const std::string& reason) {
  Revision revision;
  revision.number = row.revision + 1;
  revision.author = caller.actor();
  revision.created_at = store::utc_now();
  revision.reason = reason;
  const auto previous = kind.kind.seal && row.revision > 0
                            ? existing_revision(sql, caller.tenant, row.kind, row.id, row.revision).content
                            : nlohmann::json();
  revision.content = kind.sealed(content, previous, caller.tenant, row.id);
  revision.hash = content_hash(revision.content);
  const long long number = revision.number;
  const std::string text = revision.content.dump();
  sql << "INSERT INTO resource_revisions (tenant_id, kind, id, revision, author, created_at, reason, "
         "content, "
         "content_hash) VALUES (:tenant, :kind, :id, :revision, :author, :created_at, :reason, :content, "
         ":hash)",
      soci::use(caller.tenant, "tenant"), soci::use(row.kind, "kind"), soci::use(row.id, "id"),
      soci::use(number, "revision"), soci::use(revision.author, "author"),
      soci::use(revision.created_at, "created_at"), soci::use(revision.reason, "reason"),
      soci::use(text, "content"), soci::use(revision.hash, "hash");
  row.revision = revision.number;
  row.updated_by = revision.author;
  row.updated_at = revision.created_at;
  update_row(sql, caller.tenant, row);
  record_references(sql, kind, caller.tenant, row.id, revision.content);
  return revision;
}

void ResourceStore::record_references(soci::session& sql, const RegisteredKind& kind,
                                      const std::string& tenant, const std::string& id,
                                      const nlohmann::json& content) {
  sql << "DELETE FROM resource_references WHERE tenant_id = :tenant AND from_kind = :kind AND from_id = :id",
      soci::use(tenant, "tenant"), soci::use(kind.kind.name, "kind"), soci::use(id, "id");
  if (!kind.kind.references) return;
  std::set<ResourceRef> targets;
  try {
    for (auto& target : kind.kind.references(content)) targets.insert(std::move(target));
  } catch (const std::exception& e) {
    throw http::HttpError(400, "invalid_content",
                          "cannot find the resources this " + kind.kind.name + " refers to: " + e.what(),
                          {{"field", "content"}});
  }
  for (const auto& target : targets) {
    sql << "INSERT INTO resource_references (tenant_id, from_kind, from_id, to_kind, to_id) "
           "VALUES (:tenant, :from_kind, :from_id, :to_kind, :to_id)",
        soci::use(tenant, "tenant"), soci::use(kind.kind.name, "from_kind"), soci::use(id, "from_id"),
        soci::use(target.kind, "to_kind"), soci::use(target.id, "to_id");
  }
}

void ResourceStore::audit(soci::session& sql, const auth::Caller& caller, std::string action,
                          std::string_view kind, const std::string& id, nlohmann::json before,
                          nlohmann::json after, nlohmann::json details) {
  auto event = audit::event_of(caller, "resource." + action, target_of(kind, id));
  event.before = std::move(before);
  event.after = std::move(after);
  event.details = std::move(details);
  audit_.record_within(sql, std::move(event));
}

// ---- create, update, get, list -----------------------------------------------------

Resource ResourceStore::create(const auth::Caller& caller, std::string_view kind_name, const std::string& id,
                               const nlohmann::json& content, const std::string& reason) {
  const auto kind = kinds_.require(kind_name);
  if (!is_resource_id(id)) {
    throw http::HttpError(400, "invalid_field",
                          "id must be 1 to 128 of A-Z a-z 0-9 . _ - and start with a letter or digit",
                          {{"field", "id"}});
  }
  kind->require_valid(content);
  // A concurrent create of the same id is the transaction's 409 below.
  run_save_check(*kind, caller, id, "create", content, nullptr);
  return write([&](soci::session& sql, std::vector<ResourceChange>& changes) {
    if (auto existing = load_row(sql, caller.tenant, kind_name, id, true)) {
      conflict("already_exists",
               std::string(kind_name) + " '" + id + "' already exists" +
                   (existing->deleted ? " (deleted: restore it instead)" : ""),
               {{"field", "id"}, {"deleted", existing->deleted}});
    }
    auto row = insert_resource(sql, caller, kind_name, id);
    const auto shown = kind->shown(append_revision(sql, *kind, caller, row, content, reason).content);
    audit(sql, caller, "create", kind_name, id, nullptr, content_view(row.revision, shown), {{"reason", reason}});
    changes.push_back({caller.tenant, row.kind, id, row.revision, std::nullopt, "saved"});
    Resource resource = resource_of(sql, caller.tenant, row, false);
    resource.content = shown;
    return resource;
  });
}

Resource ResourceStore::update(const auth::Caller& caller, std::string_view kind_name, const std::string& id,
                               std::optional<std::int64_t> expected_revision, const nlohmann::json& content,
                               const std::string& reason) {
  const auto kind = kinds_.require(kind_name);
  kind->require_valid(content);
  // The save hook runs outside the transaction (and without holding a pooled session:
  // it may read through the store), against the revision read here.
  std::optional<std::int64_t> checked;
  if (kind->kind.check_save) {
    nlohmann::json previous;
    {
      soci::session sql(database_.pool());
      const auto row = existing_row(sql, caller.tenant, kind_name, id, false, false);
      if (expected_revision && row.revision != *expected_revision) stale_revision(*expected_revision, row.revision);
      previous = kind->shown(existing_revision(sql, caller.tenant, kind_name, id, row.revision).content);
      checked = row.revision;
    }
    run_save_check(*kind, caller, id, "update", content, previous);
  }
  return write([&](soci::session& sql, std::vector<ResourceChange>& changes) {
    auto row = existing_row(sql, caller.tenant, kind_name, id, true, false);
    if (expected_revision && row.revision != *expected_revision)
      stale_revision(*expected_revision, row.revision);
    if (checked && row.revision != *checked) changed_while_checking(kind_name, id);
    const auto before = existing_revision(sql, caller.tenant, kind_name, id, row.revision);
    const auto shown = kind->shown(append_revision(sql, *kind, caller, row, content, reason).content);
    audit(sql, caller, "update", kind_name, id, content_view(before.number, kind->shown(before.content)),
          content_view(row.revision, shown), {{"reason", reason}});
    changes.push_back({caller.tenant, row.kind, id, row.revision, std::nullopt, "saved"});
    Resource resource = resource_of(sql, caller.tenant, row, false);
    resource.content = shown;
    resource.pending_promotion = pending_promotion(sql, caller.tenant, kind_name, id);
    return resource;
  });
}

Resource ResourceStore::get(const auth::Caller& caller, std::string_view kind, const std::string& id,
                            bool include_deleted) {
  kinds_.require(kind);
  soci::session sql(database_.pool());
  const auto row = existing_row(sql, caller.tenant, kind, id, false, include_deleted);
  return resource_of(sql, caller.tenant, row, true);
}

ResourcePage ResourceStore::list(const auth::Caller& caller, std::string_view kind, int limit,
                                 const std::string& after_id, bool include_deleted) {
  kinds_.require(kind);
  soci::session sql(database_.pool());
  const std::string kind_text(kind);
  const std::string query =
      "SELECT id, revision, staging_revision, production_revision, deleted, created_by, created_at, "
      "updated_by, "
      "updated_at FROM resources WHERE tenant_id = :tenant AND kind = :kind AND id > :after" +
      std::string(include_deleted ? "" : " AND deleted = 0") + " ORDER BY id LIMIT " +
      std::to_string(limit + 1);
  soci::rowset<soci::row> rows = (sql.prepare << query, soci::use(caller.tenant, "tenant"),
                                  soci::use(kind_text, "kind"), soci::use(after_id, "after"));
  ResourcePage page;
  for (const auto& r : rows) {
    if (static_cast<int>(page.items.size()) == limit) {
      page.next_after = page.items.back().id;
      break;
    }
    Row row;
    row.kind = kind_text;
    row.id = text_at(r, 0);
    row.revision = integer_at(r, 1);
    row.staging = optional_integer_at(r, 2);
    row.production = optional_integer_at(r, 3);
    row.deleted = integer_at(r, 4) != 0;
    row.created_by = text_at(r, 5);
    row.created_at = text_at(r, 6);
    row.updated_by = text_at(r, 7);
    row.updated_at = text_at(r, 8);
    page.items.push_back(resource_of(sql, caller.tenant, row, false));
  }
  return page;
}

}  // namespace plexus::resources
