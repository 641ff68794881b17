// Runtime paths of APIs: "ops/servers/{id}" below /runtime/. Segments are literals of
// A-Z a-z 0-9 . _ ~ - or a whole-segment parameter "{name}" (name: [A-Za-z_][A-Za-z0-9_]*).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace plexus::api_manager {

struct PathSegment {
  std::string text;  // the literal, or the parameter's name
  bool parameter = false;
};

struct PathTemplate {
  std::vector<PathSegment> segments;
  std::vector<std::string> parameters() const;
};

// Reads a template; a leading "/" is ignored. On a malformed one, returns nullopt and
// says why in `problem`.
std::optional<PathTemplate> parse_path_template(std::string_view path, std::string* problem = nullptr);

// The path parameters when `path` ("ops/servers/42", no leading "/") matches, else nullopt.
std::optional<std::map<std::string, std::string>> match_path(const PathTemplate& tmpl, std::string_view path);

// Ordering of templates that match the same path: the one with a literal where the other
// has a parameter, at the first segment where they differ, is more specific.
bool more_specific(const PathTemplate& a, const PathTemplate& b);

}  // namespace plexus::api_manager
