// Canary releases (issue 7 item 12, API-11): a staging revision whose content has
// `"canary": {"percent": n, ...}` takes that share of the production traffic of the same
// method and path, sticky per caller. Both revisions' error rate and p95 latency are
// compared on each node; when the canary is worse than its policy allows it is rolled
// back (recorded in the plugin's table, so every node and restart keeps it off) and
// `api.canary.rolled_back` is published. Promoting the staging revision ends the canary.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>
#include <plexus/plugin.hpp>

#include "definition.hpp"

namespace plexus::api_manager {

struct CanaryPolicy {
  int percent = 0;                         // 1..99 of production calls
  double max_error_rate_increase = 0.05;   // canary error rate minus production's, at most
  double max_p95_ratio = 1.5;              // canary p95 over production p95, at most
  std::int64_t min_calls = 100;            // each side, before anything is compared
};

// Problems of the "canary" field ([{"pointer","message"}] appended to `problems`).
void validate_canary(const nlohmann::json& content, nlohmann::json& problems);
// The policy of a validated "canary" object; nullopt when it is not an object (absent).
std::optional<CanaryPolicy> canary_policy(const nlohmann::json& canary);

// Does a caller with this sticky key fall in the canary's share? Same key, same answer.
bool in_canary(std::string_view api_id, std::string_view sticky_key, int percent);

class Canary {
 public:
  explicit Canary(sdk::Host& host);

  // Is the canary `revision` of this API rolled back (on any node)?
  bool rolled_back(const std::string& tenant, const std::string& api_id, std::int64_t revision);
  // One finished run of the production or the canary revision (server failures count as
  // errors); compares when both sides have min_calls and rolls back when the canary is worse.
  void observe(const std::string& tenant, const ApiDefinition& production, const ApiDefinition& canary,
               bool is_canary, bool failed, double duration_ms);
  // {"revision", "production_revision", "percent", "state", "canary": {...}, "production": {...}}
  nlohmann::json status(const std::string& tenant, const ApiDefinition& production, const ApiDefinition& canary);

  struct Figures {
    std::int64_t calls = 0, errors = 0;
    double error_rate = 0, p95_ms = 0;
  };

 private:
  struct Side {
    std::int64_t calls = 0, errors = 0;
    std::deque<double> latencies;  // the last kWindow runs
  };
  static constexpr std::size_t kWindow = 1000;
  static Figures figures_of(const Side& side);
  void roll_back(const std::string& tenant, const ApiDefinition& production, const ApiDefinition& canary,
                 const std::string& reason, const Figures& canary_figures, const Figures& production_figures);

  sdk::Host& host_;
  std::mutex mutex_;
  std::map<std::string, Side> sides_;       // "<tenant>\n<api>\n<revision>"
  std::map<std::string, bool> rolled_back_;  // same key: known state of a canary revision
};

}  // namespace plexus::api_manager
