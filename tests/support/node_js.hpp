// The npm cross-checks (jose, croner): node and tests/js/node_modules, which
// tools/test installs (npm ci). A missing one fails the test, never skips it.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace plexus::test {

// tests/js in the source tree.
std::filesystem::path js_dir();
// The node binary; FAILs the test when node or the npm package `package` is missing.
std::string node_binary(std::string_view package);

}  // namespace plexus::test
