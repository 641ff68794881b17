#include "sql_api.hpp"

#include <thread>

#include "params.hpp"
#include "rows_body.hpp"

namespace plexus::api_manager {

using nlohmann::json;

Outcome datasource_failure(const sdk::Error& error, const std::string& request_id) {
  const bool timeout = error.status() == PLEXUS_ERR_TIMEOUT;
  const bool unavailable = error.status() == PLEXUS_ERR_UNAVAILABLE || error.status() == PLEXUS_ERR_NOT_FOUND;
  const std::string message =
      timeout ? "the datasource did not answer in time; try again later (request id " + request_id + ")"
      : unavailable
          ? "the datasource of this API is not available; try again later (request id " + request_id + ")"
          : "the datasource could not run this API (request id " + request_id + ")";
  auto out = Outcome::failure(timeout ? 504 : 502, timeout ? "timeout" : "datasource",
                              timeout ? "datasource_timeout" : "datasource_error", message,
                              json{{"reason", error.what()}});
  out.transient = timeout || error.status() == PLEXUS_ERR_UNAVAILABLE;
  return out;
}

Outcome run_sql_api(const CompiledApi& api, const json& params, ExecContext& context) {
  const auto bound = bind_values(api.placeholders, params).dump();
  const int attempts = std::max(1, api.def.retry_attempts);
  Outcome out;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    if (attempt > 1) {
      // Transient failures only (a timeout, an unreachable database); never past the deadline.
      const auto wait = std::chrono::milliseconds(api.def.retry_backoff_ms * (1ull << (attempt - 2)));
      if (std::chrono::steady_clock::now() + wait >= context.deadline) break;
      std::this_thread::sleep_for(wait);
    }
    try {
      auto body = rows_as_objects(context.host->datasource_query(context.tenant, api.def.datasource, api.def.sql,
                                                                 bound, 0, context.remaining_ms()));
      out = Outcome::success_text(std::move(body.text), body.rows);
      out.details = json{{"attempts", attempt}};
      return out;
    } catch (const sdk::Error& e) {
      out = datasource_failure(e, context.request_id);
      out.details["attempts"] = attempt;
      if (!out.transient) break;
    }
  }
  return out;
}

}  // namespace plexus::api_manager
