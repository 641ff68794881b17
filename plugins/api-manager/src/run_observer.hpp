// What each runtime run tells the rest of the platform (issue 7 item 7, API-5/API-6):
// metrics per tenant, API and revision (calls by outcome, latency histogram, cache
// lookups), `api.slow` when a run took at least the API's slow_ms, and `api.failed` when
// it failed on the server's side (datasource, timeout, script, workflow, internal).
// Callers' mistakes (validation, permission) are counted but publish nothing.
#pragma once

#include <atomic>
#include <string>

#include <plexus/plugin.hpp>

#include "definition.hpp"
#include "exec_log.hpp"

namespace plexus::api_manager {

class RunObserver {
 public:
  explicit RunObserver(sdk::Host& host);

  // After every run that found its API; `cache` is "hit", "miss" or "" (no cache).
  void observe(const ApiDefinition& def, const ExecRecord& record, const std::string& cache);

  // Does this outcome class publish api.failed?
  static bool server_failure(const std::string& error_class);

 private:
  void publish(const std::string& topic, const std::string& key, const std::string& payload);

  sdk::Host& host_;
  sdk::Metric calls_, duration_, cache_;
  std::atomic<bool> publish_warned_{false};
};

}  // namespace plexus::api_manager
