#include "kernel/secrets/sealed_fields.hpp"

#include <algorithm>
#include <stdexcept>

namespace plexus::secrets {
namespace {

constexpr const char* kSealed = "$sealed";

bool is_sealed(const nlohmann::json& value) {
  return value.is_object() && value.size() == 1 && value.contains(kSealed) && value[kSealed].is_string();
}

std::string associated(std::string_view context, const nlohmann::json::json_pointer& at) {
  return std::string(context) + "#" + at.to_string();
}

// Calls `visit(value, pointer)` on every value of `document`, depth first.
template <class Visit>
void walk(nlohmann::json& value, const nlohmann::json::json_pointer& at, const Visit& visit) {
  if (visit(value, at)) return;  // handled: do not descend
  if (value.is_object()) {
    for (auto& [key, child] : value.items()) walk(child, at / key, visit);
  } else if (value.is_array()) {
    for (std::size_t i = 0; i < value.size(); ++i) walk(value[i], at / i, visit);
  }
}

}  // namespace

const nlohmann::json& placeholder() {
  static const nlohmann::json value = {{"$secret", "set"}};
  return value;
}

void seal_fields(nlohmann::json& document, const SecretBox& box, const std::vector<std::string>& names,
                 std::string_view context, const nlohmann::json& previous) {
  walk(document, nlohmann::json::json_pointer(), [&](nlohmann::json& value, const nlohmann::json::json_pointer& at) {
    if (at.empty() || std::find(names.begin(), names.end(), at.back()) == names.end()) return false;
    if (is_sealed(value) || value.is_null()) return true;
    if (value == placeholder()) {
      if (!previous.is_object() || !previous.contains(at) || !is_sealed(previous[at])) {
        throw std::invalid_argument(at.to_string() + ": no stored secret to keep; send the value itself");
      }
      value = previous[at];
      return true;
    }
    const std::string plain = value.is_string() ? value.get<std::string>() : value.dump();
    value = {{kSealed, box.seal(plain, associated(context, at))}};
    return true;
  });
}

void open_fields(nlohmann::json& document, const SecretBox& box, std::string_view context) {
  walk(document, nlohmann::json::json_pointer(), [&](nlohmann::json& value, const nlohmann::json::json_pointer& at) {
    if (!is_sealed(value)) return false;
    value = box.open(value[kSealed].get<std::string>(), associated(context, at));
    return true;
  });
}

void redact_fields(nlohmann::json& document) {
  walk(document, nlohmann::json::json_pointer(), [&](nlohmann::json& value, const nlohmann::json::json_pointer&) {
    if (!is_sealed(value)) return false;
    value = placeholder();
    return true;
  });
}

}  // namespace plexus::secrets
