#include "runtime.hpp"

#include <algorithm>
#include <optional>

#include "canary.hpp"
#include "execute.hpp"

namespace plexus::api_manager {
namespace {

using nlohmann::json;

std::string actor(const sdk::Caller& caller) {
  if (caller.anonymous()) return "anonymous";
  const auto kind = caller.kind();
  const std::string prefix = kind == "api_key"      ? "apikey"
                             : kind == "share_link" ? "share"
                                                    : std::string(kind);
  return prefix + ":" + std::string(caller.name());
}

std::vector<std::pair<std::string, std::string>> query_of(const sdk::Request& req) {
  std::vector<std::pair<std::string, std::string>> out;
  const auto& raw = req.raw();
  for (std::size_t i = 0; i < raw.query_count; ++i) {
    out.emplace_back(std::string(sdk::view(raw.query[i].name)), std::string(sdk::view(raw.query[i].value)));
  }
  return out;
}

// Who may share a cached answer: everyone for public APIs; callers of the same kind and
// roles for SQL (the answer depends on the parameters only, the roles decide access);
// the caller alone for scripts and workflows, whose tool calls act as the caller.
std::string permission_scope(const ApiDefinition& def, const sdk::Caller& caller) {
  if (caller.anonymous()) return "anonymous";
  if (def.type != "sql") return std::string(caller.kind()) + ":" + std::string(caller.user_id());
  std::vector<std::string> roles;
  for (const auto role : caller.roles()) roles.emplace_back(role);
  std::sort(roles.begin(), roles.end());
  std::string scope(caller.kind());
  for (const auto& role : roles) scope += "," + role;
  return scope;
}

}  // namespace

json error_body(std::string_view code, std::string_view message, const json& details,
                std::string_view request_id) {
  json error{{"code", code}, {"message", message}, {"request_id", request_id}};
  if (!details.is_null()) error["details"] = details;
  return {{"error", std::move(error)}};
}

Runtime::Runtime(sdk::Host& host, ExecLog* log, OpenApi openapi, std::chrono::milliseconds cache_ttl)
    : host_(host), log_(log), openapi_(std::move(openapi)), cache_ttl_(cache_ttl), observer_(host), canary_(host) {}

std::optional<json> Runtime::canary_status(const std::string& tenant, const std::string& id) {
  const auto production = table(tenant, "production");
  const auto staging = table(tenant, "staging");
  const auto* live = production->by_id(id);
  const auto* candidate = staging->by_id(id);
  if (live == nullptr || candidate == nullptr || candidate->def.canary.is_null() ||
      candidate->def.revision == live->def.revision) {
    return std::nullopt;
  }
  return canary_.status(tenant, live->def, candidate->def);
}

void Runtime::invalidate(const std::string& tenant) {
  std::lock_guard lock(mutex_);
  if (tenant.empty()) {
    cache_.clear();
    return;
  }
  for (auto it = cache_.begin(); it != cache_.end();) {
    it = it->first.rfind(tenant + "\n", 0) == 0 ? cache_.erase(it) : std::next(it);
  }
}

void Runtime::on_change(std::string_view payload_json) {
  const auto payload = json::parse(payload_json, nullptr, false);
  if (payload.is_object() && payload.contains("tenant") && payload["tenant"].is_string()) {
    const auto tenant = payload["tenant"].get<std::string>();
    invalidate(tenant);
    answers_.drop(tenant, payload.value("id", std::string()));
  } else {
    invalidate();
  }
}

std::shared_ptr<const RouteTable> Runtime::table(const std::string& tenant, const std::string& stage) {
  const auto key = tenant + "\n" + stage;
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mutex_);
    if (const auto it = cache_.find(key); it != cache_.end() && now - it->second.loaded < cache_ttl_) {
      return it->second.table;
    }
  }
  // Loaded outside the lock: two threads may both load, which is harmless.
  std::vector<std::string> skipped;
  auto loaded = std::make_shared<const RouteTable>(
      RouteTable::from_resources(json::parse(host_.resource_list(tenant, "api", stage)), &skipped));
  for (const auto& why : skipped) host_.warn("tenant " + tenant + ", " + stage + ": API left out: " + why);
  std::lock_guard lock(mutex_);
  cache_[key] = {loaded, now};
  return loaded;
}

void Runtime::handle(const sdk::Request& req, sdk::Response& res) {
  const auto started = std::chrono::steady_clock::now();
  const auto started_at = std::chrono::system_clock::now();
  const auto caller = req.caller();
  const std::string tenant(caller.tenant().empty() ? "default" : caller.tenant());
  const std::string request_id(req.request_id());
  const std::string method(req.method());
  const std::string path(req.param("path"));
  auto fail = [&](int status, std::string_view code, std::string_view message,
                  const json& details = nullptr) {
    res.json(status, error_body(code, message, details, request_id).dump());
  };

  if (path == "openapi.json" && (method == "GET" || method == "HEAD")) {
    std::vector<ApiDefinition> visible;
    for (const auto& api : table(tenant, "production")->apis()) {
      if (api.def.is_public || (!caller.anonymous() && host_.allowed(caller, "api.execute", api.def.id))) {
        visible.push_back(api.def);
      }
    }
    std::sort(visible.begin(), visible.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    if (!openapi_) return fail(404, "not_found", "no OpenAPI document is available");
    res.json(200, openapi_(visible).dump());
    return;
  }

  std::string stage = "production";
  if (const auto header = req.header("X-Plexus-Stage"); !header.empty()) {
    if (header == "staging") {
      stage = "staging";
    } else if (header != "production") {
      return fail(400, "invalid_stage", "X-Plexus-Stage must be 'staging' or 'production'",
                  json{{"field", "X-Plexus-Stage"}});
    }
  }
  if (stage == "staging" && caller.anonymous()) {
    res.header("WWW-Authenticate", "Bearer");
    return fail(401, "unauthenticated",
                "the staging revision needs credentials: a bearer token or an API key");
  }

  const auto routes = table(tenant, stage);
  const auto match = routes->find(method, path);
  if (match.api == nullptr) {
    if (!match.allowed.empty()) {
      std::string allow;
      for (const auto& m : match.allowed) allow += (allow.empty() ? "" : ", ") + m;
      res.header("Allow", allow);
      return fail(405, "method_not_allowed",
                  "/runtime/" + path + " does not take " + method + "; it takes " + allow,
                  json{{"allowed", match.allowed}});
    }
    return fail(404, "not_found", "no API at " + method + " /runtime/" + path);
  }
  // A staging revision with a canary policy takes its share of production calls.
  const CompiledApi* production_api = match.api;
  const CompiledApi* canary_api = nullptr;
  std::shared_ptr<const RouteTable> staging_routes;  // keeps canary_api alive
  bool to_canary = false;
  if (stage == "production") {
    staging_routes = table(tenant, "staging");
    const auto* candidate = staging_routes->by_id(production_api->def.id);
    if (candidate != nullptr && !candidate->def.canary.is_null() &&
        candidate->def.revision != production_api->def.revision && candidate->def.method == method &&
        candidate->def.path == production_api->def.path &&
        !canary_.rolled_back(tenant, candidate->def.id, candidate->def.revision)) {
      canary_api = candidate;
      const std::string sticky = caller.anonymous() ? "ip:" + std::string(req.remote_address())
                                                    : std::string(caller.kind()) + ":" + std::string(caller.user_id());
      to_canary = in_canary(candidate->def.id, sticky, candidate->def.canary.value("percent", 0));
    }
  }
  const auto& api = to_canary ? *canary_api : *production_api;

  ExecRecord record;
  record.tenant = tenant;
  record.api_id = api.def.id;
  record.revision = api.def.revision;
  record.stage = to_canary ? "canary" : stage;
  record.caller = actor(caller);
  record.request_id = request_id;
  record.method = method;
  record.path = "/runtime/" + path;
  record.started_at = started_at;
  std::string cache_state;  // "hit" | "miss" | "" (no cache for this API)
  auto finish = [&](int status, std::string error_class, std::string error) {
    record.status = status;
    record.error_class = std::move(error_class);
    record.error = std::move(error);
    record.duration_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    observer_.observe(api.def, record, cache_state);
    if (canary_api != nullptr) {
      canary_.observe(tenant, production_api->def, canary_api->def, to_canary,
                      RunObserver::server_failure(record.error_class), record.duration_ms);
    }
    if (log_ != nullptr) log_->enqueue(std::move(record));
  };

  // Access: staging needs api.write on the API; production is open for public APIs and
  // needs api.execute (on this API or all) otherwise.
  if (stage == "staging") {
    if (!host_.allowed(caller, "api.write", api.def.id)) {
      const auto message = "the staging revision needs the permission api.write:" + api.def.id;
      finish(403, "permission", message);
      return fail(403, "forbidden", message, json{{"permission", "api.write:" + api.def.id}});
    }
  } else if (!api.def.is_public) {
    if (caller.anonymous()) {
      const std::string message = "this API needs credentials: a bearer token or an API key";
      finish(401, "permission", message);
      res.header("WWW-Authenticate", "Bearer");
      return fail(401, "unauthenticated", message);
    }
    if (!host_.allowed(caller, "api.execute", api.def.id)) {
      const auto message = "the caller lacks the permission api.execute:" + api.def.id;
      finish(403, "permission", message);
      return fail(403, "forbidden", message, json{{"permission", "api.execute:" + api.def.id}});
    }
  }

  CallInput input;
  input.path = match.params;
  input.query = query_of(req);
  if (const auto body = req.body(); body.find_first_not_of(" \t\r\n") != std::string_view::npos) {
    input.body = json::parse(body, nullptr, false);
    if (input.body.is_discarded() || !input.body.is_object()) {
      const std::string message = "the request body must be a JSON object of parameters";
      finish(400, "validation", message);
      return fail(400, "invalid_params", message,
                  json{{"fields", json::array({{{"field", ""}, {"message", message}}})}});
    }
  }
  auto merged = merge_params(api.def.params, *api.schema, input);
  if (!merged.errors.empty()) {
    json fields = json::array();
    std::string message = "the parameters are not valid:";
    for (const auto& error : merged.errors) {
      fields.push_back({{"field", error.field}, {"message", error.message}});
      message +=
          " " + (error.field.empty() ? std::string("(parameters)") : error.field) + " " + error.message + ";";
    }
    message.pop_back();
    record.params = merged.values;
    finish(400, "validation", message);
    return fail(400, "invalid_params", message, json{{"fields", std::move(fields)}});
  }
  record.params = merged.values;

  std::string cache_key;
  if (api.def.cache_ttl_s > 0) {
    cache_key = ResponseCache::key(tenant, stage, api.def.id, api.def.revision, merged.values.dump(),
                                   permission_scope(api.def, caller));
    if (auto hit = answers_.get(cache_key)) {
      cache_state = "hit";
      record.rows = hit->rows;
      res.header("X-Cache", "HIT");
      finish(200, "", "");
      res.json(200, hit->body);
      return;
    }
    cache_state = "miss";
    res.header("X-Cache", "MISS");
  }

  ExecContext context;
  context.host = &host_;
  context.tenant = tenant;
  context.caller = caller.raw();
  context.request_id = request_id;
  context.stage = stage;
  context.steps = &record.steps;
  context.call_api = [this, &context](const std::string& id, const json& params, std::chrono::steady_clock::time_point deadline) {
    return call_nested(context, id, params, deadline);
  };
  const auto out = execute(api, merged.values, context);
  record.rows = out.rows;
  if (!out.ok()) {
    // The datasource's or script's own words may hold SQL and schema details: logged, and
    // shown only to callers who may edit the API.
    host_.warn("request " + request_id + ": API " + api.def.id + " revision " + std::to_string(api.def.revision) +
               " failed (" + out.error_class + "): " + (out.details.is_null() ? out.message : out.details.dump()));
    json details = nullptr;
    if (!caller.anonymous() && host_.allowed(caller, "api.write", api.def.id)) details = out.details;
    finish(out.status, out.error_class, out.message);
    return fail(out.status, out.code, out.message, details);
  }
  auto text = out.text();
  if (!cache_key.empty()) {
    answers_.put(cache_key, tenant, api.def.id, text, out.rows, std::chrono::seconds(api.def.cache_ttl_s));
  }
  finish(200, "", "");
  res.json(200, text);
}

namespace {

// Merges a JSON object of parameters as a request body would be; the outcome of a 400 when invalid.
std::optional<Outcome> merge_object(const CompiledApi& api, const json& params, json& values) {
  CallInput input;
  input.body = params.is_object() ? params : json::object();
  auto merged = merge_params(api.def.params, *api.schema, input);
  if (merged.errors.empty()) {
    values = std::move(merged.values);
    return std::nullopt;
  }
  json fields = json::array();
  for (const auto& error : merged.errors) fields.push_back({{"field", error.field}, {"message", error.message}});
  return Outcome::failure(400, "validation", "invalid_params",
                          "the parameters for the API '" + api.def.id + "' are not valid", json{{"fields", fields}});
}

}  // namespace

Outcome Runtime::call_nested(const ExecContext& outer, const std::string& id, const json& params,
                             std::chrono::steady_clock::time_point deadline) {
  const auto routes = table(outer.tenant, outer.stage);
  const CompiledApi* api = routes->by_id(id);
  if (api == nullptr) {
    return Outcome::failure(404, "workflow", "api_not_found",
                            "the API '" + id + "' does not exist in the " + outer.stage + " stage");
  }
  const auto caller = outer.sdk_caller();
  if (!api->def.is_public && outer.caller != nullptr && !host_.allowed(caller, "api.execute", id)) {
    return Outcome::failure(403, "permission", "forbidden", "the caller lacks the permission api.execute:" + id);
  }
  json values;
  if (auto refused = merge_object(*api, params, values)) return *refused;
  ExecContext inner = outer;
  inner.depth = outer.depth + 1;
  inner.steps = nullptr;
  inner.deadline = std::min(outer.deadline, deadline);
  inner.call_api = [this, &inner](const std::string& next, const json& next_params, std::chrono::steady_clock::time_point by) {
    return call_nested(inner, next, next_params, by);
  };
  return execute(*api, values, inner);
}

Outcome Runtime::run(const std::string& tenant, const std::string& stage, const CompiledApi& api,
                     const json& raw_params, const plexus_caller* caller, std::vector<StepRecord>* steps,
                     const std::string& request_id) {
  json values;
  if (auto refused = merge_object(api, raw_params, values)) return *refused;
  ExecContext context;
  context.host = &host_;
  context.tenant = tenant;
  context.caller = caller;
  context.request_id = request_id;
  context.stage = stage;
  context.steps = steps;
  context.call_api = [this, &context](const std::string& id, const json& params, std::chrono::steady_clock::time_point deadline) {
    return call_nested(context, id, params, deadline);
  };
  return execute(api, values, context);
}

}  // namespace plexus::api_manager
