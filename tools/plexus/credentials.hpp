// The saved session of `plexus login`: which server, and the access and refresh tokens.
// Kept in one JSON file readable by its owner only (0600, directory 0700).
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace plexus::cli {

struct Credentials {
  std::string url;  // normalised server URL: "https://plexus.example.com"
  std::string access_token;
  std::string refresh_token;
};

using EnvironmentLookup = std::function<const char*(const char*)>;

// $PLEXUS_CREDENTIALS, else $XDG_CONFIG_HOME/plexus/credentials.json, else
// ~/.config/plexus/credentials.json. Throws std::runtime_error when none can be named.
std::filesystem::path credentials_path(const EnvironmentLookup& env);
std::filesystem::path credentials_path();  // from the process environment

// nullopt when the file does not exist; throws std::runtime_error when it cannot be read
// or is not a credentials file.
std::optional<Credentials> load_credentials(const std::filesystem::path& file);

// Replaces the file atomically, created 0600; a missing directory is created 0700.
// Throws std::runtime_error on failure.
void save_credentials(const std::filesystem::path& file, const Credentials& credentials);

// True when a file was removed.
bool remove_credentials(const std::filesystem::path& file);

}  // namespace plexus::cli
