#include "connectors/common/params.hpp"

#include <algorithm>

#include <plexus/plugin.hpp>

namespace plexus::connectors {
namespace {

std::string quoted_list(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "\"" : ", \"") + name + "\"";
  return out;
}

}  // namespace

Params::Params(std::string_view params_json) {
  if (params_json.empty()) {
    values_ = nlohmann::json::object();
    return;
  }
  values_ = nlohmann::json::parse(params_json, nullptr, /*allow_exceptions=*/false);
  if (!values_.is_object()) {
    throw sdk::Error(PLEXUS_ERR_INVALID, "the parameters must be a JSON object of {\"name\": value}");
  }
}

void Params::require_exactly(const std::vector<std::string>& names) const {
  std::vector<std::string> missing;
  for (const auto& name : names) {
    if (!values_.contains(name)) missing.push_back(name);
  }
  if (missing.size() == 1) {
    throw sdk::Error(PLEXUS_ERR_INVALID,
                     "missing parameter " + quoted_list(missing) + " for :" + missing.front());
  }
  if (!missing.empty()) throw sdk::Error(PLEXUS_ERR_INVALID, "missing parameters " + quoted_list(missing));
  std::vector<std::string> unknown;
  for (const auto& [name, value] : values_.items()) {
    if (std::find(names.begin(), names.end(), name) == names.end()) unknown.push_back(name);
  }
  if (unknown.size() == 1) {
    throw sdk::Error(PLEXUS_ERR_INVALID, "unknown parameter " + quoted_list(unknown) +
                                             ": the statement has no :" + unknown.front());
  }
  if (!unknown.empty()) {
    throw sdk::Error(PLEXUS_ERR_INVALID, "unknown parameters " + quoted_list(unknown) +
                                             ": the statement has no such placeholders");
  }
}

}  // namespace plexus::connectors
