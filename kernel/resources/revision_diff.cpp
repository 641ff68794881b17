#include "kernel/resources/revision_diff.hpp"

#include "kernel/json/json_patch.hpp"
#include "kernel/json/readable_diff.hpp"

namespace plexus::resources {

ContentDiff diff_content(const nlohmann::json& from, const nlohmann::json& to) {
  auto patch = jsonpatch::diff(from, to);
  auto readable = jsonpatch::readable_diff(from, patch);
  return {std::move(patch), std::move(readable)};
}

}  // namespace plexus::resources
