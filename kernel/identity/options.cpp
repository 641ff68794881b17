// identity_options_of: the auth.* configuration keys, and the JWT secret generated
// once into the data directory when the operator gives none.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "kernel/config/config.hpp"
#include "kernel/identity/identity.hpp"
#include "kernel/identity/token_crypto.hpp"
#include "kernel/log/log.hpp"

namespace plexus::identity {
namespace {

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  return text;
}

// Written with O_EXCL and mode 0600, so two nodes starting on one data directory
// agree on one secret and nobody else can read it.
std::string stored_secret(const std::filesystem::path& file) {
  std::error_code error;
  std::filesystem::create_directories(file.parent_path(), error);
  if (!error) ::chmod(file.parent_path().c_str(), 0700);
  const std::string secret = random_secret(48);
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    const std::string line = secret + "\n";
    const bool written =
        ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!written) throw std::runtime_error("cannot write " + file.string());
    log::get("auth")->info("generated a JWT signing secret in {}", file.string());
    return secret;
  }
  if (errno != EEXIST)
    throw std::runtime_error("cannot create " + file.string() + ": " + std::strerror(errno));
  std::ifstream in(file);
  std::ostringstream text;
  text << in.rdbuf();
  auto existing = trimmed(text.str());
  if (existing.empty())
    throw std::runtime_error(file.string() + " is empty; delete it to generate a new secret");
  return existing;
}

}  // namespace

IdentityOptions identity_options_of(const config::Config& config, const std::filesystem::path& data_dir) {
  IdentityOptions options;
  options.jwt_secret = config.get_string("auth.jwt_secret");
  if (options.jwt_secret.empty()) {
    options.jwt_secret = stored_secret(data_dir / "secrets" / "jwt-secret");
    log::add_secret(options.jwt_secret);
  }
  options.issuer = config.get_string("auth.issuer");
  options.audience = config.get_string("auth.audience");
  options.access_ttl = config.get_duration("auth.access_ttl");
  options.refresh_ttl = config.get_duration("auth.refresh_ttl");
  options.session_max_age = config.get_duration("auth.session_max_age");
  options.lockout_max_failures = static_cast<int>(config.get_int("auth.lockout.max_failures"));
  options.lockout_window = config.get_duration("auth.lockout.window");
  options.lockout_duration = config.get_duration("auth.lockout.duration");
  options.password_min_length = static_cast<std::size_t>(config.get_int("auth.password.min_length"));
  options.share_max_ttl = config.get_duration("auth.share.max_ttl");
  auto& oidc = options.oidc;
  oidc.issuer = config.get_string("auth.oidc.issuer");
  oidc.audience = config.get_string("auth.oidc.audience");
  oidc.jwks = config.get_string("auth.oidc.jwks");
  oidc.jwks_refresh = config.get_duration("auth.oidc.jwks_refresh");
  oidc.username_claim = config.get_string("auth.oidc.username_claim");
  oidc.roles_claim = config.get_string("auth.oidc.roles_claim");
  oidc.tenant_claim = config.get_string("auth.oidc.tenant_claim");
  oidc.default_tenant = config.get_string("auth.oidc.default_tenant");
  oidc.role_map = config.get_map("auth.oidc.role_map");
  return options;
}

}  // namespace plexus::identity
