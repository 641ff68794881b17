// Bootstrap bundles (resources.bootstrap, docs/resources.md): definitions that ship
// with an installation, imported on every start into tenant "default" without ever
// overwriting what an operator changed since.
#pragma once

#include <filesystem>
#include <vector>

#include "kernel/resources/resource_store.hpp"

namespace plexus::resources {

struct BootstrapResult {
  std::filesystem::path file;
  std::vector<ImportItem> items;  // outcome created, skipped (exists already) or unknown_kind
};

// Imports `path`, a bundle file or a directory of them (*.yaml, *.yml, *.json, in
// name order; .json files are JSON, others YAML), as the caller "system:bootstrap",
// one transaction per file. Only resources that do not exist, not even deleted, are
// created; resources of kinds nobody registered are logged and skipped. Logs one
// line per file with its counts. An empty path does nothing.
// Throws std::runtime_error naming the file when one cannot be read or is not a
// valid bundle.
std::vector<BootstrapResult> import_bootstrap_bundles(ResourceStore& store,
                                                      const std::filesystem::path& path);

}  // namespace plexus::resources
