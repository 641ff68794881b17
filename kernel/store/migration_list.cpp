#include "kernel/store/migration_list.hpp"

#include <stdexcept>

#include <nlohmann/json.hpp>

namespace plexus::store {
namespace {

Migration migration_of(const nlohmann::json& item, const std::string& backend) {
  if (!item.is_object() || !item.contains("version") || !item["version"].is_number_integer()) {
    throw std::invalid_argument("db_migrate: each migration needs an integer \"version\"");
  }
  const auto where = "db_migrate: migration " + item["version"].dump();
  for (const char* key : {"statements", "sqlite", "postgresql"}) {
    if (item.contains(key) && !item[key].is_array()) {
      throw std::invalid_argument(where + ": \"" + key + "\" must be an array of strings");
    }
  }
  if (!item.contains("statements") && !(item.contains("sqlite") && item.contains("postgresql"))) {
    throw std::invalid_argument(where + " needs \"statements\", or both \"sqlite\" and \"postgresql\"");
  }
  if (item.contains("description") && !item["description"].is_string()) {
    throw std::invalid_argument(where + ": \"description\" must be a string");
  }
  Migration migration{item["version"].get<int>(), item.value("description", std::string()), {}};
  for (const auto& statement : item.contains(backend) ? item[backend] : item["statements"]) {
    if (!statement.is_string()) throw std::invalid_argument(where + ": statements must be strings");
    migration.statements.push_back(statement.get<std::string>());
  }
  return migration;
}

}  // namespace

std::vector<Migration> migration_list(std::string_view migrations_json, const std::string& backend) {
  const auto list = nlohmann::json::parse(migrations_json, nullptr, false);
  if (!list.is_array()) throw std::invalid_argument("db_migrate: migrations_json must be a JSON array");
  std::vector<Migration> migrations;
  for (const auto& item : list) migrations.push_back(migration_of(item, backend));
  return migrations;
}

}  // namespace plexus::store
