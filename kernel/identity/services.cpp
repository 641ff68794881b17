#include "kernel/identity/services.hpp"

namespace plexus::identity {

Services::Services(store::Database& database_, audit::AuditLog& audit_, IdentityOptions options_)
    : database(database_),
      audit(audit_),
      options(std::move(options_)),
      password_policy{.min_length = options.password_min_length},
      directory(database),
      sessions(database, directory, options),
      login_guard(database, options),
      api_keys(database),
      share_links(database, options),
      oidc(options.oidc, directory) {}

void Services::record(const auth::Caller& caller, const std::string& action, const std::string& target,
                      nlohmann::json before, nlohmann::json after, const std::string& outcome,
                      nlohmann::json details) {
  auto event = audit::event_of(caller, action, target);
  event.before = std::move(before);
  event.after = std::move(after);
  event.outcome = outcome;
  event.details = std::move(details);
  audit.record(std::move(event));
}

}  // namespace plexus::identity
