// Bundles: a set of resources as one JSON document, exported and imported whole.
#include <algorithm>
#include <set>

#include "kernel/resources/content_hash.hpp"
#include "kernel/resources/store_internal.hpp"

namespace plexus::resources {
namespace {

constexpr std::string_view kBundleFormat = "plexus-bundle/1";

[[noreturn]] void bad_bundle(const std::string& pointer, const std::string& message) {
  throw http::HttpError(400, "invalid_bundle", pointer + ": " + message, {{"field", pointer}});
}

struct BundleEntry {
  std::shared_ptr<const RegisteredKind> kind;  // null: skipped, an unknown kind
  std::string kind_name;
  std::string id;
  nlohmann::json content;
  std::vector<std::string> stages;
};

// Everything checked before the transaction starts, each mistake named by its pointer.
std::vector<BundleEntry> read_bundle(const ResourceKinds& kinds, const auth::Caller& caller,
                                     const nlohmann::json& bundle, const ImportOptions& options) {
  if (!bundle.is_object()) bad_bundle("", "a bundle is a JSON object");
  const auto format = bundle.find("format");
  if (format == bundle.end() || *format != kBundleFormat) {
    bad_bundle("/format", "must be \"" + std::string(kBundleFormat) + "\"");
  }
  const auto resources = bundle.find("resources");
  if (resources == bundle.end() || !resources->is_array()) bad_bundle("/resources", "must be an array");
  std::vector<BundleEntry> entries;
  std::set<std::pair<std::string, std::string>> seen;
  for (std::size_t i = 0; i < resources->size(); ++i) {
    const auto at = "/resources/" + std::to_string(i);
    const auto& item = (*resources)[i];
    if (!item.is_object()) bad_bundle(at, "must be an object with kind, id and content");
    BundleEntry entry;
    const auto kind = item.find("kind");
    if (kind == item.end() || !kind->is_string()) bad_bundle(at + "/kind", "must be a string");
    entry.kind_name = kind->get<std::string>();
    entry.kind = kinds.find(entry.kind_name);
    if (!entry.kind && options.skip_unknown_kinds) {
      const auto id = item.find("id");
      if (id != item.end() && id->is_string()) entry.id = id->get<std::string>();
      entries.push_back(std::move(entry));
      continue;
    }
    if (!entry.kind) bad_bundle(at + "/kind", "there is no resource kind '" + entry.kind_name + "'");
    const auto id = item.find("id");
    if (id == item.end() || !id->is_string() || !is_resource_id(id->get<std::string>())) {
      bad_bundle(at + "/id", "must be 1 to 128 of A-Z a-z 0-9 . _ - starting with a letter or digit");
    }
    entry.id = id->get<std::string>();
    if (!seen.emplace(entry.kind->kind.name, entry.id).second) bad_bundle(at, "appears twice in the bundle");
    const auto content = item.find("content");
    if (content == item.end()) bad_bundle(at + "/content", "is required");
    entry.content = *content;
    entry.kind->require_valid(entry.content, at + "/content");
    if (const auto stages = item.find("stages"); stages != item.end() && !stages->is_null()) {
      if (!stages->is_array()) bad_bundle(at + "/stages", "must be an array of stage names");
      for (const auto& stage : *stages) {
        if (stage != kStaging && stage != kProduction) {
          bad_bundle(at + "/stages", "stages are \"staging\" and \"production\"");
        }
        entry.stages.push_back(stage.get<std::string>());
      }
    }
    const auto& k = entry.kind->kind;
    const bool sets_production =
        std::find(entry.stages.begin(), entry.stages.end(), kProduction) != entry.stages.end();
    if (sets_production && k.requires_approval && !caller.can(k.permission("approve"))) {
      throw http::HttpError(403, "forbidden",
                            at + ": putting a " + k.name +
                                " into production needs approval; importing it there "
                                "takes the permission to approve",
                            {{"field", at + "/stages"}, {"permission", k.permission("approve")}});
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

}  // namespace

nlohmann::json ResourceStore::export_bundle(const auth::Caller& caller,
                                            const std::vector<std::string>& kinds) {
  for (const auto& kind : kinds) kinds_.require(kind);
  soci::session sql(database_.pool());
  nlohmann::json resources = nlohmann::json::array();
  for (const auto& kind : kinds) {
    const auto registered = kinds_.require(kind);
    soci::rowset<soci::row> rows =
        (sql.prepare << "SELECT r.id, r.revision, r.staging_revision, r.production_revision, v.content "
                        "FROM resources r JOIN resource_revisions v ON v.tenant_id = r.tenant_id "
                        "AND v.kind = r.kind AND v.id = r.id AND v.revision = r.revision "
                        "WHERE r.tenant_id = :tenant AND r.kind = :kind AND r.deleted = 0 ORDER BY r.id",
         soci::use(caller.tenant, "tenant"), soci::use(kind, "kind"));
    for (const auto& r : rows) {
      const auto revision = integer_at(r, 1);
      nlohmann::json stages = nlohmann::json::array();
      if (optional_integer_at(r, 2) == revision) stages.push_back(kStaging);
      if (optional_integer_at(r, 3) == revision) stages.push_back(kProduction);
      resources.push_back({{"kind", kind},
                           {"id", text_at(r, 0)},
                           {"content", registered->shown(nlohmann::json::parse(text_at(r, 4)))},
                           {"stages", std::move(stages)}});
    }
  }
  return {{"format", kBundleFormat}, {"resources", std::move(resources)}};
}

std::vector<ImportItem> ResourceStore::import_bundle(const auth::Caller& caller, const nlohmann::json& bundle,
                                                     const ImportOptions& options) {
  const auto entries = read_bundle(kinds_, caller, bundle, options);
  const std::string& reason = options.reason;
  // Save hooks run outside the transaction, each against the revision and deleted state read
  // here (revision 0: none yet); the transaction then writes only what was checked against the
  // same state. A delete keeps the revision, so the state is needed too: otherwise a resource
  // deleted meanwhile would come back without a restore check.
  // The hooks run without holding a pooled session: they may read through the store.
  struct Checked {
    std::int64_t revision = 0;
    bool deleted = false;
    bool operator==(const Checked&) const = default;
  };
  std::vector<std::optional<Checked>> checked(entries.size());
  const auto hooked = [](const BundleEntry& entry) { return entry.kind && entry.kind->kind.check_save; };
  if (std::any_of(entries.begin(), entries.end(), hooked)) {
    struct Save {
      std::size_t entry;
      const char* operation;
      nlohmann::json content, previous;
    };
    std::vector<Save> saves;
    {
      soci::session sql(database_.pool());
      for (std::size_t i = 0; i < entries.size(); ++i) {
        const auto& entry = entries[i];
        if (!hooked(entry)) continue;
        const auto& kind = *entry.kind;
        const auto row = load_row(sql, caller.tenant, kind.kind.name, entry.id, false);
        if (!row) {
          saves.push_back({i, "import", entry.content, nullptr});
          checked[i] = Checked{};
          continue;
        }
        if (options.create_only) continue;  // skipped below
        const auto current = existing_revision(sql, caller.tenant, kind.kind.name, entry.id, row->revision);
        if (current.hash != content_hash(kind.sealed(entry.content, current.content, caller.tenant, entry.id))) {
          saves.push_back({i, "import", entry.content, kind.shown(current.content)});
        } else if (row->deleted) {
          // The same content brings a deleted resource back: a restore, asked as one.
          saves.push_back({i, "restore", kind.shown(current.content), nullptr});
        }
        checked[i] = Checked{row->revision, row->deleted};
      }
    }
    for (const auto& save : saves) {
      const auto& entry = entries[save.entry];
      run_save_check(*entry.kind, caller, entry.id, save.operation, save.content, save.previous,
                     "/resources/" + std::to_string(save.entry) + "/content");
    }
  }
  return write([&](soci::session& sql, std::vector<ResourceChange>& changes) {
    std::vector<ImportItem> items;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const auto& entry = entries[i];
      const auto require_checked = [&](std::int64_t revision, bool deleted) {
        if (hooked(entry) && checked[i] != Checked{revision, deleted}) {
          changed_while_checking(entry.kind_name, entry.id);
        }
      };
      if (!entry.kind) {
        items.push_back({entry.kind_name, entry.id, 0, "unknown_kind"});
        continue;
      }
      const auto& kind = *entry.kind;
      const auto& name = kind.kind.name;
      ImportItem item{name, entry.id, 0, "unchanged"};
      auto row = load_row(sql, caller.tenant, name, entry.id, true);
      if (row && options.create_only) {
        items.push_back({name, entry.id, row->revision, "skipped"});
        continue;
      }
      if (!row) {
        require_checked(0, false);
        row = insert_resource(sql, caller, name, entry.id);
        const auto shown = kind.shown(append_revision(sql, kind, caller, *row, entry.content, reason).content);
        audit(sql, caller, "create", name, entry.id, nullptr,
              {{"revision", row->revision}, {"content", shown}}, {{"reason", reason}});
        item.outcome = "created";
      } else {
        const auto current = existing_revision(sql, caller.tenant, name, entry.id, row->revision);
        const bool was_deleted = row->deleted;
        if (row->deleted) {
          require_checked(row->revision, true);
          row->deleted = false;
          row->updated_by = caller.actor();
          row->updated_at = store::utc_now();
          update_row(sql, caller.tenant, *row);
          audit(sql, caller, "restore", name, entry.id, {{"revision", row->revision}, {"deleted", true}},
                {{"revision", row->revision}, {"deleted", false}}, {{"reason", reason}});
          item.outcome = "restored";
        }
        // Compared in stored form: a secret placeholder keeps the stored value.
        if (current.hash != content_hash(kind.sealed(entry.content, current.content, caller.tenant, entry.id))) {
          require_checked(row->revision, was_deleted);
          const auto shown = kind.shown(append_revision(sql, kind, caller, *row, entry.content, reason).content);
          audit(sql, caller, "update", name, entry.id,
                {{"revision", current.number}, {"content", kind.shown(current.content)}},
                {{"revision", row->revision}, {"content", shown}}, {{"reason", reason}});
          if (item.outcome == "unchanged") item.outcome = "updated";
        }
      }
      auto stages = row->stages();
      const auto initial = stages;
      for (const auto& stage : entry.stages)
        (stage == kStaging ? stages.staging : stages.production) = row->revision;
      if (stages.staging != row->staging || stages.production != row->production) {
        const auto before = to_json(row->stages());
        row->staging = stages.staging;
        row->production = stages.production;
        update_row(sql, caller.tenant, *row);
        audit(sql, caller, "promote", name, entry.id, {{"stages", before}},
              {{"stages", to_json(row->stages())}}, {{"reason", reason}});
      }
      item.revision = row->revision;
      if (item.outcome != "unchanged" || stages.staging != initial.staging ||
          stages.production != initial.production) {
        changes.push_back({caller.tenant, name, entry.id, row->revision, std::nullopt, "imported"});
      }
      items.push_back(std::move(item));
    }
    return items;
  });
}

}  // namespace plexus::resources
