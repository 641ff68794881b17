#include "kernel/jobs/node_registry.hpp"

#include <cstdint>
#include <stdexcept>

#include <soci/soci.h>

#include "kernel/jobs/cluster_schema.hpp"
#include "kernel/store/json_sql.hpp"

namespace plexus::jobs {
namespace {

store::TimePoint time_of(const nlohmann::json& cell) {
  const auto time = store::parse_time(cell.get<std::string>());
  if (!time) throw std::runtime_error("table nodes holds a malformed time: " + cell.dump());
  return *time;
}

}  // namespace

NodeRegistry::NodeRegistry(store::Database& database, Clock clock)
    : database_(database), clock_(std::move(clock)) {
  store::migrate(database_, cluster_schema::kComponent, cluster_schema::migrations());
}

void NodeRegistry::heartbeat(const std::string& node_id, const nlohmann::json& info) {
  if (node_id.empty()) throw std::invalid_argument("node_id must not be empty");
  if (!info.is_object()) throw std::invalid_argument("node info must be a JSON object");
  soci::session sql(database_.pool());
  const auto now = store::format_time(clock_(sql));
  store::exec_json(
      sql,
      "INSERT INTO nodes (node_id, first_seen, last_seen, info_json) VALUES (:id, :first, :last, :info) "
      "ON CONFLICT (node_id) DO UPDATE SET last_seen = excluded.last_seen, info_json = excluded.info_json",
      {{"id", node_id}, {"first", now}, {"last", now}, {"info", info.dump()}});
}

std::vector<NodeRecord> NodeRegistry::nodes_seen(store::TimePoint since) {
  soci::session sql(database_.pool());
  const auto rows = store::query_json(sql,
                                      "SELECT node_id, first_seen, last_seen, info_json FROM nodes "
                                      "WHERE last_seen >= :since ORDER BY last_seen DESC, node_id",
                                      {{"since", store::format_time(since)}}, SIZE_MAX);
  std::vector<NodeRecord> nodes;
  for (const auto& row : rows.rows) {
    auto info = nlohmann::json::parse(row[3].get<std::string>(), nullptr, false);
    nodes.push_back({row[0].get<std::string>(), time_of(row[1]), time_of(row[2]),
                     info.is_discarded() ? nlohmann::json::object() : std::move(info)});
  }
  return nodes;
}

}  // namespace plexus::jobs
