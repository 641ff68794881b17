#include "kernel/audit/record_json.hpp"

namespace plexus::audit {

nlohmann::json record_to_json(const AuditRecord& record) {
  return {
      {"sequence", record.sequence},   {"time", record.time},
      {"tenant", record.tenant},       {"actor", record.actor},
      {"action", record.action},       {"target", record.target},
      {"outcome", record.outcome},     {"ip", record.ip},
      {"request_id", record.request_id}, {"before", record.before},
      {"after", record.after},         {"details", record.details},
      {"previous_hash", record.previous_hash}, {"hash", record.hash},
  };
}

AuditRecord record_from_json(const nlohmann::json& json) {
  AuditRecord record;
  record.sequence = json.at("sequence").get<std::int64_t>();
  record.time = json.at("time").get<std::string>();
  record.tenant = json.at("tenant").get<std::string>();
  record.actor = json.at("actor").get<std::string>();
  record.action = json.at("action").get<std::string>();
  record.target = json.at("target").get<std::string>();
  record.outcome = json.at("outcome").get<std::string>();
  record.ip = json.at("ip").get<std::string>();
  record.request_id = json.at("request_id").get<std::string>();
  record.before = json.at("before");
  record.after = json.at("after");
  record.details = json.at("details");
  record.previous_hash = json.at("previous_hash").get<std::string>();
  record.hash = json.at("hash").get<std::string>();
  return record;
}

}  // namespace plexus::audit
