// Login history and lockout. Failures are counted per (tenant, username as typed),
// whether or not the user exists, so a locked-out unknown name looks exactly like a
// locked-out real one. Consecutive failures also slow the caller down.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernel/identity/identity.hpp"

namespace plexus::identity {

// outcome: success | bad_credentials | locked | disabled
struct LoginAttempt {
  std::string id, tenant, username, user_id, time, ip, user_agent, outcome;
};
nlohmann::json to_json(const LoginAttempt& attempt);

struct LockState {
  int consecutive_failures = 0;  // since the last success, within the window
  bool locked = false;
  std::chrono::seconds retry_after{0};  // when locked
};

struct LoginHistoryQuery {
  std::string tenant;
  std::string username, outcome, from, to;  // empty: any
  int limit = 50;
  std::optional<std::pair<std::string, std::string>> before;  // (time, id) of the last row seen
};

struct LoginHistoryPage {
  std::vector<LoginAttempt> items;                          // newest first
  std::optional<std::pair<std::string, std::string>> last;  // set when more rows follow
};

class LoginGuard {
 public:
  LoginGuard(store::Database& database, const IdentityOptions& options)
      : database_(database), options_(options) {}

  LockState state(const std::string& tenant, const std::string& username);
  // How long to hold the answer to an attempt after `previous_failures` consecutive
  // failures: nothing for the first two, then 250 ms doubling up to 2 s.
  static std::chrono::milliseconds slow_down(int previous_failures);

  // Fills id and time when empty.
  void record(LoginAttempt attempt);
  LoginHistoryPage history(const LoginHistoryQuery& query);

 private:
  store::Database& database_;
  const IdentityOptions& options_;
};

}  // namespace plexus::identity
