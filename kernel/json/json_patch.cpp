// Applying RFC 6902 patches. Not nlohmann::json::patch, which deviates from the RFC
// (3.11.2): "add" below a null turns the null into an object, "add" and "remove" below
// a string, number or boolean silently do nothing (the JSON_ASSERT that should catch it
// is compiled out in Release), "test" compares with operator== (so 18446744073709551615
// passes a test for -1), a move into its own child fails as "key not found", and no
// error says which operation failed. nlohmann::json_pointer still parses and unescapes
// the pointers (RFC 6901).
#include "kernel/json/json_patch.hpp"

#include <algorithm>
#include <charconv>
#include <utility>
#include <vector>

#include "kernel/json/json_equal.hpp"

namespace plexus::jsonpatch {

namespace {

using json = nlohmann::json;
using Tokens = std::vector<std::string>;

// Values quoted into messages are cut short: a failed test on a large subtree must
// not produce a megabyte of error text.
constexpr std::size_t kMaxQuotedValue = 120;

std::string dump(const json& value) {
  // replace: invalid UTF-8 inside a string must not turn into a second exception here.
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string quoted(const std::string& text) { return dump(json(text)); }

std::string shortened(const json& value) {
  std::string text = dump(value);
  if (text.size() <= kMaxQuotedValue) return text;
  std::size_t cut = kMaxQuotedValue;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // UTF-8 boundary
  return text.substr(0, cut) + "...";
}

// nlohmann's message without its "[json.exception.parse_error.108] parse error: " preamble.
std::string library_reason(const json::exception& e) {
  std::string text = e.what();
  if (const auto bracket = text.find("] "); bracket != std::string::npos) text.erase(0, bracket + 2);
  if (text.rfind("parse error", 0) == 0) {
    if (const auto colon = text.find(": "); colon != std::string::npos) text.erase(0, colon + 2);
  }
  return text;
}

// The operation being applied, so every failure names it.
struct Operation {
  std::size_t index = 0;
  std::string summary;  // `op "path"` as far as known

  [[noreturn]] void fail(std::string reason) const {
    throw JsonPatchError(index, summary, std::move(reason));
  }
};

// tokens[0, count) as a pointer for messages; the root reads "the document".
std::string where(const Tokens& tokens, std::size_t count) {
  if (count == 0) return "the document";
  json::json_pointer pointer;
  for (std::size_t i = 0; i < count; ++i) pointer /= tokens[i];
  return quoted(pointer.to_string());
}

std::string where(const Tokens& tokens) { return where(tokens, tokens.size()); }

const json& member(const Operation& o, const json& operation, const char* name) {
  const auto it = operation.find(name);
  if (it == operation.end()) o.fail(std::string("missing member \"") + name + "\"");
  return *it;
}

const std::string& string_member(const Operation& o, const json& operation, const char* name) {
  const json& value = member(o, operation, name);
  if (!value.is_string())
    o.fail(std::string("member \"") + name + "\" must be a string, not " + value.type_name());
  return value.get_ref<const std::string&>();
}

Tokens parse_pointer(const Operation& o, const char* name, const std::string& text) {
  json::json_pointer pointer;
  try {
    pointer = json::json_pointer(text);
  } catch (const json::exception& e) {
    o.fail(std::string("member \"") + name + "\" is not a JSON Pointer: " + library_reason(e));
  }
  Tokens tokens;
  for (; !pointer.empty(); pointer.pop_back()) tokens.push_back(pointer.back());
  std::reverse(tokens.begin(), tokens.end());
  return tokens;
}

// RFC 6901 array-index: "0", or digits not starting with "0". No sign, no "-".
std::optional<std::size_t> array_index(const std::string& token) {
  if (token.empty() || (token.size() > 1 && token[0] == '0')) return std::nullopt;
  std::size_t value = 0;
  const auto [end, error] = std::from_chars(token.data(), token.data() + token.size(), value);
  if (error != std::errc() || end != token.data() + token.size()) return std::nullopt;
  return value;
}

// The index tokens[at] names in `array` (found at tokens[0, at)): of an element, or
// when `inserting` of a position, which may also be just past the last element.
std::size_t index_in(const Operation& o, const json& array, const Tokens& tokens, std::size_t at,
                     bool inserting) {
  const std::string& token = tokens[at];
  if (token == "-") {
    o.fail(R"("-" names the position after the last element of the array at )" + where(tokens, at) +
           R"(, where no element exists (only "add" may use it, as the last token of "path"))");
  }
  const auto index = array_index(token);
  if (!index) {
    o.fail(quoted(token) + " is not an array index (digits without a leading zero) for the array at " +
           where(tokens, at));
  }
  if (inserting ? *index > array.size() : *index >= array.size()) {
    o.fail("index " + token + " is out of range for the array at " + where(tokens, at) + ", which has " +
           std::to_string(array.size()) + " elements");
  }
  return *index;
}

// The value at tokens[0, count), or a failure saying where the location stops existing.
json& resolve(const Operation& o, json& document, const Tokens& tokens, std::size_t count) {
  json* current = &document;
  for (std::size_t i = 0; i < count; ++i) {
    if (current->is_object()) {
      const auto it = current->find(tokens[i]);
      if (it == current->end()) {
        o.fail(where(tokens, count) + " does not exist: " + where(tokens, i) + " has no member " +
               quoted(tokens[i]));
      }
      current = &*it;
    } else if (current->is_array()) {
      current = &(*current)[index_in(o, *current, tokens, i, false)];
    } else {
      o.fail(where(tokens, count) + " does not exist: " + where(tokens, i) + " is a " + current->type_name() +
             ", not an object or array");
    }
  }
  return *current;
}

// RFC 6902 4.1. `value` is moved from only on success.
void add(const Operation& o, json& document, const Tokens& path, json&& value) {
  if (path.empty()) {
    document = std::move(value);
    return;
  }
  json& parent = resolve(o, document, path, path.size() - 1);
  if (parent.is_object()) {
    parent[path.back()] = std::move(value);
  } else if (parent.is_array()) {
    const std::size_t index =
        path.back() == "-" ? parent.size() : index_in(o, parent, path, path.size() - 1, true);
    parent.insert(parent.begin() + static_cast<std::ptrdiff_t>(index), std::move(value));
  } else {
    o.fail("cannot add to " + where(path, path.size() - 1) + ": it is a " + parent.type_name() +
           ", not an object or array");
  }
}

// RFC 6902 4.2; returns the removed value.
json remove(const Operation& o, json& document, const Tokens& path) {
  if (path.empty()) o.fail("cannot remove the whole document");
  json& parent = resolve(o, document, path, path.size() - 1);
  if (parent.is_object()) {
    const auto it = parent.find(path.back());
    if (it == parent.end()) {
      o.fail(where(path) + " does not exist: " + where(path, path.size() - 1) + " has no member " +
             quoted(path.back()));
    }
    json removed = std::move(*it);
    parent.erase(it);
    return removed;
  }
  if (parent.is_array()) {
    const std::size_t index = index_in(o, parent, path, path.size() - 1, false);
    json removed = std::move(parent[index]);
    parent.erase(index);
    return removed;
  }
  o.fail(where(path) + " does not exist: " + where(path, path.size() - 1) + " is a " + parent.type_name() +
         ", not an object or array");
}

// RFC 6902 4.4: a remove then an add, undone if the add fails.
void move(const Operation& o, json& document, const Tokens& from, const Tokens& path) {
  if (from == path) {
    resolve(o, document, from, from.size());  // a no-op, but "from" must exist
    return;
  }
  if (from.size() < path.size() && std::equal(from.begin(), from.end(), path.begin())) {
    o.fail("cannot move " + where(from) + " into its own child " + where(path));
  }
  json value = remove(o, document, from);
  try {
    add(o, document, path, std::move(value));
  } catch (const JsonPatchError&) {
    add(o, document, from, std::move(value));  // put back where it was removed: cannot fail
    throw;
  }
}

}  // namespace

JsonPatchError::JsonPatchError(std::optional<std::size_t> index, std::string operation, std::string reason)
    : std::runtime_error((index ? "operation " + std::to_string(*index) : std::string("patch")) +
                         (operation.empty() ? "" : " (" + operation + ")") + ": " + reason),
      index_(index),
      operation_(std::move(operation)),
      reason_(std::move(reason)) {}

void apply_operation(json& document, const json& operation, std::size_t index) {
  Operation o{index, ""};
  if (!operation.is_object())
    o.fail(std::string("an operation must be an object, not ") + operation.type_name());
  const std::string& op = string_member(o, operation, "op");
  o.summary = op;
  if (op != "add" && op != "remove" && op != "replace" && op != "move" && op != "copy" && op != "test") {
    o.fail("unknown op " + quoted(op) + " (RFC 6902 has add, remove, replace, move, copy and test)");
  }
  const std::string& path_text = string_member(o, operation, "path");
  o.summary += " " + quoted(path_text);
  const Tokens path = parse_pointer(o, "path", path_text);

  if (op == "add") {
    add(o, document, path, json(member(o, operation, "value")));
  } else if (op == "remove") {
    remove(o, document, path);
  } else if (op == "replace") {
    const json& value = member(o, operation, "value");
    resolve(o, document, path, path.size()) = value;
  } else if (op == "test") {
    const json& expected = member(o, operation, "value");
    const json& actual = resolve(o, document, path, path.size());
    if (!equal_json(actual, expected)) {
      o.fail("test failed: " + where(path) + " is " + shortened(actual) + ", not " + shortened(expected));
    }
  } else {  // move, copy
    const std::string& from_text = string_member(o, operation, "from");
    o.summary = op + " " + quoted(from_text) + " to " + quoted(path_text);
    const Tokens from = parse_pointer(o, "from", from_text);
    if (op == "move") {
      move(o, document, from, path);
    } else {
      add(o, document, path, json(resolve(o, document, from, from.size())));
    }
  }
}

json apply_patch(const json& document, const json& patch) {
  if (!patch.is_array()) {
    throw JsonPatchError(
        std::nullopt, "",
        std::string("a JSON Patch must be an array of operations, not ") + patch.type_name());
  }
  json result = document;  // patched as a copy: a failure leaves `document` as it was
  for (std::size_t i = 0; i < patch.size(); ++i) apply_operation(result, patch[i], i);
  return result;
}

}  // namespace plexus::jsonpatch
