#include "plain_schema.hpp"

#include <algorithm>
#include <string_view>

namespace plexus::api_manager {
namespace {

using nlohmann::json;

// Keywords valijson reads as annotations only: they never change a verdict.
bool annotation(std::string_view key) {
  return key == "description" || key == "title" || key == "examples" || key == "default";
}

}  // namespace

std::optional<unsigned> PlainSchema::types_of(const json& property) {
  if (!property.is_object()) return std::nullopt;  // true/false schemas: valijson decides
  unsigned types = kAny;
  for (const auto& [key, value] : property.items()) {
    if (annotation(key)) continue;
    if (key != "type") return std::nullopt;
    const auto names = value.is_array() ? value : json::array({value});
    if (names.empty()) return std::nullopt;
    types = 0;
    for (const auto& name : names) {
      if (!name.is_string()) return std::nullopt;
      const auto& text = name.get_ref<const std::string&>();
      if (text == "string") {
        types |= kString;
      } else if (text == "integer") {
        types |= kInteger;
      } else if (text == "number") {
        types |= kNumber;
      } else if (text == "boolean") {
        types |= kBoolean;
      } else if (text == "null") {
        types |= kNull;
      } else {
        return std::nullopt;  // arrays and objects have keywords of their own
      }
    }
  }
  return types;
}

std::optional<PlainSchema> PlainSchema::of(const json& schema) {
  if (!schema.is_object()) return std::nullopt;
  PlainSchema plain;
  for (const auto& [key, value] : schema.items()) {
    if (annotation(key)) continue;
    if (key == "type") {
      if (value != "object") return std::nullopt;
    } else if (key == "properties") {
      if (!value.is_object()) return std::nullopt;
      for (const auto& [name, property] : value.items()) {
        const auto types = types_of(property);
        if (!types) return std::nullopt;
        plain.properties_.push_back({name, *types});
      }
    } else if (key == "required") {
      if (!value.is_array()) return std::nullopt;
      for (const auto& name : value) {
        if (!name.is_string()) return std::nullopt;
        plain.required_.push_back(name.get<std::string>());
      }
    } else if (key == "additionalProperties") {
      if (!value.is_boolean()) return std::nullopt;
      plain.closed_ = !value.get<bool>();
    } else {
      return std::nullopt;
    }
  }
  return plain;
}

bool PlainSchema::accepts(const json& value) const {
  if (!value.is_object()) return false;
  for (const auto& name : required_) {
    if (!value.contains(name)) return false;
  }
  for (const auto& [name, item] : value.items()) {
    const auto property = std::find_if(properties_.begin(), properties_.end(),
                                       [&name](const Property& p) { return p.name == name; });
    if (property == properties_.end()) {
      if (closed_) return false;
      continue;
    }
    const unsigned type = item.is_string()           ? kString
                          : item.is_number_integer() ? kInteger | kNumber
                          : item.is_number()         ? kNumber
                          : item.is_boolean()        ? kBoolean
                          : item.is_null()           ? kNull
                                                     : 0u;
    if ((type & property->types) == 0 && property->types != kAny) return false;
  }
  return true;
}

}  // namespace plexus::api_manager
