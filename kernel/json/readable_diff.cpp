#include "kernel/json/readable_diff.hpp"

#include <optional>
#include <utility>

#include "kernel/json/json_patch.hpp"

namespace plexus::jsonpatch {

namespace {

using json = nlohmann::json;
using Pointer = json::json_pointer;

// Reads for describing an operation before it runs. They never throw: an operation that
// cannot apply is reported by apply_operation right after, with its proper message.
std::string string_member(const json& operation, const char* name) {
  if (!operation.is_object()) return "";
  const auto it = operation.find(name);
  return it != operation.end() && it->is_string() ? it->get<std::string>() : "";
}

std::optional<Pointer> pointer(const std::string& text) {
  try {
    return Pointer(text);
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

const json* lookup(const json& document, const std::optional<Pointer>& at) {
  try {
    return at && document.contains(*at) ? &document.at(*at) : nullptr;
  } catch (const json::exception&) {
    return nullptr;
  }
}

json value_or_null(const json* value) { return value ? *value : json(); }

// The entry for `operation` as it will apply to `document`, or none for "test".
std::optional<json> describe(const json& document, const json& operation) {
  const std::string op = string_member(operation, "op");
  const std::string path = string_member(operation, "path");
  const auto at = pointer(path);
  const json value = operation.is_object() ? operation.value("value", json()) : json();
  if (op == "add") {
    if (!at || at->empty())
      return json{{"path", path}, {"change", "changed"}, {"from", document}, {"to", value}};
    const json* parent = lookup(document, at->parent_pointer());
    if (parent && parent->is_object() && parent->contains(at->back())) {
      return json{{"path", path}, {"change", "changed"}, {"from", parent->at(at->back())}, {"to", value}};
    }
    const std::string shown = parent && parent->is_array() && at->back() == "-"
                                  ? (at->parent_pointer() / parent->size()).to_string()
                                  : path;
    return json{{"path", shown}, {"change", "added"}, {"value", value}};
  }
  if (op == "remove")
    return json{{"path", path}, {"change", "removed"}, {"value", value_or_null(lookup(document, at))}};
  if (op == "replace") {
    return json{
        {"path", path}, {"change", "changed"}, {"from", value_or_null(lookup(document, at))}, {"to", value}};
  }
  if (op == "move" || op == "copy") {
    const std::string from = string_member(operation, "from");
    return json{{"path", path},
                {"change", op == "move" ? "moved" : "copied"},
                {"from_path", from},
                {"value", value_or_null(lookup(document, pointer(from)))}};
  }
  return std::nullopt;  // "test", or an operation apply_operation is about to refuse
}

std::string shown_path(const std::string& path) {
  if (path.empty()) return "(root)";
  for (const char c : path) {
    // A control character (a newline in a key) would break the one-line-per-change form.
    if (static_cast<unsigned char>(c) < 0x20)
      return json(path).dump(-1, ' ', false, json::error_handler_t::replace);
  }
  return path;
}

std::string shown_value(const json& value, std::size_t max_length) {
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() <= max_length) return text;
  std::size_t cut = max_length;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
    --cut;  // not inside a UTF-8 character
  return text.substr(0, cut) + "...";
}

}  // namespace

json readable_diff(const json& from, const json& patch) {
  if (!patch.is_array()) apply_patch(from, patch);  // not a patch: throws the usual JsonPatchError
  json document = from;
  json changes = json::array();
  for (std::size_t i = 0; i < patch.size(); ++i) {
    auto change = describe(document, patch[i]);
    apply_operation(document, patch[i], i);
    if (change) changes.push_back(std::move(*change));
  }
  return changes;
}

std::string readable_diff_text(const json& changes, std::size_t max_value_length) {
  std::string text;
  for (const json& entry : changes) {
    const std::string change = entry.value("change", "");
    const std::string path = shown_path(entry.value("path", ""));
    if (change == "changed") {
      text += "~ " + path + ": " + shown_value(entry.value("from", json()), max_value_length) + " -> " +
              shown_value(entry.value("to", json()), max_value_length);
    } else if (change == "added") {
      text += "+ " + path + ": " + shown_value(entry.value("value", json()), max_value_length);
    } else if (change == "removed") {
      text += "- " + path + ": " + shown_value(entry.value("value", json()), max_value_length);
    } else if (change == "moved") {
      text += "> " + path + ": moved from " + shown_path(entry.value("from_path", ""));
    } else if (change == "copied") {
      text += "+ " + path + ": copied from " + shown_path(entry.value("from_path", ""));
    } else {
      continue;
    }
    text += '\n';
  }
  return text;
}

}  // namespace plexus::jsonpatch
