#include "slow_summary.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace plexus::api_manager {

using nlohmann::json;

void register_slow_summary_route(sdk::Host& host, Runtime& runtime, ExecLog& log, const std::string& prefix) {
  host.route(
      "GET", prefix + "/slow", "api.read", [&runtime, &log](const sdk::Request& req, sdk::Response& res) {
        const std::string tenant(req.caller().tenant().empty() ? "default" : req.caller().tenant());
        const auto since_text =
            req.query("since").empty() ? std::string("24h") : std::string(req.query("since"));
        const auto window = parse_duration(since_text);
        if (!window) {
          res.json(400, json{{"error",
                              {{"code", "invalid_parameter"},
                               {"message", "since must be a duration such as 30m, 24h or 7d"},
                               {"details", {{"field", "since"}}},
                               {"request_id", req.request_id()}}}}
                            .dump());
          return;
        }
        const auto since = std::chrono::system_clock::now() - *window;
        json items = json::array();
        for (const auto& api : runtime.routes(tenant, "production")->apis()) {
          if (api.def.slow_ms <= 0) continue;
          const auto runs = log.slow_runs(tenant, api.def.id, api.def.slow_ms, since);
          items.push_back({{"api", api.def.id},
                           {"revision", api.def.revision},
                           {"path", "/runtime/" + api.def.path},
                           {"slow_ms", api.def.slow_ms},
                           {"runs", runs.runs},
                           {"slow_runs", runs.slow_runs},
                           {"max_ms", runs.max_ms},
                           {"last_slow_at", runs.last_slow_at.empty() ? json() : json(runs.last_slow_at)}});
        }
        // The worst first: most slow runs, then the longest.
        std::sort(items.begin(), items.end(), [](const json& a, const json& b) {
          return std::pair(a["slow_runs"].get<std::int64_t>(), a["max_ms"].get<double>()) >
                 std::pair(b["slow_runs"].get<std::int64_t>(), b["max_ms"].get<double>());
        });
        res.json(200, json{{"since", format_utc(since)}, {"items", std::move(items)}}.dump());
      });
}

}  // namespace plexus::api_manager
