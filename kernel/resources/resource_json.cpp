#include "kernel/resources/resource.hpp"

namespace plexus::resources {
namespace {

nlohmann::json optional_number(const std::optional<std::int64_t>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

nlohmann::json text_or_null(const std::string& text) {
  return text.empty() ? nlohmann::json(nullptr) : nlohmann::json(text);
}

}  // namespace

nlohmann::json to_json(const Stages& stages) {
  return {{"draft", stages.draft},
          {"staging", optional_number(stages.staging)},
          {"production", optional_number(stages.production)}};
}

nlohmann::json to_json(const PromotionRequest& request) {
  return {{"id", request.id},
          {"stage", request.stage},
          {"revision", request.revision},
          {"status", request.status},
          {"requested_by", request.requested_by},
          {"reason", request.reason},
          {"requested_at", request.requested_at},
          {"decided_by", text_or_null(request.decided_by)},
          {"decided_at", text_or_null(request.decided_at)}};
}

nlohmann::json to_json(const Resource& resource) {
  nlohmann::json out = {{"kind", resource.kind},
                        {"id", resource.id},
                        {"revision", resource.revision},
                        {"stages", to_json(resource.stages)},
                        {"deleted", resource.deleted},
                        {"created_by", resource.created_by},
                        {"created_at", resource.created_at},
                        {"updated_by", resource.updated_by},
                        {"updated_at", resource.updated_at}};
  out["content"] = resource.content;
  out["pending_promotion"] =
      resource.pending_promotion ? to_json(*resource.pending_promotion) : nlohmann::json(nullptr);
  return out;
}

nlohmann::json to_json(const Revision& revision) {
  nlohmann::json out = {{"revision", revision.number},
                        {"author", revision.author},
                        {"created_at", revision.created_at},
                        {"reason", revision.reason},
                        {"hash", revision.hash}};
  out["content"] = revision.content;
  return out;
}

std::string change_topic(const ResourceChange& change) { return "resource." + change.kind + ".changed"; }

nlohmann::json to_json(const ResourceChange& change) {
  return {{"tenant", change.tenant},
          {"kind", change.kind},
          {"id", change.id},
          {"revision", change.revision},
          {"stage", change.stage ? nlohmann::json(*change.stage) : nlohmann::json(nullptr)},
          {"action", change.action}};
}

}  // namespace plexus::resources
