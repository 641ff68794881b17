#include "path_template.hpp"

#include <algorithm>

namespace plexus::api_manager {
namespace {

bool literal_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '~' || c == '-';
}
bool name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool name_char(char c) { return name_start(c) || (c >= '0' && c <= '9'); }

std::vector<std::string_view> split(std::string_view path) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const auto slash = path.find('/', start);
    parts.push_back(
        path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return parts;
}

}  // namespace

std::vector<std::string> PathTemplate::parameters() const {
  std::vector<std::string> names;
  for (const auto& segment : segments) {
    if (segment.parameter) names.push_back(segment.text);
  }
  return names;
}

std::optional<PathTemplate> parse_path_template(std::string_view path, std::string* problem) {
  auto fail = [&](std::string why) -> std::optional<PathTemplate> {
    if (problem) *problem = std::move(why);
    return std::nullopt;
  };
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (path.empty()) return fail("is empty: name the path below /runtime/, such as \"ops/servers/{id}\"");
  if (path.size() > 512) return fail("is longer than 512 characters");
  PathTemplate out;
  for (const auto part : split(path)) {
    if (part.empty()) return fail("has an empty segment (\"//\" or a trailing \"/\")");
    if (part == "." || part == "..") return fail("has a '.' or '..' segment");
    if (part.front() == '{') {
      if (part.size() < 3 || part.back() != '}') {
        return fail("has a malformed parameter segment '" + std::string(part) + "': write {name}");
      }
      const auto name = part.substr(1, part.size() - 2);
      if (!name_start(name.front()) || !std::all_of(name.begin(), name.end(), name_char)) {
        return fail("has a parameter '{" + std::string(name) + "}' whose name is not [A-Za-z_][A-Za-z0-9_]*");
      }
      const auto names = out.parameters();
      if (std::find(names.begin(), names.end(), name) != names.end()) {
        return fail("names the parameter {" + std::string(name) + "} twice");
      }
      out.segments.push_back({std::string(name), true});
      continue;
    }
    if (!std::all_of(part.begin(), part.end(), literal_char)) {
      return fail("has a segment '" + std::string(part) +
                  "' with characters other than letters, digits and . _ ~ - (a parameter is a whole segment: "
                  "{name})");
    }
    out.segments.push_back({std::string(part), false});
  }
  if (out.segments.size() > 32) return fail("has more than 32 segments");
  return out;
}

std::optional<std::map<std::string, std::string>> match_path(const PathTemplate& tmpl,
                                                             std::string_view path) {
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  const auto parts = split(path);
  if (parts.size() != tmpl.segments.size()) return std::nullopt;
  std::map<std::string, std::string> params;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto& segment = tmpl.segments[i];
    if (segment.parameter) {
      if (parts[i].empty()) return std::nullopt;
      params[segment.text] = std::string(parts[i]);
    } else if (segment.text != parts[i]) {
      return std::nullopt;
    }
  }
  return params;
}

bool more_specific(const PathTemplate& a, const PathTemplate& b) {
  const auto n = std::min(a.segments.size(), b.segments.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (a.segments[i].parameter != b.segments[i].parameter) return !a.segments[i].parameter;
  }
  return false;
}

}  // namespace plexus::api_manager
