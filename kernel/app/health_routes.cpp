#include "kernel/app/health_routes.hpp"

#include "kernel/app/app.hpp"
#include "kernel/http/access.hpp"

namespace plexus {

void register_health_routes(App& app) {
  using http::Request;
  using http::Response;
  std::vector<http::Route> routes;
  http::Route healthz{"GET", "/healthz", [](Request&) { return Response::json(200, {{"status", "ok"}}); },
                      http::Surface::both};
  healthz.non_blocking = true;
  healthz.permission = http::kPublic;
  healthz.summary = "Liveness: 200 while the process answers";
  routes.push_back(std::move(healthz));
  routes.push_back({"GET", "/readyz",
                    [&app](Request&) {
                      nlohmann::json checks = nlohmann::json::object();
                      bool ready = true;
                      for (const auto& check : app.readiness_checks()) {
                        std::string reason;
                        const bool ok = check.check(reason);
                        ready = ready && ok;
                        checks[check.name] = ok ? nlohmann::json{{"ok", true}}
                                                : nlohmann::json{{"ok", false}, {"reason", reason}};
                      }
                      return Response::json(ready ? 200 : 503,
                                            {{"status", ready ? "ready" : "not_ready"}, {"checks", checks}});
                    },
                    http::Surface::both});
  routes.back().summary = "Readiness: 200 when the database answers and every enabled plugin runs, else 503";
  routes.back().permission = http::kPublic;
  if (app.config().get_bool("metrics.enabled")) {
    http::Route metrics{"GET", "/metrics",
                        [&app](Request&) {
                          return Response::text(200, app.metrics().render(), "text/plain; version=0.0.4; charset=utf-8");
                        },
                        http::Surface::api};
    metrics.summary = "Prometheus text format metrics of the kernel and its plugins";
    metrics.non_blocking = true;  // rendering reads atomics; /readyz pings the database and stays on a worker
    metrics.permission = http::kPublic;  // scrapers carry no credentials; restrict with a firewall or http.address
    routes.push_back(std::move(metrics));
  }
  app.router().add_all(std::move(routes));
}

}  // namespace plexus
