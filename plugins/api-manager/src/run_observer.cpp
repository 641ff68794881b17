#include "run_observer.hpp"

#include <nlohmann/json.hpp>

namespace plexus::api_manager {

RunObserver::RunObserver(sdk::Host& host)
    : host_(host),
      calls_(host.counter("plexus_api_calls_total", "Runtime API runs by outcome (ok or the error class)",
                          {"tenant", "api", "revision", "outcome"})),
      duration_(host.histogram("plexus_api_duration_seconds", "Runtime API run time, parameters to answer",
                               {"tenant", "api", "revision"})),
      cache_(host.counter("plexus_api_cache_lookups_total", "Response cache lookups of runtime APIs",
                          {"tenant", "api", "result"})) {}

bool RunObserver::server_failure(const std::string& error_class) {
  return error_class == "datasource" || error_class == "timeout" || error_class == "script" ||
         error_class == "workflow" || error_class == "internal";
}

void RunObserver::observe(const ApiDefinition& def, const ExecRecord& record, const std::string& cache) {
  const auto revision = std::to_string(record.revision);
  const std::string outcome = record.error_class.empty() ? "ok" : record.error_class;
  calls_.add(1, {record.tenant, def.id, revision, outcome});
  duration_.add(record.duration_ms / 1000.0, {record.tenant, def.id, revision});
  if (!cache.empty()) cache_.add(1, {record.tenant, def.id, cache});

  const bool slow = def.slow_ms > 0 && record.duration_ms >= def.slow_ms;
  const bool failed = server_failure(record.error_class);
  if (!slow && !failed) return;
  // Never the parameters: they may hold personal data or secrets.
  nlohmann::json payload{{"tenant", record.tenant},         {"api", def.id},
                         {"revision", record.revision},     {"stage", record.stage},
                         {"request_id", record.request_id}, {"status", record.status},
                         {"duration_ms", record.duration_ms}, {"at", format_utc(record.started_at)}};
  const auto key = record.tenant + "/" + def.id;
  if (slow) {
    auto event = payload;
    event["slow_ms"] = def.slow_ms;
    publish("api.slow", key, event.dump());
  }
  if (failed) {
    payload["error_class"] = record.error_class;
    payload["message"] = record.error;
    publish("api.failed", key, payload.dump());
  }
}

void RunObserver::publish(const std::string& topic, const std::string& key, const std::string& payload) {
  try {
    host_.publish(topic, key, payload);
  } catch (const sdk::Error& e) {
    // Once: a manifest without the topic would otherwise log on every run.
    if (!publish_warned_.exchange(true)) host_.warn("cannot publish " + topic + ": " + e.what());
  }
}

}  // namespace plexus::api_manager
