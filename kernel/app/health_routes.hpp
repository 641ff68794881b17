// /healthz (the process answers), /readyz (it can do its job) and /metrics.
#pragma once

namespace plexus {
class App;
void register_health_routes(App& app);
}  // namespace plexus
