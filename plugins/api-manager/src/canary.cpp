#include "canary.hpp"

#include <algorithm>
#include <chrono>
#include <vector>

#include "exec_log.hpp"
#include "pointer_token.hpp"

namespace plexus::api_manager {

using nlohmann::json;

namespace {

std::string key_of(const std::string& tenant, const std::string& api_id, std::int64_t revision) {
  return tenant + "\n" + api_id + "\n" + std::to_string(revision);
}

json figures_json(const Canary::Figures& f) {
  return {{"calls", f.calls}, {"errors", f.errors}, {"error_rate", f.error_rate}, {"p95_ms", f.p95_ms}};
}

}  // namespace

void validate_canary(const json& content, json& problems) {
  const auto it = content.find("canary");
  if (it == content.end()) return;
  auto problem = [&](const std::string& pointer, const std::string& message) {
    problems.push_back({{"pointer", pointer}, {"message", message}});
  };
  if (!it->is_object()) {
    problem("/canary", "must be an object {\"percent\": 1..99, ...}");
    return;
  }
  const auto& canary = *it;
  if (!canary.contains("percent")) problem("/canary/percent", "is required: the share of production calls, 1..99");
  for (const auto& [key, value] : canary.items()) {
    if (key == "percent") {
      if (!value.is_number_integer() || value.get<int>() < 1 || value.get<int>() > 99)
        problem("/canary/percent", "must be a whole number from 1 to 99");
    } else if (key == "max_error_rate_increase") {
      if (!value.is_number() || value.get<double>() < 0 || value.get<double>() > 1)
        problem("/canary/max_error_rate_increase", "must be a number from 0 to 1, such as 0.05");
    } else if (key == "max_p95_ratio") {
      if (!value.is_number() || value.get<double>() < 1) problem("/canary/max_p95_ratio", "must be a number of 1 or more");
    } else if (key == "min_calls") {
      if (!value.is_number_integer() || value.get<std::int64_t>() < 1 || value.get<std::int64_t>() > 1000000)
        problem("/canary/min_calls", "must be a whole number from 1 to 1000000");
    } else {
      problem("/canary/" + pointer_token(key),
              "is not a canary option (percent, max_error_rate_increase, max_p95_ratio, min_calls)");
    }
  }
}

std::optional<CanaryPolicy> canary_policy(const json& canary) {
  if (!canary.is_object()) return std::nullopt;
  CanaryPolicy policy;
  policy.percent = canary.value("percent", 0);
  policy.max_error_rate_increase = canary.value("max_error_rate_increase", policy.max_error_rate_increase);
  policy.max_p95_ratio = canary.value("max_p95_ratio", policy.max_p95_ratio);
  policy.min_calls = canary.value("min_calls", policy.min_calls);
  return policy;
}

bool in_canary(std::string_view api_id, std::string_view sticky_key, int percent) {
  // FNV-1a: stable across nodes and restarts, unlike std::hash.
  std::uint64_t hash = 14695981039346656037ull;
  auto mix = [&](std::string_view text) {
    for (const unsigned char c : text) {
      hash ^= c;
      hash *= 1099511628211ull;
    }
  };
  mix(api_id);
  mix("\n");
  mix(sticky_key);
  return static_cast<int>(hash % 100) < percent;
}

Canary::Canary(sdk::Host& host) : host_(host) {}

Canary::Figures Canary::figures_of(const Side& side) {
  Figures out;
  out.calls = side.calls;
  out.errors = side.errors;
  out.error_rate = side.calls ? static_cast<double>(side.errors) / static_cast<double>(side.calls) : 0;
  if (!side.latencies.empty()) {
    std::vector<double> sorted(side.latencies.begin(), side.latencies.end());
    const auto at = static_cast<std::size_t>(0.95 * static_cast<double>(sorted.size() - 1));
    std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(at), sorted.end());
    out.p95_ms = sorted[at];
  }
  return out;
}

bool Canary::rolled_back(const std::string& tenant, const std::string& api_id, std::int64_t revision) {
  const auto key = key_of(tenant, api_id, revision);
  {
    std::lock_guard lock(mutex_);
    if (const auto it = rolled_back_.find(key); it != rolled_back_.end()) return it->second;
  }
  bool found = false;
  try {
    const auto answer = json::parse(host_.db_query(
        "SELECT revision FROM api_manager_canary_rollback WHERE tenant_id = :tenant AND api_id = :api AND "
        "revision = :revision",
        json{{"tenant", tenant}, {"api", api_id}, {"revision", revision}}.dump(), 1));
    found = !answer.value("rows", json::array()).empty();
  } catch (const std::exception& e) {
    host_.warn("canary: cannot read the rollback state of API '" + api_id + "': " + e.what());
    return false;  // asked again next time
  }
  std::lock_guard lock(mutex_);
  rolled_back_[key] = found;
  return found;
}

void Canary::observe(const std::string& tenant, const ApiDefinition& production, const ApiDefinition& canary,
                     bool is_canary, bool failed, double duration_ms) {
  const auto policy = canary_policy(canary.canary);
  if (!policy) return;
  Figures canary_figures, production_figures;
  {
    std::lock_guard lock(mutex_);
    auto& side = sides_[key_of(tenant, is_canary ? canary.id : production.id,
                               is_canary ? canary.revision : production.revision)];
    ++side.calls;
    if (failed) ++side.errors;
    side.latencies.push_back(duration_ms);
    if (side.latencies.size() > kWindow) side.latencies.pop_front();
    if (rolled_back_[key_of(tenant, canary.id, canary.revision)]) return;
    const auto c = sides_.find(key_of(tenant, canary.id, canary.revision));
    const auto p = sides_.find(key_of(tenant, production.id, production.revision));
    if (c == sides_.end() || p == sides_.end() || c->second.calls < policy->min_calls ||
        p->second.calls < policy->min_calls) {
      return;
    }
    canary_figures = figures_of(c->second);
    production_figures = figures_of(p->second);
  }
  std::string reason;
  if (canary_figures.error_rate - production_figures.error_rate > policy->max_error_rate_increase) {
    reason = "error rate " + std::to_string(canary_figures.error_rate) + " against production's " +
             std::to_string(production_figures.error_rate) + " (allowed increase " +
             std::to_string(policy->max_error_rate_increase) + ")";
  } else if (production_figures.p95_ms > 0 &&
             canary_figures.p95_ms > production_figures.p95_ms * policy->max_p95_ratio) {
    reason = "p95 " + std::to_string(canary_figures.p95_ms) + " ms against production's " +
             std::to_string(production_figures.p95_ms) + " ms (allowed ratio " +
             std::to_string(policy->max_p95_ratio) + ")";
  }
  if (!reason.empty()) roll_back(tenant, production, canary, reason, canary_figures, production_figures);
}

void Canary::roll_back(const std::string& tenant, const ApiDefinition& production, const ApiDefinition& canary,
                       const std::string& reason, const Figures& canary_figures, const Figures& production_figures) {
  {
    std::lock_guard lock(mutex_);
    auto& state = rolled_back_[key_of(tenant, canary.id, canary.revision)];
    if (state) return;  // another thread got here first
    state = true;
  }
  host_.warn("canary: API '" + canary.id + "' revision " + std::to_string(canary.revision) + " rolled back: " + reason);
  try {
    host_.db_exec(
        "INSERT INTO api_manager_canary_rollback (tenant_id, api_id, revision, reason, rolled_back_at) "
        "VALUES (:tenant, :api, :revision, :reason, :at)",
        json{{"tenant", tenant},
             {"api", canary.id},
             {"revision", canary.revision},
             {"reason", reason},
             {"at", format_utc(std::chrono::system_clock::now())}}
            .dump());
  } catch (const std::exception& e) {
    // Another node recorded it first (primary key), or the database is away: this node stays rolled back.
    host_.info("canary: rollback of API '" + canary.id + "' not recorded: " + e.what());
  }
  try {
    host_.publish("api.canary.rolled_back", tenant + "/" + canary.id,
                  json{{"tenant", tenant},
                       {"api", canary.id},
                       {"revision", canary.revision},
                       {"production_revision", production.revision},
                       {"reason", reason},
                       {"canary", figures_json(canary_figures)},
                       {"production", figures_json(production_figures)}}
                      .dump());
  } catch (const sdk::Error& e) {
    host_.warn(std::string("canary: cannot publish api.canary.rolled_back: ") + e.what());
  }
}

json Canary::status(const std::string& tenant, const ApiDefinition& production, const ApiDefinition& canary) {
  const auto policy = canary_policy(canary.canary);
  const bool off = rolled_back(tenant, canary.id, canary.revision);
  Figures c, p;
  {
    std::lock_guard lock(mutex_);
    if (const auto it = sides_.find(key_of(tenant, canary.id, canary.revision)); it != sides_.end())
      c = figures_of(it->second);
    if (const auto it = sides_.find(key_of(tenant, production.id, production.revision)); it != sides_.end())
      p = figures_of(it->second);
  }
  return {{"revision", canary.revision},
          {"production_revision", production.revision},
          {"percent", policy ? policy->percent : 0},
          {"state", off ? "rolled_back" : "running"},
          {"canary", figures_json(c)},
          {"production", figures_json(p)},
          {"scope", "this node"}};
}

}  // namespace plexus::api_manager
