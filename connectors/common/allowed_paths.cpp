#include "connectors/common/allowed_paths.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>
#include <plexus/plugin.hpp>

namespace plexus::connectors {
namespace fs = std::filesystem;
namespace {

// Absolute, "." and ".." gone, symbolic links of the existing part followed.
fs::path resolved(const fs::path& path) {
  std::error_code error;
  fs::path out = fs::weakly_canonical(fs::absolute(path, error), error);
  if (error) {
    throw sdk::Error(PLEXUS_ERR_UNAVAILABLE,
                     "cannot resolve the path " + path.string() + ": " + error.message());
  }
  return out;
}

bool inside(const fs::path& path, const fs::path& directory) {
  // A trailing separator makes an empty last element ("/srv/data/"): it matches anything.
  auto end = directory.end();
  if (directory.has_relative_path() && directory.filename().empty()) --end;
  return std::mismatch(directory.begin(), end, path.begin(), path.end()).first == end;
}

}  // namespace

AllowedPaths::AllowedPaths(std::string_view config_json, std::string plugin) : plugin_(std::move(plugin)) {
  const auto config = nlohmann::json::parse(config_json, nullptr, /*allow_exceptions=*/false);
  const auto invalid = [&] {
    return sdk::Error(PLEXUS_ERR_INVALID,
                      "the " + plugin_ + " plugin's config: allowed_paths must be a list of directories");
  };
  if (config_json.empty() || config.is_null()) return;  // no config at all: nothing is allowed
  if (!config.is_object()) throw invalid();
  const auto list = config.find("allowed_paths");
  if (list == config.end() || list->is_null()) return;
  if (!list->is_array()) throw invalid();
  for (const auto& item : *list) {
    if (!item.is_string() || item.get<std::string>().empty()) throw invalid();
    directories_.emplace_back(item.get<std::string>());
  }
}

fs::path AllowedPaths::resolve(std::string_view path) const {
  if (directories_.empty()) {
    throw sdk::Error(PLEXUS_ERR_DENIED,
                     "the " + plugin_ +
                         " plugin's config lists no allowed_paths: it opens no files until the "
                         "operator adds their directories there");
  }
  fs::path target = resolved(fs::path(path));
  // Resolved on every call: a directory may be created, or a link changed, after start.
  for (const auto& directory : directories_) {
    if (inside(target, resolved(directory))) return target;
  }
  throw sdk::Error(PLEXUS_ERR_DENIED, "the path " + std::string(path) +
                                          " is outside the allowed_paths of the " + plugin_ +
                                          " plugin's config");
}

}  // namespace plexus::connectors
