#include "kernel/datasources/datasource_routes.hpp"

#include "kernel/datasources/datasource_kind.hpp"
#include "kernel/http/access.hpp"
#include "kernel/http/request_fields.hpp"

namespace plexus::datasources {
namespace {

using http::Request;
using http::Response;

constexpr std::size_t kMaxSql = 100'000;

const std::string& name_of(const Request& request) { return request.path_params.at("name"); }

std::uint64_t optional_count(const nlohmann::json& body, const std::string& field) {
  const auto it = body.find(field);
  if (it == body.end() || it->is_null()) return 0;
  if (!it->is_number_unsigned() || it->get<std::uint64_t>() == 0) {
    http::bad_field(field, field + " must be a positive integer");
  }
  return it->get<std::uint64_t>();
}

Statement statement_of(const Request& request, bool with_rows) {
  const auto body = http::object_body(request);
  Statement statement;
  statement.sql = http::required_string(body, "sql", kMaxSql);
  if (const auto params = body.find("params"); params != body.end() && !params->is_null()) {
    if (!params->is_object()) http::bad_field("params", "params must be an object of values by name");
    statement.params_json = params->dump();
  }
  if (with_rows) statement.max_rows = optional_count(body, "max_rows");
  statement.timeout_ms = optional_count(body, "timeout_ms");
  return statement;
}

Response answer(const Reply& reply) {
  if (!reply.ok()) return error_response(reply);
  return Response::json(200, nlohmann::json::parse(reply.text));
}

std::string_view outcome_of(const Reply& reply) {
  if (reply.ok()) return "success";
  return reply.status == PLEXUS_ERR_DENIED ? "denied" : "failure";
}

Response execute(Datasources& datasources, audit::AuditLog& audit, const Request& request) {
  const auto statement = statement_of(request, false);
  const auto& name = name_of(request);
  const auto reply = datasources.execute(request.caller->tenant, name, statement);
  auto event = audit::event_of(*request.caller, "datasource.execute", "datasource/" + name);
  event.outcome = std::string(outcome_of(reply));
  constexpr std::size_t kAuditedSql = 2000;
  event.details = {{"sql", statement.sql.substr(0, kAuditedSql)}};
  if (reply.ok()) {
    event.details["changed"] = nlohmann::json::parse(reply.text).value("changed", 0);
  } else {
    event.details["error"] = reply.text;
  }
  audit.record(std::move(event));
  return answer(reply);
}

Response list_datasources(resources::ResourceStore& store, const Request& request) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& [id, revision] : store.stored_revisions(request.caller->tenant, kDatasourceKind)) {
    const auto& content = revision.content;
    items.push_back({{"name", id},
                     {"driver", content.value("driver", "")},
                     {"read_only", content.value("read_only", true)},
                     {"description", content.value("description", "")},
                     {"revision", revision.number}});
  }
  return Response::json(200, {{"items", std::move(items)}});
}

Response list_drivers(Datasources& datasources) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& driver : datasources.drivers().list()) {
    items.push_back({{"name", driver->name},
                     {"plugin", driver->owner},
                     {"options_schema", driver->options_schema},
                     {"secret_fields", secret_fields_of(driver.get())}});
  }
  return Response::json(200, {{"items", std::move(items)}});
}

}  // namespace

Response error_response(const Reply& reply) {
  switch (reply.status) {
    case PLEXUS_ERR_NOT_FOUND: return Response::error(404, "not_found", reply.text);
    case PLEXUS_ERR_INVALID: return Response::error(400, "invalid_query", reply.text);
    case PLEXUS_ERR_DENIED: return Response::error(403, "read_only", reply.text);
    case PLEXUS_ERR_TIMEOUT: return Response::error(504, "timeout", reply.text);
    case PLEXUS_ERR_UNAVAILABLE: return Response::error(503, "datasource_unavailable", reply.text);
    default: return Response::error(502, "datasource_error", reply.text);
  }
}

void register_datasource_routes(http::Router& router, Datasources& datasources, resources::ResourceStore& store,
                                audit::AuditLog& audit) {
  auto route = [](std::string method, std::string pattern, http::Handler handler, std::string summary,
                  std::string permission) {
    return http::Route{std::move(method), std::move(pattern), std::move(handler), http::Surface::both, "kernel",
                       false, std::move(summary), std::move(permission)};
  };
  const std::string one = "/api/v1/datasources/{name}";
  router.add_all({
      route("GET", "/api/v1/datasources", [&store](Request& r) { return list_datasources(store, r); },
            "The caller's tenant's datasources (define them under /api/v1/resources/datasource)", "datasource.read"),
      route("GET", "/api/v1/datasources/drivers", [&datasources](Request&) { return list_drivers(datasources); },
            "Loaded data-source drivers with their options", "datasource.read"),
      route("POST", one + "/query",
            [&datasources](Request& r) {
              return answer(datasources.query(r.caller->tenant, name_of(r), statement_of(r, true)));
            },
            "Run a query with :name parameters; rows, columns, truncated", "datasource.execute:{name}"),
      route("POST", one + "/execute",
            [&datasources, &audit](Request& r) { return execute(datasources, audit, r); },
            "Run a statement without rows (refused on read-only datasources)", "datasource.execute:{name}"),
      route("GET", one + "/schema",
            [&datasources](Request& r) { return answer(datasources.schema(r.caller->tenant, name_of(r))); },
            "Tables, columns, types and keys", "datasource.read:{name}"),
      route("POST", one + "/ping",
            [&datasources](Request& r) { return answer(datasources.ping(r.caller->tenant, name_of(r))); },
            "Check the datasource answers", "datasource.read:{name}"),
  });
}

}  // namespace plexus::datasources
