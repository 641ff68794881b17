#include "connectors/common/options.hpp"

#include <plexus/plugin.hpp>

namespace plexus::connectors {

Options::Options(std::string_view options_json) {
  // Parsed without exceptions: a parse error's message would quote the text, secrets included.
  values_ = nlohmann::json::parse(options_json, nullptr, /*allow_exceptions=*/false);
  if (!values_.is_object()) {
    throw sdk::Error(PLEXUS_ERR_INVALID, "the datasource options are not a JSON object");
  }
}

std::string Options::required_string(const std::string& key) const {
  std::optional<std::string> value = optional_string(key);
  if (!value || value->empty()) {
    throw sdk::Error(PLEXUS_ERR_INVALID,
                     "the datasource option \"" + key + "\" is required (a non-empty string)");
  }
  return *value;
}

std::optional<std::string> Options::optional_string(const std::string& key) const {
  const auto found = values_.find(key);
  if (found == values_.end() || found->is_null()) return std::nullopt;
  if (!found->is_string()) {
    throw sdk::Error(PLEXUS_ERR_INVALID, "the datasource option \"" + key + "\" must be a string");
  }
  return found->get<std::string>();
}

bool Options::boolean(const std::string& key, bool fallback) const {
  const auto found = values_.find(key);
  if (found == values_.end() || found->is_null()) return fallback;
  if (!found->is_boolean()) {
    throw sdk::Error(PLEXUS_ERR_INVALID, "the datasource option \"" + key + "\" must be true or false");
  }
  return found->get<bool>();
}

}  // namespace plexus::connectors
