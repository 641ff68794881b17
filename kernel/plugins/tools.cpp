// Tools over REST and for plugins (docs/tools.md): one path, PluginHost::call_tool,
// checks the tool's permission and its input schema for the caller, runs the
// handler on a plugin worker under a lease with a timeout, then audits and counts
// the call. Also the admin listing of plugin services.
#include <future>

#include <spdlog/logger.h>

#include "kernel/http/access.hpp"
#include "kernel/log/log.hpp"
#include "kernel/plugins/plugin_host.hpp"
#include "kernel/plugins/runtime.hpp"

namespace plexus::plugins {
namespace {

std::string_view outcome_name(ToolCall::Outcome outcome) {
  switch (outcome) {
    case ToolCall::Outcome::ok: return "ok";
    case ToolCall::Outcome::not_found: return "not_found";
    case ToolCall::Outcome::invalid: return "invalid";
    case ToolCall::Outcome::denied: return "denied";
    case ToolCall::Outcome::timeout: return "timeout";
    case ToolCall::Outcome::unavailable: return "unavailable";
    case ToolCall::Outcome::failed: return "failed";
  }
  return "failed";
}

// What the tool's own non-OK status means for its caller.
ToolCall::Outcome outcome_of(plexus_status status) {
  switch (status) {
    case PLEXUS_ERR_INVALID: return ToolCall::Outcome::invalid;
    case PLEXUS_ERR_NOT_FOUND: return ToolCall::Outcome::not_found;
    case PLEXUS_ERR_DENIED: return ToolCall::Outcome::denied;
    case PLEXUS_ERR_TIMEOUT: return ToolCall::Outcome::timeout;
    case PLEXUS_ERR_UNAVAILABLE: return ToolCall::Outcome::unavailable;
    default: return ToolCall::Outcome::failed;
  }
}

bool permitted(const auth::Caller& caller, const std::string& permission) {
  if (caller.anonymous()) return false;  // a tool always runs for someone
  if (permission == http::kAuthenticated || permission == http::kPublic) return true;
  return caller.can(permission);
}

nlohmann::json describe(const Tool& tool) {
  auto schema =
      nlohmann::json::parse(tool.input_schema_json.empty() ? "{}" : tool.input_schema_json, nullptr, false);
  return {{"name", tool.name},
          {"description", tool.description},
          {"input_schema", schema.is_discarded() ? nlohmann::json::object() : schema},
          {"plugin", tool.owner},
          {"permission", tool.permission}};
}

}  // namespace

ToolCall PluginHost::call_tool(const auth::Caller& caller, std::string_view name, std::string_view input,
                               std::chrono::milliseconds timeout, const std::string& via) {
  ToolCall result;
  const auto tool = tools_.find(name);
  auto finish = [&](ToolCall::Outcome outcome, std::string message) {
    result.outcome = outcome;
    if (outcome != ToolCall::Outcome::ok) result.message = std::move(message);
    const std::string tool_label = tool ? tool->name : std::string("(unknown)");
    metrics_.counter("plexus_tool_calls_total", "Tool calls, by tool and outcome.", {"tool", "outcome"})
        .with({tool_label, std::string(outcome_name(outcome))})
        .inc();
    // The input is not recorded: a tool's arguments may hold secrets or personal data.
    if (tool && options_.audit) {
      nlohmann::json details{{"plugin", tool->owner},
                             {"via", via},
                             {"result", outcome_name(outcome)},
                             {"input_bytes", input.size()}};
      if (outcome != ToolCall::Outcome::ok) details["message"] = result.message;
      const char* audited = outcome == ToolCall::Outcome::ok       ? "success"
                            : outcome == ToolCall::Outcome::denied ? "denied"
                                                                   : "failure";
      try {
        options_.audit(&caller, "kernel",
                       {{"action", "tool.call"},
                        {"target", "tool/" + tool->name},
                        {"outcome", audited},
                        {"details", std::move(details)}});
      } catch (const std::exception& e) {
        log::get("plugins")->error("tool {}: cannot write the audit row: {}", tool->name, e.what());
      }
    }
    return std::move(result);
  };
  if (!tool) return finish(ToolCall::Outcome::not_found, "no tool '" + std::string(name) + "'");
  result.plugin = tool->owner;
  if (!permitted(caller, tool->permission)) {
    return finish(ToolCall::Outcome::denied,
                  "calling tool '" + tool->name + "' needs the permission " + tool->permission);
  }
  const auto parsed = nlohmann::json::parse(input.empty() ? std::string_view("{}") : input, nullptr, false);
  if (parsed.is_discarded()) {
    result.details = {{"field", "input"}};
    return finish(ToolCall::Outcome::invalid, "the input of tool '" + tool->name + "' is not valid JSON");
  }
  if (tool->schema) {
    const auto problems = tool->schema->problems(parsed);
    if (!problems.empty()) {
      nlohmann::json listed = nlohmann::json::array();
      for (const auto& problem : problems)
        listed.push_back({{"pointer", problem.pointer}, {"message", problem.message}});
      const auto& first = problems.front();
      result.details = {{"field", first.pointer.empty() ? std::string("input") : first.pointer},
                        {"problems", std::move(listed)}};
      return finish(ToolCall::Outcome::invalid,
                    "invalid input for tool '" + tool->name + "': " +
                        (first.pointer.empty() ? std::string() : first.pointer + ": ") + first.message);
    }
  }

  struct Outcome {
    plexus_status status = PLEXUS_ERR_INTERNAL;
    std::string output;
    std::string failure;  // an exception escaped the plugin (no SDK barrier)
  };
  // Everything the worker uses is owned by the task, so a late answer after a timeout
  // lands in a promise nobody waits on; the lease inside `call` keeps the code loaded.
  auto promise = std::make_shared<std::promise<Outcome>>();
  auto future = promise->get_future();
  http::net::post(runtime_->workers,
                  [tool, who = caller, text = std::string(input.empty() ? "{}" : input), promise] {
                    Outcome outcome;
                    try {
                      outcome.status = tool->call(who, text, outcome.output);
                    } catch (const std::exception& e) {
                      outcome.failure = e.what();
                    } catch (...) {
                      outcome.failure = "non-standard exception";
                    }
                    promise->set_value(std::move(outcome));
                  });
  const auto limit = timeout.count() > 0 ? timeout : options_.tool_timeout;
  if (future.wait_for(limit) != std::future_status::ready) {
    return finish(ToolCall::Outcome::timeout,
                  "tool '" + tool->name + "' did not answer within " + std::to_string(limit.count()) + " ms");
  }
  auto outcome = future.get();
  if (outcome.status == PLEXUS_OK && outcome.failure.empty()) {
    if (!nlohmann::json::accept(outcome.output)) {
      log::get("plugin." + tool->owner)->error("tool {} answered with text that is not JSON", tool->name);
      return finish(ToolCall::Outcome::failed, "tool '" + tool->name + "' answered with invalid JSON");
    }
    result.output = std::move(outcome.output);
    return finish(ToolCall::Outcome::ok, {});
  }
  const auto kind = outcome.failure.empty() ? outcome_of(outcome.status) : ToolCall::Outcome::failed;
  if (kind == ToolCall::Outcome::failed) {
    // Internal details go to the log, not to the caller.
    log::get("plugin." + tool->owner)
        ->error("tool {} failed: {}", tool->name,
                !outcome.failure.empty()
                    ? outcome.failure
                    : "status " + std::to_string(outcome.status) +
                          (outcome.output.empty() ? std::string() : ": " + outcome.output));
    return finish(kind, "tool '" + tool->name + "' of plugin " + tool->owner + " failed");
  }
  // The tool's own refusal (bad input, not allowed, nothing found): its message is for the caller.
  return finish(kind, outcome.output.empty()
                          ? "tool '" + tool->name + "' answered " + std::string(outcome_name(kind))
                          : outcome.output);
}

void PluginHost::register_tool_routes(http::Router& router) {
  auto list = [this](http::Request&) {
    nlohmann::json items = nlohmann::json::array();
    for (const auto& tool : tools_.list()) items.push_back(describe(*tool));
    return http::Response::json(200, {{"items", std::move(items)}});
  };
  auto get = [this](http::Request& request) {
    const auto& name = request.path_params.at("name");
    const auto tool = tools_.find(name);
    if (!tool) throw http::HttpError(404, "not_found", "no tool '" + name + "'");
    return http::Response::json(200, describe(*tool));
  };
  auto call = [this](http::Request& request) {
    const auto& name = request.path_params.at("name");
    static const auth::Caller nobody;
    const auto result = call_tool(request.caller ? *request.caller : nobody, name, request.body,
                                  std::chrono::milliseconds(0), "rest");
    switch (result.outcome) {
      case ToolCall::Outcome::ok: {
        http::Response response;
        response.status = 200;
        response.headers.set("Content-Type", "application/json");
        response.body = result.output;
        return response;
      }
      case ToolCall::Outcome::not_found:
        // Unknown tool, or the tool found nothing: both are a 404 naming what is missing.
        throw http::HttpError(404, "not_found", result.message);
      case ToolCall::Outcome::invalid:
        throw http::HttpError(400, "invalid_input", result.message, result.details);
      case ToolCall::Outcome::denied: throw http::HttpError(403, "forbidden", result.message);
      case ToolCall::Outcome::timeout: throw http::HttpError(504, "tool_timeout", result.message);
      case ToolCall::Outcome::unavailable: throw http::HttpError(503, "tool_unavailable", result.message);
      case ToolCall::Outcome::failed: break;
    }
    throw http::HttpError(502, "tool_failed", result.message);
  };
  auto services = [this](http::Request&) {
    nlohmann::json items = nlohmann::json::array();
    for (const auto& service : services_.list())
      items.push_back({{"name", service->name}, {"plugin", service->owner}});
    return http::Response::json(200, {{"items", std::move(items)}});
  };
  auto route = [](std::string method, std::string pattern, http::Handler handler, std::string summary,
                  std::string permission) {
    return http::Route{
        std::move(method),  std::move(pattern),   std::move(handler), http::Surface::both, "kernel", false,
        std::move(summary), std::move(permission)};
  };
  router.add_all({
      route("GET", "/api/v1/tools", list,
            "Every tool plugins registered: name, description, input schema, plugin", "tools.read"),
      route("GET", "/api/v1/tools/{name}", get, "One tool", "tools.read"),
      // The tool's own permission is checked by call_tool, for this caller.
      route("POST", "/api/v1/tools/{name}/call", call,
            "Call a tool with the caller's permissions; the body is the tool's input",
            std::string(http::kAuthenticated)),
      route("GET", "/api/v1/admin/services", services, "Services plugins registered: name and plugin",
            "admin.plugins.view"),
  });
}

}  // namespace plexus::plugins
