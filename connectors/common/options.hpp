// A datasource's options as a driver's open() receives them: the datasource's content,
// secrets opened. Keys a driver does not know are ignored here: its options schema,
// which the kernel checks when a datasource is saved, refuses them. Messages name the
// option, never its value: values may be secrets.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace plexus::connectors {

class Options {
 public:
  // Throws plexus::sdk::Error (INVALID) unless `options_json` is a JSON object.
  explicit Options(std::string_view options_json);

  // A non-empty string; throws plexus::sdk::Error (INVALID) when missing or not one.
  std::string required_string(const std::string& key) const;
  // A string when present; throws when present but not a string.
  std::optional<std::string> optional_string(const std::string& key) const;
  // A boolean when present, else `fallback`; throws when present but not a boolean.
  bool boolean(const std::string& key, bool fallback) const;

 private:
  nlohmann::json values_;
};

}  // namespace plexus::connectors
