// The values of a statement's ":name" placeholders: plexus_driver_query.params_json.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace plexus::connectors {

class Params {
 public:
  // "" means no parameters; anything but a JSON object throws plexus::sdk::Error (INVALID).
  explicit Params(std::string_view params_json);

  // Checks that the values are exactly those the statement uses (`names`): a missing value
  // or one the statement has no placeholder for throws plexus::sdk::Error (INVALID) naming it.
  void require_exactly(const std::vector<std::string>& names) const;

  // The value of one name require_exactly() accepted.
  const nlohmann::json& at(const std::string& name) const { return values_.at(name); }

 private:
  nlohmann::json values_;
};

}  // namespace plexus::connectors
