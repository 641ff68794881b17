// A small JSONPath subset for test assertions (issue 7 item 5): $, .name, ['name'] or
// ["name"], [n], [*] and .*. Anything else (.., filters, slices, negative indexes,
// functions) is refused on parse, naming the character where it starts, so a suite
// never silently asserts on the wrong value. No package in Debian 12 offers JSONPath.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace plexus::api_manager {

class JsonPath {
 public:
  // Throws std::invalid_argument: "at character 7: filters ([?...]) are not supported; ..."
  static JsonPath parse(std::string_view text);

  // The values the path selects in `document`, in document order; empty when nothing
  // matches (a missing name, an index past the end, a step into a scalar).
  std::vector<const nlohmann::json*> select(const nlohmann::json& document) const;
  const std::string& text() const { return text_; }

 private:
  struct Step {
    enum class Kind { name, index, wildcard } kind = Kind::name;
    std::string name;
    std::size_t index = 0;
  };
  std::string text_;
  std::vector<Step> steps_;
};

}  // namespace plexus::api_manager
