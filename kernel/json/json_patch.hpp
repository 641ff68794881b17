// RFC 6902 JSON Patch for resource revisions: apply a patch all or nothing, and
// compute the patch between two revisions. Pointers follow RFC 6901.
#pragma once

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace plexus::jsonpatch {

// A malformed patch, or an operation that cannot be applied (a failed "test" included).
// what() reads e.g. `operation 2 (remove "/tags/7"): index 7 is out of range ...`.
class JsonPatchError : public std::runtime_error {
 public:
  JsonPatchError(std::optional<std::size_t> index, std::string operation, std::string reason);
  // The failing operation's position in the patch; none when the patch is not an array.
  std::optional<std::size_t> index() const { return index_; }
  // The op and path as far as they could be read (`remove "/tags/7"`), else "".
  const std::string& operation() const { return operation_; }
  // Why it failed, without the position and operation.
  const std::string& reason() const { return reason_; }

 private:
  std::optional<std::size_t> index_;
  std::string operation_;
  std::string reason_;
};

// `document` with `patch` applied in order. Throws JsonPatchError on the first operation
// that is malformed or fails; nothing partially applied ever escapes.
nlohmann::json apply_patch(const nlohmann::json& document, const nlohmann::json& patch);

// Applies one operation, the index-th of its patch (for the error), to `document` in place.
// Either it succeeds or it throws JsonPatchError leaving `document` unchanged.
void apply_operation(nlohmann::json& document, const nlohmann::json& operation, std::size_t index);

// A patch of "add", "remove" and "replace" operations turning `from` into `to`, so that
// apply_patch(from, diff(from, to)) is `to` exactly (1 and 1.0 differ). Array elements are
// aligned by their longest common subsequence: an insertion is one "add".
nlohmann::json diff(const nlohmann::json& from, const nlohmann::json& to);

}  // namespace plexus::jsonpatch
