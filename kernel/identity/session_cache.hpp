// A short-lived cache of session states, so that checking an access token's session
// costs a database round trip at most once per session every few seconds. The price:
// a session revoked on another node is still honoured here for up to `ttl`.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace plexus::identity {

// Who a live session belongs to and what it may do now (roles as currently stored).
struct SessionState {
  std::string session_id, tenant, user_id, username;
  std::vector<std::string> roles, grants;
};

class SessionCache {
 public:
  static constexpr std::chrono::seconds kTtl{5};
  static constexpr std::size_t kMaxEntries = 100'000;

  // The cached answer: a state, or nullopt for a session known to be dead. No value: ask the database.
  std::optional<std::optional<SessionState>> get(const std::string& session_id);
  void put(const std::string& session_id, std::optional<SessionState> state);
  void forget(const std::string& session_id);
  void clear();

 private:
  struct Entry {
    std::optional<SessionState> state;
    std::chrono::steady_clock::time_point stored;
  };
  std::mutex mutex_;
  std::map<std::string, Entry> entries_;
};

}  // namespace plexus::identity
