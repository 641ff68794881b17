#include "kernel/identity/sql_values.hpp"

#include <nlohmann/json.hpp>
#include <soci/soci.h>

namespace plexus::identity {

std::vector<std::string> string_list_of(const std::string& json_text) {
  std::vector<std::string> out;
  const auto parsed = nlohmann::json::parse(json_text, nullptr, false);
  if (!parsed.is_array()) return out;
  for (const auto& item : parsed) {
    if (item.is_string()) out.push_back(item.get<std::string>());
  }
  return out;
}

std::string json_text_of(const std::vector<std::string>& list) { return nlohmann::json(list).dump(); }

}  // namespace plexus::identity
