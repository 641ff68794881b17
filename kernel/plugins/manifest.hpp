// Plugin manifests: one YAML file per plugin in the manifests directory, naming
// the library, the version range it must have, whether it is enabled, what it
// requires, what it may touch (routes, event topics, services) and its
// configuration. Operator reference: docs/manifests.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernel/plugins/metadata.hpp"
#include "kernel/plugins/semver.hpp"

namespace plexus::plugins {

// Where in a manifest something is: 1-based line and column, 0 when unknown.
struct SourcePosition {
  int line = 0;
  int column = 0;
};

// What is wrong with a manifest. what() is "file:line:col: key: message" (parts
// without a value are left out), except for validate_config, whose errors read
// "hello: config /greeting: expected string, got number (file:9:13)".
class ManifestError : public std::runtime_error {
 public:
  ManifestError(std::filesystem::path file, SourcePosition position, std::string key, std::string message);
  // A preformatted what(); `details` are the individual problems (config validation).
  ManifestError(const std::string& what, std::filesystem::path file, SourcePosition position, std::string key,
                std::string message, std::vector<std::string> details);

  const std::filesystem::path& file() const { return file_; }
  int line() const { return position_.line; }
  int column() const { return position_.column; }
  const std::string& key() const { return key_; }  // "permissions.routes", "config/greeting", "" if none
  const std::string& message() const { return message_; }  // without file, position and key
  const std::vector<std::string>& details() const { return details_; }

 private:
  std::filesystem::path file_;
  SourcePosition position_;
  std::string key_;
  std::string message_;
  std::vector<std::string> details_;
};

struct Manifest {
  std::filesystem::path file;     // the manifest itself
  std::string name;               // [a-z][a-z0-9-]{0,62}
  std::filesystem::path library;  // library_dir / library, or the absolute path written
  std::string version_range;      // "" = any version; checked by check_version_range
  bool enabled = true;
  // The manifest's `requires:` (a C++20 keyword, hence the name): plugin names to
  // start first, in manifest order, no duplicates.
  std::vector<std::string> requirements;
  // Route prefixes the plugin may register routes under: `permissions.routes`, one
  // prefix or a list; {"/api/v1/<name>"} by default; no trailing slashes, none under
  // another; empty when the manifest says `routes: []`.
  std::vector<std::string> route_prefixes;
  std::string route_prefix;                          // the first of route_prefixes, "" when there are none
  std::vector<std::string> event_patterns;           // default {"<name>.>"}
  std::vector<std::string> service_patterns;         // default {"<name>.>"}
  std::vector<std::string> job_patterns;             // job kinds; default {"<name>.>"}
  nlohmann::json config = nlohmann::json::object();  // never null: absent config is {}

  // Where things were written, so later errors name the line: top-level keys by
  // name ("name", "library", "version", "requires", "permissions.routes", ...),
  // list items as "requires[0]", config values as "config" + JSON pointer
  // ("config" is the config root, "config/greeting" one value).
  std::map<std::string, SourcePosition> positions;
};

// Largest manifest file accepted.
inline constexpr std::uintmax_t max_manifest_size = std::uintmax_t{1024} * 1024;

// Parses and checks one manifest. Relative `library` values resolve against
// `library_dir` (normally build/lib/plexus). Throws ManifestError.
Manifest parse_manifest(const std::filesystem::path& file, const std::filesystem::path& library_dir);

struct ManifestScan {
  std::vector<Manifest> manifests;  // sorted by file name
  // (file, message) for every file that could not be used; the message is the
  // full ManifestError::what(). A bad file never stops the others.
  std::vector<std::pair<std::filesystem::path, std::string>> errors;
};

// Parses every *.yaml / *.yml directly inside `dir` (not subdirectories, not
// hidden files), in file name order. When two manifests name the same plugin the
// first file wins and the second is reported as an error naming the first.
// An unreadable `dir` is reported as an error for `dir` itself.
ManifestScan scan_manifests(const std::filesystem::path& dir, const std::filesystem::path& library_dir);

struct StartPlan {
  std::vector<std::string> order;  // enabled plugins, each after everything it requires
  // (plugin, reason) for every enabled plugin that cannot start; one plugin may
  // have several reasons.
  std::vector<std::pair<std::string, std::string>> excluded;
};

// The start order of the enabled manifests: requirements first, alphabetical among
// plugins that do not depend on one another. Excluded, with a reason:
//  - a plugin whose requirement is missing or disabled:
//      "hello requires 'x', which is not enabled"
//  - every plugin in a dependency cycle: "a is in a dependency cycle: a -> b -> a"
//  - a plugin requiring an excluded one: "c requires 'a', which cannot start"
//  - a second manifest with an already seen name (scan_manifests prevents this).
// Stop in the reverse order.
StartPlan plan_start(const std::vector<Manifest>& manifests);

// plan_start, with the reasons appended to `errors` (each starts with the plugin name).
std::vector<std::string> start_order(const std::vector<Manifest>& manifests,
                                     std::vector<std::string>& errors);

// Validates `manifest.config` against `schema` (the config_schema of the plugin's
// metadata). Null or absent config validates as {}; a null or {} schema accepts
// anything. Throws ManifestError listing every failing JSON pointer:
// "hello: config /greeting: expected string, got number (manifests/hello.yaml:9:13)".
// An invalid schema is reported as a ManifestError too.
void validate_config(const Manifest& manifest, const nlohmann::json& schema);

// What the host checks once it has the plugin's metadata (before dlopen): the
// library's plugin name equals the manifest's, its version lies in the manifest's
// range, and the config validates against its schema. Throws ManifestError.
void check_compatible(const Manifest& manifest, const PluginMetadata& metadata);

// Topic and service-name patterns: dot-separated segments of [a-z0-9_-] (as the
// event bus), where "*" matches exactly one segment and ">" (last segment only) one
// or more. "hello.>" does not match "hello".
bool valid_topic_pattern(std::string_view pattern);
// True when the concrete `topic` matches `pattern`.
bool topic_matches(std::string_view topic, std::string_view pattern);
// True when everything `topic_or_pattern` can match is covered by one of `patterns`:
// a plugin may publish topic T (or register service T) when T matches one of its
// patterns, and subscribe to pattern P only when P is covered by one of them.
// Invalid topics or patterns are never allowed.
bool topic_allowed(std::string_view topic_or_pattern, const std::vector<std::string>& patterns);

// True when `route` ("/api/v1/hello/{id}") lies under `prefix` ("/api/v1/hello")
// at a segment boundary ("/api/v1/helloworld" does not).
bool route_allowed(std::string_view route, std::string_view prefix);
// True when `route` lies under one of `prefixes`.
bool route_allowed(std::string_view route, const std::vector<std::string>& prefixes);

}  // namespace plexus::plugins
