// The directories a file-based connector may open datasources in: its plugin config's
// "allowed_paths", which the operator sets in the manifest. A datasource is tenant
// content, and a tenant must not open whatever file the server can read (such as the
// kernel's own database), so a path outside these directories is refused.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace plexus::connectors {

class AllowedPaths {
 public:
  // From the plugin config {"allowed_paths": ["dir", ...]} (JSON text, as Host::config_json
  // gives it); `plugin` names the plugin in messages. Relative directories are relative to
  // the working directory. Throws plexus::sdk::Error (INVALID) for a malformed config.
  AllowedPaths(std::string_view config_json, std::string plugin);

  // `path`, absolute or relative to the working directory, made absolute with symbolic
  // links resolved. Throws plexus::sdk::Error (DENIED) when it lies outside every allowed
  // directory.
  std::filesystem::path resolve(std::string_view path) const;

 private:
  std::vector<std::filesystem::path> directories_;
  std::string plugin_;
};

}  // namespace plexus::connectors
