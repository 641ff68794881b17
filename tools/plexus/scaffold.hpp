// Turning the hello example into a new plugin: names derived from the plugin name,
// and the renaming applied to the template's paths and text.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace plexus::cli {

// The spellings of one plugin name.
struct PluginNames {
  std::string name;   // "disk-usage": routes (/api/v1/disk-usage), manifest, descriptor
  std::string snake;  // "disk_usage": CMake target and library (libplexus_disk_usage.so), metrics
  std::string camel;  // "DiskUsage": the class, DiskUsagePlugin
};

// Why `name` cannot name a plugin, or nullopt when it can: [a-z][a-z0-9-]*, at most
// 63 characters (what the kernel accepts in a manifest).
std::optional<std::string> invalid_plugin_name(std::string_view name);

// Requires a valid name.
PluginNames plugin_names(std::string_view name);

// The template's text with its identifiers renamed, in one pass (nothing is renamed twice):
//   HelloPlugin           -> <Camel>Plugin        (a whole word)
//   plexus_hello          -> plexus_<snake>       (target, library, metric names)
//   hello                 -> <name>               (a whole word: routes, file names, the plugin name)
// Words are [A-Za-z0-9_]; "Hello" and words that merely contain "hello" stay as they are.
std::string rename_template(std::string_view text, const PluginNames& names);

struct ScaffoldFile {
  std::string path;  // relative to the plugin's directory
  std::string text;
};

// Every file of a new plugin, rendered from the embedded template.
std::vector<ScaffoldFile> scaffold(const PluginNames& names);

}  // namespace plexus::cli
