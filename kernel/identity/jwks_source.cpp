#include "kernel/identity/jwks_source.hpp"

#include <httplib.h>

#include <fstream>
#include <sstream>

#include "kernel/log/log.hpp"

namespace plexus::identity {
namespace {

constexpr std::chrono::minutes kUnknownKeyRefetch{1};
constexpr std::size_t kMaxJwksSize = 1024 * 1024;

}  // namespace

JwksSource::JwksSource(std::string location, std::chrono::milliseconds refresh)
    : location_(std::move(location)), refresh_(refresh) {}

bool JwksSource::reload_file_if_changed() {
  std::error_code error;
  const auto time = std::filesystem::last_write_time(location_, error);
  if (error) {
    if (!keys_) log::get("auth")->warn("OIDC JWKS file {} cannot be read: {}", location_, error.message());
    return false;
  }
  if (keys_ && time == file_time_) return false;
  std::ifstream in(location_, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  try {
    keys_ = std::make_shared<const auth::KeySet>(auth::KeySet::from_jwks(text.str()));
    file_time_ = time;
    log::get("auth")->info("OIDC signing keys loaded from {}", location_);
    return true;
  } catch (const auth::JwtError& e) {
    // A half-written file: keep the old keys and try again when it changes once more.
    log::get("auth")->warn("OIDC JWKS file {} is not usable ({})", location_, e.code());
    return false;
  }
}

bool JwksSource::fetch_url() {
  fetched_ = std::chrono::steady_clock::now();
  const auto slash = location_.find('/', std::string("https://").size());
  const std::string origin = location_.substr(0, slash);
  const std::string path = slash == std::string::npos ? "/" : location_.substr(slash);
  httplib::Client client(origin);
  client.enable_server_certificate_verification(true);
  client.set_connection_timeout(5);
  client.set_read_timeout(10);
  const auto response = client.Get(path.c_str());
  if (!response) {
    log::get("auth")->warn("OIDC JWKS {} cannot be fetched: {}", location_,
                           httplib::to_string(response.error()));
    return false;
  }
  if (response->status != 200 || response->body.size() > kMaxJwksSize) {
    log::get("auth")->warn("OIDC JWKS {} answered status {}", location_, response->status);
    return false;
  }
  try {
    keys_ = std::make_shared<const auth::KeySet>(auth::KeySet::from_jwks(response->body));
    log::get("auth")->info("OIDC signing keys fetched from {}", location_);
    return true;
  } catch (const auth::JwtError& e) {
    log::get("auth")->warn("OIDC JWKS {} is not usable ({})", location_, e.code());
    return false;
  }
}

std::shared_ptr<const auth::KeySet> JwksSource::keys() {
  std::lock_guard lock(mutex_);
  if (!is_url(location_)) {
    reload_file_if_changed();
  } else if (!keys_ || std::chrono::steady_clock::now() - fetched_ >= refresh_) {
    fetch_url();
  }
  return keys_;
}

std::shared_ptr<const auth::KeySet> JwksSource::reload_for_unknown_key() {
  std::lock_guard lock(mutex_);
  if (!is_url(location_)) return nullptr;  // a file is already re-read whenever it changes
  const auto now = std::chrono::steady_clock::now();
  if (last_unknown_key_fetch_ != std::chrono::steady_clock::time_point{} &&
      now - last_unknown_key_fetch_ < kUnknownKeyRefetch) {
    return nullptr;
  }
  last_unknown_key_fetch_ = now;
  return fetch_url() ? keys_ : nullptr;
}

}  // namespace plexus::identity
