// This node's part in the cluster: a heartbeat in the nodes table and a bid for the
// "kernel" leader lease, renewed every third of the lease time on a thread of its
// own, and the lease given up on a clean shutdown so another node takes over at
// once. Singleton work asks leader() before it runs.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "kernel/jobs/leader_lease.hpp"
#include "kernel/jobs/node_registry.hpp"
#include "kernel/tasks/periodic_task.hpp"

namespace plexus::jobs {

class ClusterMembership {
 public:
  // `info` travels with every heartbeat ({"version": ...}).
  ClusterMembership(store::Database& database, std::string node_id, std::chrono::milliseconds lease_ttl,
                    nlohmann::json info);
  ~ClusterMembership();  // stops renewing and releases the lease when held
  ClusterMembership(const ClusterMembership&) = delete;
  ClusterMembership& operator=(const ClusterMembership&) = delete;

  const std::string& node_id() const { return node_id_; }
  // True while this node held the lease at its last renewal.
  bool leader() const { return leader_.load(); }
  // {"node_id", "leader": {"node_id", "token", "expires_at"} or null, "this_node_leads",
  //  "lease_ttl_ms", "nodes": [{"node_id", "first_seen", "last_seen", "info"}]}: nodes
  // seen within three lease times.
  nlohmann::json status();

 private:
  void beat();

  std::string node_id_;
  std::chrono::milliseconds ttl_;
  nlohmann::json info_;
  NodeRegistry nodes_;
  LeaderLease lease_;
  std::atomic<bool> leader_{false};
  // Stopped before the lease is released, so no renewal can take it back.
  std::optional<tasks::PeriodicTask> task_;
};

}  // namespace plexus::jobs
