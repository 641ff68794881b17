// The registry of resource kinds. Plugins add theirs when they load and remove
// them when they unload; requests look kinds up concurrently with both.
#pragma once

#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "kernel/resources/content_schema.hpp"
#include "kernel/resources/kind.hpp"

namespace plexus::resources {

// A kind as registered: the plugin's description plus its compiled schema.
struct RegisteredKind {
  Kind kind;
  std::string owner;  // "kernel" or the plugin that registered it
  std::unique_ptr<ContentSchema> schema;  // null when the kind has no schema

  // Schema problems first, then the validator's; empty when the content is fine.
  std::vector<Problem> problems(const nlohmann::json& content) const;
  // Throws http::HttpError 400 "invalid_content" whose details list every problem,
  // each with its pointer (prefixed with `pointer_prefix`, e.g. "/resources/3/content").
  void require_valid(const nlohmann::json& content, const std::string& pointer_prefix = "") const;
  // Runs Kind::check_save, when there is one (save_check.cpp): 422 "invalid_content"
  // listing its problems as require_valid does, 403 "forbidden" when it denies the save,
  // 500 "save_check_failed" when it fails.
  void require_save_allowed(const SaveCheck& check, const std::string& pointer_prefix = "") const;
  // The stored form of `content` (Kind::seal); 400 "invalid_content" naming the field
  // when a secret placeholder has no stored value to keep.
  nlohmann::json sealed(nlohmann::json content, const nlohmann::json& previous, const std::string& tenant,
                        const std::string& id) const;
  // What clients see of stored content (Kind::present).
  nlohmann::json shown(nlohmann::json stored) const;
};

// True for [a-z][a-z0-9-]{0,63}.
bool is_kind_name(std::string_view name);

class ResourceKinds {
 public:
  // Throws std::invalid_argument for a malformed name, a name already taken or a
  // schema valijson cannot compile. The schema is compiled here, once.
  void add(Kind kind);
  // Replaces every kind `owner` registered by `kinds` in one step (a plugin's load,
  // reload or unload). Throws std::invalid_argument, changing nothing, for a bad
  // name or schema or a name another owner holds.
  void replace_owner(const std::string& owner, std::vector<Kind> kinds);
  // False when no such kind was registered.
  bool remove(std::string_view name);

  // Null when unknown. The pointer stays valid after remove().
  std::shared_ptr<const RegisteredKind> find(std::string_view name) const;
  // Throws http::HttpError 404 "unknown_kind" naming it.
  std::shared_ptr<const RegisteredKind> require(std::string_view name) const;
  std::vector<std::string> names() const;  // sorted

 private:
  mutable std::shared_mutex mutex_;
  std::map<std::string, std::shared_ptr<const RegisteredKind>, std::less<>> kinds_;
};

}  // namespace plexus::resources
