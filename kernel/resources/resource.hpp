// What the resource store hands out: a resource with its stage pointers, one
// revision of it, a pending promotion. Plain data plus their JSON views.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace plexus::resources {

inline constexpr std::string_view kStaging = "staging";
inline constexpr std::string_view kProduction = "production";

// Which revision each stage points at; draft is always the latest.
struct Stages {
  std::int64_t draft = 0;
  std::optional<std::int64_t> staging;
  std::optional<std::int64_t> production;
};

// A promotion to production waiting for a second person (kinds with requires_approval).
struct PromotionRequest {
  std::string id;
  std::string stage;
  std::int64_t revision = 0;
  std::string status;             // pending | approved | superseded
  std::string requested_by;       // actor
  std::string requester_user_id;  // to recognise the same person behind another credential
  std::string reason;
  std::string requested_at;
  std::string decided_by, decided_at;  // empty while pending
};

struct Resource {
  std::string kind;
  std::string id;
  std::int64_t revision = 0;  // the current one; the ETag
  nlohmann::json content;     // of `revision`; not loaded in listings
  Stages stages;
  bool deleted = false;
  std::string created_by, created_at, updated_by, updated_at;
  std::optional<PromotionRequest> pending_promotion;
};

struct Revision {
  std::int64_t number = 0;
  std::string author;
  std::string created_at;
  std::string reason;
  std::string hash;        // SHA-256 of the canonical content
  nlohmann::json content;  // not loaded in listings
};

// What one committed write changed, for the store's change listener: plexusd
// publishes it on the event bus (docs/resources.md "Change events"). Never the
// content, which may hold secrets.
struct ResourceChange {
  std::string tenant, kind, id;
  std::int64_t revision = 0;         // current after the change; promoted: the one the stage points at
  std::optional<std::string> stage;  // promoted: "staging" or "production"; otherwise none
  std::string action;                // saved | deleted | restored | promoted | rolled_back | imported
};

// "resource.<kind>.changed" (kind names are valid topic segments).
std::string change_topic(const ResourceChange& change);
// {"tenant","kind","id","revision","stage","action"}, stage null when none.
nlohmann::json to_json(const ResourceChange& change);

nlohmann::json to_json(const Stages& stages);
nlohmann::json to_json(const PromotionRequest& request);
// Both with "content"; listings erase it.
nlohmann::json to_json(const Resource& resource);
nlohmann::json to_json(const Revision& revision);

}  // namespace plexus::resources
