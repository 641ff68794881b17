#include "canary_route.hpp"

#include <nlohmann/json.hpp>

namespace plexus::api_manager {

void register_canary_route(sdk::Host& host, Runtime& runtime, const std::string& prefix) {
  host.route(
      "GET", prefix + "/apis/{id}/canary", "api.read",
      [&runtime](const sdk::Request& req, sdk::Response& res) {
        const std::string tenant(req.caller().tenant().empty() ? "default" : req.caller().tenant());
        const std::string id(req.param("id"));
        if (auto status = runtime.canary_status(tenant, id)) {
          res.json(200, status->dump());
          return;
        }
        res.json(
            404,
            nlohmann::json{{"error",
                            {{"code", "not_found"},
                             {"message", "API '" + id +
                                             "' has no canary: its staging revision has no \"canary\" policy "
                                             "or is the production revision"},
                             {"request_id", req.request_id()}}}}
                .dump());
      });
}

}  // namespace plexus::api_manager
