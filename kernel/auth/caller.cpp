#include "kernel/auth/caller.hpp"

#include <algorithm>
#include <map>

namespace plexus::auth {
namespace {

// Glob with `*` only, which never crosses the ':' before a resource id (so "*.read"
// cannot match "x.write:y.read"). Iterative with one backtrack point: never
// exponential, whatever a custom role holds.
bool glob_match(std::string_view pattern, std::string_view text) {
  std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos && text[mark] != ':') {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace

std::string_view kind_name(CallerKind kind) {
  switch (kind) {
    case CallerKind::anonymous: return "anonymous";
    case CallerKind::user: return "user";
    case CallerKind::api_key: return "api_key";
    case CallerKind::share_link: return "share_link";
    case CallerKind::oidc: return "oidc";
    case CallerKind::system: return "system";
  }
  return "anonymous";
}

bool grant_covers(std::string_view grant, std::string_view permission) {
  if (grant.empty() || permission.empty()) return false;
  if (glob_match(grant, permission)) return true;
  const auto colon = permission.find(':');
  if (colon == std::string_view::npos || grant.find(':') != std::string_view::npos) return false;
  return glob_match(grant, permission.substr(0, colon));
}

bool Caller::can(std::string_view permission) const {
  return std::any_of(grants.begin(), grants.end(), [&](const std::string& g) { return grant_covers(g, permission); });
}

std::string Caller::actor() const {
  switch (kind) {
    case CallerKind::anonymous: return "anonymous";
    case CallerKind::user: return "user:" + name;
    case CallerKind::api_key: return "apikey:" + name;
    case CallerKind::share_link: return "share:" + name;
    case CallerKind::oidc: return "oidc:" + name;
    case CallerKind::system: return "system:" + name;
  }
  return "anonymous";
}

const std::vector<std::string>* builtin_role_grants(std::string_view role) {
  static const std::map<std::string, std::vector<std::string>, std::less<>> roles = {
      {"admin", {"*"}},
      {"editor", {"*.read", "*.write", "*.execute", "menu.*"}},
      {"viewer", {"*.read", "menu.*"}},
  };
  const auto it = roles.find(role);
  return it == roles.end() ? nullptr : &it->second;
}

}  // namespace plexus::auth
