// Computing the RFC 6902 patch between two revisions. Not nlohmann::json::diff (3.11.2):
// it skips values its operator== calls equal, so 18446744073709551615 -> -1 (or
// 9007199254740993 -> 9007199254740992.0) yields an empty patch; and it pairs array
// elements by position, so one insertion at the front of a list reads as a replace of
// every element plus an add, which is no use in a diff people read.
#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "kernel/json/json_equal.hpp"
#include "kernel/json/json_patch.hpp"

namespace plexus::jsonpatch {

namespace {

using json = nlohmann::json;
using Pointer = json::json_pointer;

// Past this many cells of the alignment table (about 16 MB) the differing middle of two
// arrays is paired by position instead: still a correct patch, only a longer one.
constexpr std::size_t kMaxAlignmentCells = std::size_t{1} << 22;

void diff_values(const json& from, const json& to, const Pointer& path, json& ops);

void emit(json& ops, const char* op, const Pointer& path) {
  ops.push_back({{"op", op}, {"path", path.to_string()}});
}

void emit(json& ops, const char* op, const Pointer& path, const json& value) {
  ops.push_back({{"op", op}, {"path", path.to_string()}, {"value", value}});
}

void diff_objects(const json& from, const json& to, const Pointer& path, json& ops) {
  for (auto it = from.begin(); it != from.end(); ++it) {
    const auto target = to.find(it.key());
    if (target == to.end()) {
      emit(ops, "remove", path / it.key());
    } else {
      diff_values(*it, *target, path / it.key(), ops);
    }
  }
  for (auto it = to.begin(); it != to.end(); ++it) {
    if (!from.contains(it.key())) emit(ops, "add", path / it.key(), *it);
  }
}

// Pairs (i, j) with from[i] identical to to[j], increasing in both, as many as possible
// (a longest common subsequence) within from[begin, from_end) and to[begin, to_end).
std::vector<std::pair<std::size_t, std::size_t>> common_elements(const json& from, const json& to,
                                                                 std::size_t begin, std::size_t from_end,
                                                                 std::size_t to_end) {
  const std::size_t n = from_end - begin;
  const std::size_t m = to_end - begin;
  if (n == 0 || m == 0 || m + 1 > kMaxAlignmentCells / (n + 1)) return {};

  // Hashes of the serialised elements screen out most pairs before a full comparison.
  const auto fingerprints = [](const json& array, std::size_t first, std::size_t count) {
    std::vector<std::size_t> result;
    result.reserve(count);
    for (std::size_t k = 0; k < count; ++k) {
      result.push_back(
          std::hash<std::string>{}(array[first + k].dump(-1, ' ', false, json::error_handler_t::replace)));
    }
    return result;
  };
  const auto from_prints = fingerprints(from, begin, n);
  const auto to_prints = fingerprints(to, begin, m);
  const auto same = [&](std::size_t i, std::size_t j) {
    return from_prints[i] == to_prints[j] && identical_json(from[begin + i], to[begin + j]);
  };

  // length[i][j]: the longest common subsequence of from[i, n) and to[j, m).
  std::vector<std::uint32_t> length((n + 1) * (m + 1), 0);
  const auto at = [&](std::size_t i, std::size_t j) -> std::uint32_t& { return length[i * (m + 1) + j]; };
  for (std::size_t i = n; i-- > 0;) {
    for (std::size_t j = m; j-- > 0;) {
      at(i, j) = same(i, j) ? at(i + 1, j + 1) + 1 : std::max(at(i + 1, j), at(i, j + 1));
    }
  }
  std::vector<std::pair<std::size_t, std::size_t>> pairs;
  for (std::size_t i = 0, j = 0; i < n && j < m;) {
    if (same(i, j)) {
      pairs.emplace_back(begin + i++, begin + j++);
    } else if (at(i + 1, j) >= at(i, j + 1)) {
      ++i;
    } else {
      ++j;
    }
  }
  return pairs;
}

void diff_arrays(const json& from, const json& to, const Pointer& path, json& ops) {
  const std::size_t n = from.size();
  const std::size_t m = to.size();
  std::size_t prefix = 0;
  while (prefix < n && prefix < m && identical_json(from[prefix], to[prefix])) ++prefix;
  std::size_t suffix = 0;
  while (suffix < n - prefix && suffix < m - prefix &&
         identical_json(from[n - 1 - suffix], to[m - 1 - suffix])) {
    ++suffix;
  }
  auto anchors = common_elements(from, to, prefix, n - suffix, m - suffix);
  anchors.emplace_back(n - suffix, m - suffix);  // the common suffix closes the last gap

  // Between anchors lies a gap: from[i, i_end) becomes to[j, j_end). Operations run left
  // to right, so when a gap is reached the array already reads to[0, j) then from[i, n):
  // the gap starts at index j.
  std::size_t i = prefix;
  std::size_t j = prefix;
  for (const auto& [i_end, j_end] : anchors) {
    const std::size_t paired = std::min(i_end - i, j_end - j);
    for (std::size_t k = 0; k < paired; ++k) diff_values(from[i + k], to[j + k], path / (j + k), ops);
    for (std::size_t k = paired; k < i_end - i; ++k) emit(ops, "remove", path / (j + paired));
    for (std::size_t k = paired; k < j_end - j; ++k) emit(ops, "add", path / (j + k), to[j + k]);
    i = i_end + 1;
    j = j_end + 1;
  }
}

void diff_values(const json& from, const json& to, const Pointer& path, json& ops) {
  if (from.is_object() && to.is_object()) {
    diff_objects(from, to, path, ops);
  } else if (from.is_array() && to.is_array()) {
    diff_arrays(from, to, path, ops);
  } else if (!identical_json(from, to)) {
    emit(ops, "replace", path, to);
  }
}

}  // namespace

json diff(const json& from, const json& to) {
  json ops = json::array();
  diff_values(from, to, Pointer(), ops);
  return ops;
}

}  // namespace plexus::jsonpatch
