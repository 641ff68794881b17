// An OIDC issuer's signing keys (JWKS), from a file or an https:// URL. A file is
// re-read when its modification time changes; a URL is fetched again after
// `refresh`, or sooner (at most once a minute) when a token names an unknown key,
// which is how issuers announce key rotation. A failed reload keeps the old keys.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "kernel/auth/jwt.hpp"

namespace plexus::identity {

class JwksSource {
 public:
  JwksSource(std::string location, std::chrono::milliseconds refresh);

  std::shared_ptr<const auth::KeySet> keys();
  // After a token named a key the current set lacks; nullptr when nothing new was loaded.
  std::shared_ptr<const auth::KeySet> reload_for_unknown_key();

  static bool is_url(std::string_view location) { return location.starts_with("https://"); }

 private:
  bool reload_file_if_changed();  // caller holds mutex_
  bool fetch_url();               // caller holds mutex_

  std::string location_;
  std::chrono::milliseconds refresh_;
  std::mutex mutex_;
  std::shared_ptr<const auth::KeySet> keys_;
  std::filesystem::file_time_type file_time_{};
  std::chrono::steady_clock::time_point fetched_{};
  std::chrono::steady_clock::time_point last_unknown_key_fetch_{};
};

}  // namespace plexus::identity
