// Semantic versions (https://semver.org) and the version ranges manifests use to
// pin the plugin they load: ">=0.1.0 <1.0.0", "^1.2.0", "~1.2.0", "1.2.3", "*",
// alternatives joined by "||". See docs/manifests.md for the exact rules.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace plexus::plugins {

struct SemVer {
  std::uint64_t major = 0;
  std::uint64_t minor = 0;
  std::uint64_t patch = 0;
  std::vector<std::string> prerelease;  // "1.0.0-rc.1" -> {"rc", "1"}
  std::string build;                    // "1.0.0+abc" -> "abc"; ignored when comparing

  std::string str() const;
};

// Strict MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]; throws std::invalid_argument
// ("expected a version such as 1.2.3, got '1.2'").
SemVer parse_semver(std::string_view text);

// Semver precedence: <0, 0 or >0. Build metadata is ignored.
int compare(const SemVer& a, const SemVer& b);

// Throws std::invalid_argument naming the range and what is wrong with it.
// An empty (or all-blank) range and "*" accept every version.
void check_version_range(std::string_view range);

// True when `version` lies in `range`. Throws std::invalid_argument when either
// does not parse. As with npm, a pre-release (1.0.0-rc.1) only satisfies a range
// that names a pre-release of the same MAJOR.MINOR.PATCH.
bool version_satisfies(std::string_view version, std::string_view range);

}  // namespace plexus::plugins
