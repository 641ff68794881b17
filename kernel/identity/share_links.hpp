// Share links (COM-10): an HS256 token (claim typ "share") that grants exactly one
// action on one resource, "<action>:<resource>", in its tenant, until it expires or
// is revoked. The row in share_links is what revocation changes; every use is kept.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernel/identity/identity.hpp"
#include "kernel/store/clock.hpp"

namespace plexus::identity {

struct ShareLink {
  std::string id, tenant, created_by, created_by_name, action, resource, created_at, expires_at;
  std::optional<std::string> revoked_at;
  std::string grant() const { return action + ":" + resource; }
};
nlohmann::json to_json(const ShareLink& link);

struct ShareLinkUse {
  std::string time, ip, request_id;
};

class ShareLinks {
 public:
  ShareLinks(store::Database& database, const IdentityOptions& options)
      : database_(database), options_(options) {}

  // The stored link and its token.
  std::pair<ShareLink, std::string> create(const std::string& tenant, const std::string& created_by,
                                           const std::string& created_by_name, const std::string& action,
                                           const std::string& resource, store::TimePoint expires_at);
  // All of the tenant's links, or only those `created_by` made when it is given.
  std::vector<ShareLink> list(const std::string& tenant, const std::optional<std::string>& created_by);
  std::optional<ShareLink> get(const std::string& tenant, const std::string& id);
  bool revoke(const std::string& tenant, const std::string& id);

  // The link a token stands for when the signature, expiry and row all say it is live.
  std::optional<ShareLink> resolve(std::string_view token);
  void record_use(const ShareLink& link, const std::string& ip, const std::string& request_id);
  std::vector<ShareLinkUse> uses(const std::string& tenant, const std::string& link_id);

 private:
  store::Database& database_;
  const IdentityOptions& options_;
};

}  // namespace plexus::identity
