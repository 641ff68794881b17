#include "workflow_condition.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string_view>

#include "pointer_token.hpp"

namespace plexus::api_manager {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

constexpr std::array<std::string_view, 4> kUnary = {"empty", "not_empty", "exists", "not_exists"};
constexpr std::array<std::string_view, 9> kBinary = {"eq", "ne", "gt", "ge", "lt", "le", "in", "not_in", "contains"};
constexpr int kMaxConditionDepth = 16;

bool one_of(std::string_view op, const auto& list) { return std::find(list.begin(), list.end(), op) != list.end(); }

bool is_empty(const ordered_json& value) {
  // json::empty() is false for a string, so text is asked for its own length.
  if (value.is_string()) return value.get_ref<const std::string&>().empty();
  return value.is_null() || ((value.is_array() || value.is_object()) && value.empty());
}

// `needle` in `haystack`: an element of an array, a key of an object, or a part of a string.
bool holds(const ordered_json& haystack, const ordered_json& needle) {
  if (haystack.is_array()) return std::find(haystack.begin(), haystack.end(), needle) != haystack.end();
  if (haystack.is_object()) return needle.is_string() && haystack.contains(needle.get<std::string>());
  if (haystack.is_string() && needle.is_string()) {
    return haystack.get_ref<const std::string&>().find(needle.get_ref<const std::string&>()) != std::string::npos;
  }
  return false;
}

bool comparable(const ordered_json& a, const ordered_json& b) {
  return (a.is_number() && b.is_number()) || (a.is_string() && b.is_string());
}

void check(const json& condition, const std::string& pointer, json& problems,
           const std::function<void(const Reference&, const std::string&)>& on_reference, int depth) {
  auto problem = [&](const std::string& at, const std::string& message) {
    problems.push_back({{"pointer", at}, {"message", message}});
  };
  if (condition.is_boolean()) return;
  if (!condition.is_object()) {
    problem(pointer,
            "must be a condition: {\"left\", \"op\", \"right\"}, {\"all\": [...]}, {\"any\": [...]}, "
            "{\"not\": ...}, true or false");
    return;
  }
  if (depth > kMaxConditionDepth) {
    problem(pointer, "conditions are nested more than " + std::to_string(kMaxConditionDepth) + " deep");
    return;
  }
  for (const char* combinator : {"all", "any"}) {
    if (!condition.contains(combinator)) continue;
    if (condition.size() != 1) problem(pointer, std::string("\"") + combinator + "\" stands alone in its object");
    const auto& list = condition[combinator];
    if (!list.is_array() || list.empty()) {
      problem(pointer + "/" + combinator, "must be a non-empty array of conditions");
      return;
    }
    for (std::size_t i = 0; i < list.size(); ++i) {
      check(list[i], pointer + "/" + combinator + "/" + std::to_string(i), problems, on_reference, depth + 1);
    }
    return;
  }
  if (condition.contains("not")) {
    if (condition.size() != 1) problem(pointer, "\"not\" stands alone in its object");
    check(condition["not"], pointer + "/not", problems, on_reference, depth + 1);
    return;
  }
  for (const auto& [key, value] : condition.items()) {
    if (key != "left" && key != "op" && key != "right") {
      problem(pointer + "/" + pointer_token(key), "is not a field of a condition (left, op, right, all, any, not)");
    }
  }
  if (!condition.contains("op") || !condition["op"].is_string()) {
    problem(pointer + "/op",
            "is required: eq, ne, gt, ge, lt, le, in, not_in, contains, empty, not_empty, exists or not_exists");
    return;
  }
  const auto op = condition["op"].get<std::string>();
  const bool unary = one_of(op, kUnary);
  if (!unary && !one_of(op, kBinary)) {
    problem(pointer + "/op", "unknown op '" + op +
                                 "': eq, ne, gt, ge, lt, le, in, not_in, contains, empty, not_empty, exists, "
                                 "not_exists");
    return;
  }
  if (!condition.contains("left")) problem(pointer + "/left", "is required");
  if (unary && condition.contains("right")) problem(pointer + "/right", "'" + op + "' takes no right side");
  if (!unary && !condition.contains("right")) problem(pointer + "/right", "is required for '" + op + "'");
  for (const char* side : {"left", "right"}) {
    if (condition.contains(side)) check_template(condition[side], pointer + "/" + side, problems, on_reference);
  }
}

}  // namespace

void check_condition(const json& condition, const std::string& pointer, json& problems,
                     const std::function<void(const Reference&, const std::string&)>& on_reference) {
  check(condition, pointer, problems, on_reference, 0);
}

bool evaluate_condition(const json& condition, const Scope& scope) {
  if (condition.is_boolean()) return condition.get<bool>();
  if (!condition.is_object()) throw std::invalid_argument("not a condition");
  if (condition.contains("all")) {
    return std::all_of(condition["all"].begin(), condition["all"].end(),
                       [&](const json& c) { return evaluate_condition(c, scope); });
  }
  if (condition.contains("any")) {
    return std::any_of(condition["any"].begin(), condition["any"].end(),
                       [&](const json& c) { return evaluate_condition(c, scope); });
  }
  if (condition.contains("not")) return !evaluate_condition(condition["not"], scope);
  const auto op = condition.at("op").get<std::string>();
  const auto left = resolve_template(condition.value("left", json()), scope);
  if (op == "empty") return is_empty(left);
  if (op == "not_empty") return !is_empty(left);
  if (op == "exists") return !left.is_null();
  if (op == "not_exists") return left.is_null();
  const auto right = resolve_template(condition.value("right", json()), scope);
  if (op == "eq") return left == right;
  if (op == "ne") return left != right;
  if (op == "in") return holds(right, left);
  if (op == "not_in") return !holds(right, left);
  if (op == "contains") return holds(left, right);
  if (!comparable(left, right)) return false;
  if (op == "gt") return right < left;
  if (op == "ge") return !(left < right);
  if (op == "lt") return left < right;
  if (op == "le") return !(right < left);
  throw std::invalid_argument("unknown op '" + op + "'");
}

}  // namespace plexus::api_manager
