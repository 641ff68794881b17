// Login, refresh, logout, who-am-I and password change. Every login failure answers
// the same 401 whatever the cause, and unknown users cost a dummy Argon2 run, so
// neither the body nor the timing tells which usernames exist.
#include <thread>

#include "kernel/identity/request_fields.hpp"
#include "kernel/identity/responses.hpp"
#include "kernel/identity/routes.hpp"
#include "kernel/log/log.hpp"
#include "kernel/store/clock.hpp"

namespace plexus::identity {
namespace {

using http::Request;
using http::Response;

constexpr std::size_t kMaxUserAgent = 512;

Response token_response(const TokenPair& tokens) {
  auto response = Response::json(200, {{"access_token", tokens.access_token},
                                       {"refresh_token", tokens.refresh_token},
                                       {"token_type", "Bearer"},
                                       {"expires_in", tokens.expires_in}});
  // Tokens must never sit in a shared or browser cache (RFC 6749 section 5.1).
  response.headers.set("Cache-Control", "no-store");
  response.headers.set("Pragma", "no-cache");
  return response;
}

Response invalid_credentials(const Request& request) {
  return Response::error(401, "invalid_credentials", "the username or password is wrong", nullptr,
                         request.request_id);
}

Response invalid_refresh_token(const Request& request) {
  auto response =
      Response::error(401, "invalid_token", "the refresh token is not valid", nullptr, request.request_id);
  response.headers.set("WWW-Authenticate", "Bearer error=\"invalid_token\"");
  return response;
}

std::string user_agent_of(const Request& request) {
  return std::string(request.header("User-Agent").value_or("").substr(0, kMaxUserAgent));
}

// Audit rows of a login: an anonymous actor until the credentials proved who it is.
void record_login(Services& s, const Request& request, const std::string& tenant, const std::string& username,
                  const std::optional<User>& user, const std::string& outcome) {
  auth::Caller caller;
  caller.ip = request.remote_address;
  caller.request_id = request.request_id;
  if (outcome == "success") {
    caller.kind = auth::CallerKind::user;
    caller.name = user->username;
    caller.user_id = user->id;
  }
  auto event = audit::event_of(caller, "auth.login", user ? "user/" + user->id : "user");
  event.tenant = s.directory.tenant(tenant) ? tenant : std::string(kDefaultTenant);
  event.outcome = outcome == "success" ? "success" : outcome == "locked" ? "denied" : "failure";
  event.details = {{"tenant", tenant}, {"username", username}, {"outcome", outcome}};
  s.audit.record(std::move(event));
}

Response login(Services& s, Request& request) {
  const auto body = object_body(request);
  const auto username = required_string(body, "username", 256);
  const auto password = required_string(body, "password", 4096);
  const auto tenant = optional_string(body, "tenant", 64).value_or(kDefaultTenant);
  LoginAttempt attempt{.tenant = tenant,
                       .username = username,
                       .ip = request.remote_address,
                       .user_agent = user_agent_of(request)};

  const auto lock = s.login_guard.state(tenant, username);
  if (lock.locked) {
    attempt.outcome = "locked";
    s.login_guard.record(attempt);
    record_login(s, request, tenant, username, std::nullopt, attempt.outcome);
    const auto seconds = std::to_string(lock.retry_after.count());
    auto response = Response::error(429, "too_many_attempts", "too many failed logins; try again later",
                                    {{"retry_after", lock.retry_after.count()}}, request.request_id);
    response.headers.set("Retry-After", seconds);
    return response;
  }
  // Handlers run on worker threads, so holding this one is how the caller is slowed.
  std::this_thread::sleep_for(LoginGuard::slow_down(lock.consecutive_failures));

  const auto user = s.directory.user_by_name(tenant, username);
  bool password_ok = false;
  if (user) {
    password_ok = auth::verify_password(password, user->password_hash);
  } else {
    auth::dummy_verify();
  }
  if (!password_ok) {
    attempt.outcome = "bad_credentials";
  } else if (user->disabled || !s.directory.tenant_enabled(tenant)) {
    attempt.outcome = "disabled";
  } else {
    attempt.outcome = "success";
  }
  if (user) attempt.user_id = user->id;
  s.login_guard.record(attempt);
  record_login(s, request, tenant, username, user, attempt.outcome);
  if (attempt.outcome != "success") return invalid_credentials(request);

  if (auth::needs_rehash(user->password_hash, auth::Argon2Params{})) {
    s.directory.set_password_hash(tenant, user->id, auth::hash_password(password));
  }
  s.directory.record_login(tenant, user->id, attempt.time.empty() ? store::utc_now() : attempt.time);
  return token_response(s.sessions.start(*user, request.remote_address, attempt.user_agent));
}

Response refresh(Services& s, Request& request) {
  const auto body = object_body(request);
  const auto token = required_string(body, "refresh_token", 512);
  const auto result = s.sessions.refresh(token);
  if (result.status == RefreshResult::Status::reused) {
    log::get("auth")->warn("a spent refresh token was presented again; session {} of user {} revoked",
                           result.session_id, result.user_id);
    auth::Caller caller;
    caller.kind = auth::CallerKind::user;
    caller.tenant = result.tenant;
    caller.user_id = result.user_id;
    caller.name = result.username;
    caller.ip = request.remote_address;
    caller.request_id = request.request_id;
    s.record(caller, "auth.refresh_reuse", "session/" + result.session_id, nullptr, nullptr, "denied",
             {{"session_id", result.session_id}});
    return invalid_refresh_token(request);
  }
  if (result.status == RefreshResult::Status::invalid) return invalid_refresh_token(request);
  return token_response(result.tokens);
}

Response logout(Services& s, Request& request) {
  const auto& caller = *request.caller;
  if (caller.kind != auth::CallerKind::user) {
    throw http::HttpError(400, "no_session", "only a login session can log out");
  }
  std::vector<std::string> revoked{caller.credential_id};
  if (!request.body.empty()) {
    const auto body = object_body(request);
    if (const auto token = optional_string(body, "refresh_token", 512)) {
      // Only a session of the same user; anything else is silently left alone.
      if (const auto session = s.sessions.session_of(*token)) {
        if (s.sessions.owner_of(*session) == std::make_pair(caller.tenant, caller.user_id) &&
            *session != caller.credential_id) {
          revoked.push_back(*session);
        }
      }
    }
  }
  for (const auto& session : revoked) s.sessions.revoke(session, "logout");
  s.record(caller, "auth.logout", "session/" + caller.credential_id, nullptr, nullptr, "success",
           {{"sessions", revoked}});
  return no_content();
}

Response me(Services&, Request& request) {
  const auto& caller = *request.caller;
  return Response::json(200, {{"user_id", caller.user_id},
                              {"username", caller.name},
                              {"tenant", caller.tenant},
                              {"roles", caller.roles},
                              {"grants", caller.grants},
                              {"kind", auth::kind_name(caller.kind)}});
}

Response change_password(Services& s, Request& request) {
  const auto& caller = *request.caller;
  if (caller.kind != auth::CallerKind::user) forbidden("only a user signed in with a password can change it");
  const auto body = object_body(request);
  const auto current = required_string(body, "current_password", 4096);
  const auto replacement = required_string(body, "new_password", 4096);
  const auto user = s.directory.user(caller.tenant, caller.user_id);
  if (!user) not_found("user");

  // Checking the current password is a credential check like a login: same lockout.
  const auto lock = s.login_guard.state(caller.tenant, user->username);
  if (lock.locked) {
    auto response = Response::error(429, "too_many_attempts", "too many failed attempts; try again later",
                                    {{"retry_after", lock.retry_after.count()}}, request.request_id);
    response.headers.set("Retry-After", std::to_string(lock.retry_after.count()));
    return response;
  }
  if (!auth::verify_password(current, user->password_hash)) {
    s.login_guard.record({.tenant = caller.tenant,
                          .username = user->username,
                          .user_id = user->id,
                          .ip = request.remote_address,
                          .user_agent = user_agent_of(request),
                          .outcome = "bad_credentials"});
    s.record(caller, "user.password_change", "user/" + user->id, nullptr, nullptr, "failure");
    throw http::HttpError(403, "invalid_credentials", "the current password is wrong",
                          {{"field", "current_password"}});
  }
  require_acceptable_password(replacement, s.password_policy, user->username, "new_password");
  s.directory.set_password_hash(caller.tenant, user->id, auth::hash_password(replacement));
  s.sessions.revoke_user(caller.tenant, user->id, "password_change", caller.credential_id);
  s.record(caller, "user.password_change", "user/" + user->id);
  return no_content();
}

}  // namespace

std::vector<http::Route> auth_routes(Services& s) {
  const std::string pub(http::kPublic), authenticated(http::kAuthenticated);
  return {
      make_route(s, "POST", "/api/v1/auth/login", login,
                 "Log in with username and password; returns an access and a refresh token", pub),
      make_route(s, "POST", "/api/v1/auth/refresh", refresh,
                 "Trade a refresh token for new tokens (the old one is spent)", pub),
      make_route(s, "POST", "/api/v1/auth/logout", logout, "End the caller's session", authenticated),
      make_route(s, "GET", "/api/v1/auth/me", me, "Who the caller is: user, tenant, roles and grants",
                 authenticated),
      make_route(s, "POST", "/api/v1/auth/password", change_password,
                 "Change the caller's own password; ends its other sessions", authenticated),
  };
}

}  // namespace plexus::identity
