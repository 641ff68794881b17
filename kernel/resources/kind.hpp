// A kind of versioned resource ("api", "rule", "dashboard", "note"): what its
// content must look like and the hooks a plugin attaches to it. Plain data, so a
// plugin fills one in and hands it to ResourceKinds::add.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace plexus::auth {
struct Caller;
}

namespace plexus::resources {

// One thing wrong with a resource's content: where (RFC 6901 JSON pointer into the
// content, "" for the whole of it) and what.
struct Problem {
  std::string pointer;
  std::string message;
};

// A resource another one refers to.
struct ResourceRef {
  std::string kind;
  std::string id;
  bool operator==(const ResourceRef&) const = default;
  auto operator<=>(const ResourceRef&) const = default;
};

// What a save hook is asked to check: new content about to become a revision, or a
// resource about to be soft-deleted or restored.
struct SaveCheck {
  const auth::Caller* caller;  // null when the server itself saves (bootstrap bundles)
  std::string tenant;
  std::string kind;
  std::string id;
  // "create", "update", "rollback" (also undo of a save), "import", "delete" or
  // "restore" (also undo of a delete).
  std::string operation;
  const nlohmann::json& content;    // as validated; what comes back on restore; null on delete
  const nlohmann::json& previous;   // the live content (as shown); null for a new resource and on restore
};

// A save hook's answer: problems refuse the save with 422, `denied` with 403.
struct SaveVerdict {
  std::vector<Problem> problems;
  std::string denied;  // the reason; empty: not denied
};

// What a pre-promotion hook is asked to check.
struct PromotionCheck {
  std::string tenant;
  std::string kind;
  std::string id;
  std::string stage;  // "staging" or "production"
  std::int64_t revision = 0;
  const nlohmann::json& content;
};

struct Kind {
  std::string name;  // [a-z][a-z0-9-]{0,63}; also the URL segment
  // JSON Schema the content must satisfy; null accepts any JSON value.
  nlohmann::json json_schema;
  // Checks the schema cannot express; an empty list means the content is fine.
  std::function<std::vector<Problem>(const nlohmann::json& content)> validator;
  // Permissions are "<prefix>.read", ".write", ".approve"; empty: the kind's name.
  std::string permission_prefix;
  // Promotion to production waits for a second person holding "<prefix>.approve".
  bool requires_approval = false;
  // Runs before any promotion (tests, lint); a non-empty list of problems blocks it.
  std::function<std::vector<std::string>(const PromotionCheck& check)> pre_promotion;
  // The resources this content uses; deleting one of them is refused while it does.
  std::function<std::vector<ResourceRef>(const nlohmann::json& content)> references;

  // Secrets in the content (a datasource's password): `seal` turns content into its
  // stored form just before a revision is written (`previous`: the stored content of
  // the current revision, null for a new resource); `present` turns stored content into
  // what clients, audit rows and bundles see. Either may be empty.
  std::function<void(nlohmann::json& content, const nlohmann::json& previous, const std::string& tenant,
                     const std::string& id)>
      seal;
  std::function<void(nlohmann::json& content)> present;

  // A second home of the store's routes for this kind (a plugin kind's route_prefix,
  // ABI 1.5): "/api/v1/api-manager/apis" serves what /api/v1/resources/<name> does.
  // Empty: none. The plugin host mounts and unmounts it with the plugin's routes.
  std::string route_prefix;

  // Runs on every save of new content (create, update, rollback, undo, import), after
  // the schema and the validator, and on every soft delete and restore (undo of a delete
  // too), outside the write transaction; it may deny the caller. Throwing fails the
  // operation (500). Empty: none.
  std::function<SaveVerdict(const SaveCheck& check)> check_save;

  const std::string& prefix() const { return permission_prefix.empty() ? name : permission_prefix; }
  std::string permission(std::string_view action) const { return prefix() + "." + std::string(action); }
};

}  // namespace plexus::resources
