#include "tests/support/node_js.hpp"

#include <catch2/catch.hpp>

#include "tests/support/test_support.hpp"

namespace plexus::test {

std::filesystem::path js_dir() { return source_dir() / "tests" / "js"; }

std::string node_binary(std::string_view package) {
  const auto which = run_command({"which", "node"});
  std::string path = which.out.substr(0, which.out.find('\n'));
  if (which.exit_code != 0 || path.empty())
    FAIL("node is not installed: tools/deps installs it (Debian package nodejs)");
  if (!std::filesystem::exists(js_dir() / "node_modules" / std::string(package) / "package.json")) {
    FAIL("tests/js/node_modules is missing " << package
                                             << ": run 'npm ci --prefix tests/js' (tools/test does)");
  }
  return path;
}

}  // namespace plexus::test
