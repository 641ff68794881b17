#include "json_path.hpp"

#include <limits>
#include <stdexcept>

namespace plexus::api_manager {
namespace {

using nlohmann::json;

constexpr std::string_view kSupported = "supported: $, .name, ['name'], [n], [*] and .*";

[[noreturn]] void refuse(std::size_t at, const std::string& what) {
  throw std::invalid_argument("at character " + std::to_string(at + 1) + ": " + what + "; " +
                              std::string(kSupported));
}

bool name_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         u >= 0x80;  // UTF-8 names
}

}  // namespace

JsonPath JsonPath::parse(std::string_view text) {
  JsonPath path;
  path.text_ = std::string(text);
  if (text.empty() || text[0] != '$') refuse(0, "a path starts with $");
  std::size_t i = 1;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '.') {
      if (i + 1 < text.size() && text[i + 1] == '.') refuse(i, "recursive descent (..) is not supported");
      if (i + 1 < text.size() && text[i + 1] == '*') {
        path.steps_.push_back({Step::Kind::wildcard, {}, 0});
        i += 2;
        continue;
      }
      std::size_t end = i + 1;
      while (end < text.size() && name_char(text[end])) ++end;
      if (end == i + 1) {
        refuse(i, end < text.size() ? std::string("'") + text[end] + "' cannot start a name after '.'"
                                    : std::string("a name must follow '.'"));
      }
      if (end < text.size() && text[end] == '(') refuse(i + 1, "functions are not supported");
      path.steps_.push_back({Step::Kind::name, std::string(text.substr(i + 1, end - i - 1)), 0});
      i = end;
    } else if (c == '[') {
      if (i + 1 >= text.size()) refuse(i, "'[' is not closed");
      const char first = text[i + 1];
      if (first == '\'' || first == '"') {
        std::string name;
        std::size_t j = i + 2;
        for (; j < text.size() && text[j] != first; ++j) {
          if (text[j] == '\\') {
            if (j + 1 >= text.size()) break;
            ++j;
          }
          name += text[j];
        }
        if (j >= text.size()) refuse(i, "the quoted name is not closed");
        if (j + 1 >= text.size() || text[j + 1] != ']') {
          refuse(j + 1, "expected ']' after the quoted name (unions ['a','b'] are not supported)");
        }
        path.steps_.push_back({Step::Kind::name, std::move(name), 0});
        i = j + 2;
      } else if (first == '*') {
        if (i + 2 >= text.size() || text[i + 2] != ']') refuse(i + 2, "expected ']' after '[*'");
        path.steps_.push_back({Step::Kind::wildcard, {}, 0});
        i += 3;
      } else if (first >= '0' && first <= '9') {
        std::size_t j = i + 1;
        std::size_t index = 0;
        for (; j < text.size() && text[j] >= '0' && text[j] <= '9'; ++j) {
          const auto digit = static_cast<std::size_t>(text[j] - '0');
          if (index > (std::numeric_limits<std::size_t>::max() - digit) / 10)
            refuse(i + 1, "the index is too large");
          index = index * 10 + digit;
        }
        if (j < text.size() && text[j] == ':') refuse(j, "slices ([a:b]) are not supported");
        if (j < text.size() && text[j] == ',') refuse(j, "unions ([a,b]) are not supported");
        if (j >= text.size() || text[j] != ']') refuse(j, "expected ']' after the index");
        path.steps_.push_back({Step::Kind::index, {}, index});
        i = j + 1;
      } else if (first == '-') {
        refuse(i + 1, "negative indexes are not supported");
      } else if (first == '?') {
        refuse(i + 1, "filters ([?...]) are not supported");
      } else if (first == '(') {
        refuse(i + 1, "script expressions ([(...)]) are not supported");
      } else if (first == ':') {
        refuse(i + 1, "slices ([a:b]) are not supported");
      } else {
        refuse(i + 1, std::string("'") + first + "' cannot follow '['");
      }
    } else {
      refuse(i, std::string("'") + c + "' is not expected here: steps start with '.' or '['");
    }
  }
  return path;
}

std::vector<const json*> JsonPath::select(const json& document) const {
  std::vector<const json*> current{&document};
  for (const auto& step : steps_) {
    std::vector<const json*> next;
    for (const auto* node : current) {
      switch (step.kind) {
        case Step::Kind::name:
          if (node->is_object()) {
            if (const auto it = node->find(step.name); it != node->end()) next.push_back(&*it);
          }
          break;
        case Step::Kind::index:
          if (node->is_array() && step.index < node->size()) next.push_back(&(*node)[step.index]);
          break;
        case Step::Kind::wildcard:
          if (node->is_array() || node->is_object()) {
            for (const auto& child : *node) next.push_back(&child);
          }
          break;
      }
    }
    current = std::move(next);
  }
  return current;
}

}  // namespace plexus::api_manager
