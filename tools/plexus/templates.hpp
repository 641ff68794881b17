// The plugin template `plexus new-plugin` writes: the SDK example (sdk/examples/hello
// and manifests/examples/hello.yaml), embedded at build time.
#pragma once

#include <span>
#include <string_view>

namespace plexus::cli {

struct TemplateFile {
  std::string_view path;  // relative to the new plugin's directory, before renaming
  std::string_view text;
};

std::span<const TemplateFile> templates();

}  // namespace plexus::cli
