#include "kernel/jobs/cluster_membership.hpp"

#include <exception>

#include <spdlog/logger.h>

#include "kernel/log/log.hpp"
#include "kernel/store/clock.hpp"

namespace plexus::jobs {

ClusterMembership::ClusterMembership(store::Database& database, std::string node_id,
                                     std::chrono::milliseconds lease_ttl, nlohmann::json info)
    : node_id_(std::move(node_id)),
      ttl_(lease_ttl),
      info_(std::move(info)),
      nodes_(database),
      lease_(database, "kernel") {
  task_.emplace(lease_ttl / 3, std::chrono::milliseconds(0), [this] { beat(); });
}

ClusterMembership::~ClusterMembership() {
  task_.reset();
  try {
    if (lease_.release(node_id_)) log::get("cluster")->info("node {} gave up the leader lease", node_id_);
  } catch (const std::exception& e) {
    log::get("cluster")->warn("node {} could not release the leader lease: {}", node_id_, e.what());
  }
}

void ClusterMembership::beat() {
  auto logger = log::get("cluster");
  try {
    nodes_.heartbeat(node_id_, info_);
    const auto lease = lease_.try_acquire_or_renew(node_id_, ttl_);
    if (lease.leader != leader_.exchange(lease.leader)) {
      if (lease.leader) {
        logger->info("node {} is the leader (fencing token {})", node_id_, lease.token);
      } else {
        logger->info("node {} is no longer the leader; {} is", node_id_, lease.holder);
      }
    }
  } catch (const std::exception& e) {
    // Without a renewal this node cannot know it still leads: step down.
    if (leader_.exchange(false)) logger->warn("node {} stepped down as leader", node_id_);
    logger->error("cluster heartbeat failed, will retry: {}", e.what());
  }
}

nlohmann::json ClusterMembership::status() {
  const auto lease = lease_.current(node_id_);
  nlohmann::json nodes = nlohmann::json::array();
  for (const auto& node : nodes_.nodes_seen(std::chrono::system_clock::now() - 3 * ttl_)) {
    nodes.push_back({{"node_id", node.node_id},
                     {"first_seen", store::format_time(node.first_seen)},
                     {"last_seen", store::format_time(node.last_seen)},
                     {"info", node.info}});
  }
  nlohmann::json leader = nullptr;
  if (!lease.holder.empty()) {
    leader = {{"node_id", lease.holder}, {"token", lease.token}, {"expires_at", store::format_time(lease.expires_at)}};
  }
  return {{"node_id", node_id_},
          {"leader", std::move(leader)},
          {"this_node_leads", lease.leader},
          {"lease_ttl_ms", ttl_.count()},
          {"nodes", std::move(nodes)}};
}

}  // namespace plexus::jobs
