// The versioned resource store (DESIGN.md "resources"): every save of a resource
// is a revision; history, diff, rollback, stages with approval, references,
// soft delete, bundles and retention; every change audited in the transaction
// that makes it; every row scoped to the caller's tenant (another tenant's
// resource is simply not found).
//
// Failures a client can cause are thrown as http::HttpError (400 invalid content
// or fields, 404 unknown kind/resource/revision, 409 conflicts, 412 stale
// revision, 403 same-person approval), so the REST layer passes them through.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernel/audit/audit_log.hpp"
#include "kernel/auth/caller.hpp"
#include "kernel/resources/kinds.hpp"
#include "kernel/resources/resource.hpp"
#include "kernel/resources/revision_diff.hpp"
#include "kernel/store/clock.hpp"
#include "kernel/store/database.hpp"

namespace soci {
class session;
}

namespace plexus::resources {

struct ResourcePage {
  std::vector<Resource> items;            // by id, without content
  std::optional<std::string> next_after;  // the last id, when there may be more
};

struct RevisionPage {
  std::vector<Revision> items;              // newest first, without content
  std::optional<std::int64_t> next_before;  // when there may be older ones
};

struct PromotionResult {
  Resource resource;
  // Set when the promotion waits for approval instead of taking effect.
  std::optional<PromotionRequest> pending;
};

struct ImportItem {
  std::string kind, id;
  std::int64_t revision = 0;  // 0 for an unknown kind
  // created | updated | restored | unchanged; with ImportOptions: skipped (exists
  // already) | unknown_kind
  std::string outcome;
};

struct ImportOptions {
  // Bootstrap bundles: create what is missing and leave every existing resource,
  // deleted ones included, as an operator left it.
  bool create_only = false;
  // Skip resources of kinds nobody registered (their plugin is not loaded) instead
  // of refusing the bundle.
  bool skip_unknown_kinds = false;
  std::string reason = "import";  // of every revision and audit row the import writes
};

struct RetentionPolicy {
  std::int64_t keep_last = 20;  // per resource, counting back from the current revision
  std::chrono::seconds keep_younger_than{std::chrono::hours(24 * 30)};
};

struct PruneResult {
  std::int64_t removed = 0;  // revisions deleted, every tenant together
};

// True for [A-Za-z0-9][A-Za-z0-9._-]{0,127}: ids travel as a URL segment.
bool is_resource_id(std::string_view id);

// Told of every change after its transaction committed, on the writer's thread, in
// the order the changes were made; never for a write that failed or rolled back.
// An exception it throws is logged, not passed to the writer (the write stands).
using ChangeListener = std::function<void(const ResourceChange&)>;

class ResourceStore {
 public:
  // Applies the "kernel.resources" migrations.
  ResourceStore(store::Database& database, audit::AuditLog& audit, ResourceKinds& kinds,
                ChangeListener on_change = {});

  ResourceKinds& kinds() { return kinds_; }

  // More listeners beside the constructor's (caches of stored content such as the
  // datasources'); each is told of every change, as the constructor's is. The id
  // removes it; remove before the listener's owner goes.
  std::uint64_t add_change_listener(ChangeListener listener);
  void remove_change_listener(std::uint64_t id);

  // Revision 1. 409 when the id is taken (also by a deleted resource: restore it).
  Resource create(const auth::Caller& caller, std::string_view kind, const std::string& id,
                  const nlohmann::json& content, const std::string& reason);
  // A new revision, only if the current one is still `expected_revision`; 412 with
  // the current revision in the details otherwise (optimistic concurrency). Without
  // an expected revision (If-Match: *) it writes over whatever is current.
  Resource update(const auth::Caller& caller, std::string_view kind, const std::string& id,
                  std::optional<std::int64_t> expected_revision, const nlohmann::json& content,
                  const std::string& reason);
  // The current revision with its content; deleted ones only when asked for.
  Resource get(const auth::Caller& caller, std::string_view kind, const std::string& id,
               bool include_deleted = false);
  ResourcePage list(const auth::Caller& caller, std::string_view kind, int limit,
                    const std::string& after_id = {}, bool include_deleted = false);

  Revision revision(const auth::Caller& caller, std::string_view kind, const std::string& id,
                    std::int64_t number);
  RevisionPage revisions(const auth::Caller& caller, std::string_view kind, const std::string& id, int limit,
                         std::optional<std::int64_t> before = std::nullopt);
  ContentDiff diff(const auth::Caller& caller, std::string_view kind, const std::string& id,
                   std::int64_t from, std::int64_t to);
  // A new revision holding revision `to_revision`'s content.
  Resource rollback(const auth::Caller& caller, std::string_view kind, const std::string& id,
                    std::int64_t to_revision, const std::string& reason,
                    std::optional<std::int64_t> expected_revision = std::nullopt);

  // Soft delete: hidden from get and list, history kept. 409 with the referrers
  // while other live resources refer to it. Both it and restore ask the kind's save
  // hook first ("delete", "restore"): 403/422/500 when it refuses or fails.
  Resource remove(const auth::Caller& caller, std::string_view kind, const std::string& id,
                  std::optional<std::int64_t> expected_revision, const std::string& reason);
  Resource restore(const auth::Caller& caller, std::string_view kind, const std::string& id,
                   const std::string& reason);

  // Points `stage` at `revision` (default: the latest for staging, staging's for
  // production). Runs the kind's pre-promotion hook (409 "promotion_blocked" with
  // its problems). A kind requiring approval gets a pending request for production
  // instead, replacing an older pending one.
  PromotionResult promote(const auth::Caller& caller, std::string_view kind, const std::string& id,
                          std::string_view stage, const std::string& reason,
                          std::optional<std::int64_t> revision = std::nullopt);
  // Carries out the pending request; 403 when the caller is the one who asked.
  // Checking "<prefix>.approve" is the caller's (the REST route's) job.
  Resource approve(const auth::Caller& caller, std::string_view kind, const std::string& id,
                   const std::string& reason);

  // Live resources whose current content refers to this one.
  std::vector<ResourceRef> referrers(const auth::Caller& caller, std::string_view kind,
                                     const std::string& id);

  // {"format":"plexus-bundle/1","resources":[{kind,id,content,stages}]}: the live
  // resources of `kinds` in the caller's tenant; "stages" names the stages that point
  // at the exported (current) revision.
  nlohmann::json export_bundle(const auth::Caller& caller, const std::vector<std::string>& kinds);
  // Creates or updates every resource of the bundle (reason "import"), restoring
  // deleted ones and pointing the listed stages at the imported revision, all in one
  // transaction. Content equal to the current revision's writes nothing new.
  std::vector<ImportItem> import_bundle(const auth::Caller& caller, const nlohmann::json& bundle,
                                        const ImportOptions& options = {});

  // For the kernel and plugins acting for a tenant, without a caller's permissions:
  // the stored content (secrets sealed, not shown) of the revision `stage` points at
  // ("" the current one), or nothing when the resource is unknown, deleted, or has
  // no revision at that stage.
  std::optional<Revision> stored_revision(const std::string& tenant, std::string_view kind, const std::string& id,
                                          std::string_view stage = {});
  // The same for every live resource of `kind`, by id.
  std::vector<std::pair<std::string, Revision>> stored_revisions(const std::string& tenant, std::string_view kind,
                                                                 std::string_view stage = {});

  // Retention, every tenant: removes revisions that are none of the last
  // `keep_last`, pointed at by a stage or a pending promotion, younger than
  // `keep_younger_than`, or current.
  PruneResult prune(const RetentionPolicy& policy, store::TimePoint now = std::chrono::system_clock::now());

 private:
  struct Row;
  bool postgresql() const { return database_.backend() == "postgresql"; }
  std::optional<Row> load_row(soci::session& sql, const std::string& tenant, std::string_view kind,
                              const std::string& id, bool lock);
  Row existing_row(soci::session& sql, const std::string& tenant, std::string_view kind,
                   const std::string& id, bool lock, bool include_deleted);
  std::optional<Revision> load_revision(soci::session& sql, const std::string& tenant, std::string_view kind,
                                        const std::string& id, std::int64_t number, bool with_content);
  Revision existing_revision(soci::session& sql, const std::string& tenant, std::string_view kind,
                             const std::string& id, std::int64_t number);
  Resource resource_of(soci::session& sql, const std::string& tenant, const Row& row, bool with_content);
  // Appends revision row.revision + 1 and moves the row to it; the row must be locked.
  Revision append_revision(soci::session& sql, const RegisteredKind& kind, const auth::Caller& caller,
                           Row& row, const nlohmann::json& content, const std::string& reason);
  Row insert_resource(soci::session& sql, const auth::Caller& caller, std::string_view kind,
                      const std::string& id);
  void update_row(soci::session& sql, const std::string& tenant, const Row& row);
  void record_references(soci::session& sql, const RegisteredKind& kind, const std::string& tenant,
                         const std::string& id, const nlohmann::json& content);
  std::vector<ResourceRef> live_referrers(soci::session& sql, const std::string& tenant,
                                          std::string_view kind, const std::string& id);
  std::optional<PromotionRequest> pending_promotion(soci::session& sql, const std::string& tenant,
                                                    std::string_view kind, const std::string& id);
  void run_pre_promotion(soci::session& sql, const RegisteredKind& kind, const std::string& tenant,
                         const std::string& id, std::string_view stage, std::int64_t revision);
  void audit(soci::session& sql, const auth::Caller& caller, std::string action, std::string_view kind,
             const std::string& id, nlohmann::json before, nlohmann::json after,
             nlohmann::json details = nullptr);
  // Runs `work(sql, changes)` in a write transaction and commits it, then tells the
  // listener of the changes `work` appended.
  template <class Work>
  auto write(Work&& work);
  void announce(const std::vector<ResourceChange>& changes) const;

  store::Database& database_;
  audit::AuditLog& audit_;
  ResourceKinds& kinds_;
  ChangeListener on_change_;
  mutable std::mutex listeners_mutex_;
  std::map<std::uint64_t, ChangeListener> listeners_;
  std::uint64_t next_listener_ = 1;
};

}  // namespace plexus::resources
