// The host table's ABI 1.3 members: plugins' resource kinds and data-source drivers
// (adapted so every call into plugin code holds a lease of its generation), reads of
// the plugin's own resources, and queries on a tenant's datasources.
#include <utility>

#include <spdlog/logger.h>

#include "kernel/log/log.hpp"
#include "kernel/plugins/host_api_support.hpp"
#include "kernel/plugins/plugin_host.hpp"

namespace plexus::plugins {
namespace {

// Calls a plugin's content callback under a lease; throws (with what failed) when
// the plugin is gone or the callback fails, which the store reports to the client.
nlohmann::json call_plugin(const std::weak_ptr<Generation>& weak, plexus_content_fn fn, void* user_data,
                           const nlohmann::json& input, std::string_view what) {
  const auto generation = weak.lock();
  auto lease = generation ? generation->try_lease() : std::nullopt;
  if (!lease) throw std::runtime_error("the plugin that owns this kind is not running");
  std::string output;
  const auto status = fn(user_data, str(input.dump()), &append_to, &output);
  if (status != PLEXUS_OK) {
    throw std::runtime_error("plugin " + generation->name() + ": " + std::string(what) + " failed (status " +
                             std::to_string(status) + ")");
  }
  auto answer = nlohmann::json::parse(output, nullptr, false);
  if (!answer.is_array()) {
    throw std::runtime_error("plugin " + generation->name() + ": " + std::string(what) + " did not answer a JSON array");
  }
  return answer;
}

// The save hook (ABI 1.5): the plugin sees the caller as its routes and tools do, NULL
// when the server itself saves. Problems and a denial are answers; any other failure
// throws, its text logged rather than shown (it may hold the plugin's internals).
std::function<resources::SaveVerdict(const resources::SaveCheck&)> save_hook(std::weak_ptr<Generation> weak,
                                                                            plexus_resource_save_fn fn,
                                                                            void* user_data) {
  return [weak = std::move(weak), fn, user_data](const resources::SaveCheck& check) {
    const auto generation = weak.lock();
    auto lease = generation ? generation->try_lease() : std::nullopt;
    if (!lease) throw std::runtime_error("the plugin that owns this kind is not running");
    const nlohmann::json input = {{"tenant", check.tenant},       {"kind", check.kind},
                                  {"id", check.id},               {"operation", check.operation},
                                  {"content", check.content},     {"previous", check.previous}};
    std::optional<CallerView> caller;
    if (check.caller) caller.emplace(*check.caller);
    std::string output;
    const auto status = fn(user_data, caller ? &caller->raw : nullptr, str(input.dump()), &append_to, &output);
    resources::SaveVerdict verdict;
    if (status == PLEXUS_ERR_DENIED) {
      verdict.denied = output.empty() ? "plugin " + generation->name() + " refuses this save" : output;
      return verdict;
    }
    const auto failed = [&](const std::string& why) {
      log::get("plugin." + generation->name())
          ->error("check_save of kind '{}' for {}: {}: {}", check.kind, check.id, why, output);
      return std::runtime_error("plugin " + generation->name() + ": check_save " + why);
    };
    if (status != PLEXUS_OK) throw failed("failed (status " + std::to_string(status) + ")");
    const auto answer = nlohmann::json::parse(output, nullptr, false);
    if (!answer.is_array()) throw failed("did not answer a JSON array");
    for (const auto& item : answer) {
      verdict.problems.push_back({item.value("pointer", ""), item.value("message", "refused")});
    }
    return verdict;
  };
}

// NULL when the plugin's struct predates ABI 1.5 or sets none.
plexus_resource_save_fn save_fn_of(const plexus_resource_kind* raw) {
  return PLEXUS_HAS_MEMBER(raw, plexus_resource_kind, check_save) ? raw->check_save : nullptr;
}

resources::Kind kind_of(const std::shared_ptr<Generation>& generation, const plexus_resource_kind& raw,
                        nlohmann::json schema) {
  resources::Kind kind;
  kind.name = std::string(view(raw.name));
  kind.json_schema = std::move(schema);
  kind.permission_prefix = std::string(view(raw.permission_prefix));
  kind.requires_approval = (raw.flags & PLEXUS_KIND_REQUIRES_APPROVAL) != 0;
  if (raw.struct_size >= offsetof(plexus_resource_kind, route_prefix) + sizeof(raw.route_prefix)) {
    kind.route_prefix = view(raw.route_prefix);  // PLEXUS_HAS_MEMBER on a reference
  }
  std::weak_ptr<Generation> weak = generation;
  void* user_data = raw.user_data;
  if (auto fn = raw.validate) {
    kind.validator = [weak, fn, user_data](const nlohmann::json& content) {
      std::vector<resources::Problem> problems;
      for (const auto& item : call_plugin(weak, fn, user_data, content, "validate")) {
        problems.push_back({item.value("pointer", ""), item.value("message", "invalid")});
      }
      return problems;
    };
  }
  if (auto fn = raw.references) {
    kind.references = [weak, fn, user_data](const nlohmann::json& content) {
      std::vector<resources::ResourceRef> refs;
      for (const auto& item : call_plugin(weak, fn, user_data, content, "references")) {
        refs.push_back({item.value("kind", ""), item.value("id", "")});
      }
      return refs;
    };
  }
  if (auto fn = raw.pre_promotion) {
    kind.pre_promotion = [weak, fn, user_data](const resources::PromotionCheck& check) {
      const nlohmann::json input = {{"tenant", check.tenant}, {"kind", check.kind},   {"id", check.id},
                                    {"stage", check.stage},   {"revision", check.revision}, {"content", check.content}};
      std::vector<std::string> problems;
      for (const auto& item : call_plugin(weak, fn, user_data, input, "pre_promotion")) {
        problems.push_back(item.is_string() ? item.get<std::string>() : item.dump());
      }
      return problems;
    };
  }
  if (const auto fn = save_fn_of(&raw)) kind.check_save = save_hook(weak, fn, user_data);
  return kind;
}

// A kind's route_prefix (ABI 1.5): a literal path under the manifest's route prefixes,
// as route_add requires of the plugin's own routes. Empty is none.
plexus_status check_route_prefix(const Generation& generation, const std::string& kind, const std::string& prefix) {
  if (prefix.empty()) return PLEXUS_OK;
  const auto where = "resource kind '" + kind + "': route_prefix '" + prefix + "'";
  if (prefix.front() != '/' || prefix.back() == '/' || prefix.find("//") != std::string::npos ||
      prefix.find_first_of("{}* \t\r\n?#") != std::string::npos) {
    return fail(PLEXUS_ERR_INVALID, where + " must be a literal path such as /api/v1/" + generation.name() +
                                        "/things (no parameters, no trailing slash)");
  }
  const auto& prefixes = generation.manifest().route_prefixes;
  if (!route_allowed(prefix, prefixes)) {
    if (prefixes.empty()) {
      return fail(PLEXUS_ERR_DENIED, where + " is refused: the manifest permits no routes (permissions.routes: [])");
    }
    std::string listed;
    for (const auto& allowed : prefixes) listed += (listed.empty() ? "" : ", ") + allowed;
    return fail(PLEXUS_ERR_DENIED, where + " is outside the plugin's route prefix" +
                                       (prefixes.size() > 1 ? "es " : " ") + listed);
  }
  return PLEXUS_OK;
}

// A connection a plugin's driver opened: it keeps the generation loaded until closed.
class PluginConnection final : public datasources::Connection {
 public:
  PluginConnection(Lease lease, plexus_driver raw, void* handle)
      : lease_(std::move(lease)), raw_(raw), handle_(handle) {}
  ~PluginConnection() override {
    if (raw_.close) raw_.close(raw_.user_data, handle_);
  }
  datasources::Reply query(const datasources::Statement& statement) override { return run(raw_.query, statement); }
  datasources::Reply execute(const datasources::Statement& statement) override {
    return run(raw_.execute, statement);
  }
  datasources::Reply schema() override { return answer(raw_.schema); }
  datasources::Reply ping() override { return answer(raw_.ping); }

 private:
  using StatementFn = decltype(plexus_driver::query);
  using ReadFn = decltype(plexus_driver::schema);
  datasources::Reply run(StatementFn fn, const datasources::Statement& statement) {
    if (!fn) return {PLEXUS_ERR_INVALID, "the driver cannot do that"};
    const plexus_driver_query query{sizeof(plexus_driver_query), str(statement.sql), str(statement.params_json),
                                    statement.max_rows, statement.timeout_ms};
    datasources::Reply reply;
    reply.status = fn(raw_.user_data, handle_, &query, &append_to, &reply.text);
    return reply;
  }
  datasources::Reply answer(ReadFn fn) {
    if (!fn) return {PLEXUS_ERR_INVALID, "the driver cannot do that"};
    datasources::Reply reply;
    reply.status = fn(raw_.user_data, handle_, &append_to, &reply.text);
    return reply;
  }
  Lease lease_;
  plexus_driver raw_;
  void* handle_;
};

datasources::Driver driver_of(const std::shared_ptr<Generation>& generation, const plexus_driver& raw,
                              nlohmann::json options_schema) {
  datasources::Driver driver;
  driver.name = std::string(view(raw.name));
  driver.options_schema = std::move(options_schema);
  for (std::size_t i = 0; i < raw.secret_field_count; ++i) driver.secret_fields.emplace_back(view(raw.secret_fields[i]));
  // Only the function pointers and user_data are kept: the plugin's strings are borrowed.
  plexus_driver calls{};
  calls.struct_size = sizeof(plexus_driver);
  calls.user_data = raw.user_data;
  calls.open = raw.open;
  calls.close = raw.close;
  calls.query = raw.query;
  calls.execute = raw.execute;
  calls.schema = raw.schema;
  calls.ping = raw.ping;
  std::weak_ptr<Generation> weak = generation;
  driver.open = [weak, calls](const std::string& options, datasources::Reply& failure)
      -> std::unique_ptr<datasources::Connection> {
    const auto generation = weak.lock();
    auto lease = generation ? generation->try_lease() : std::nullopt;
    if (!lease) {
      failure = {PLEXUS_ERR_UNAVAILABLE, "the driver's plugin is not running"};
      return nullptr;
    }
    void* handle = nullptr;
    failure.text.clear();
    failure.status = calls.open(calls.user_data, str(options), &handle, &append_to, &failure.text);
    if (failure.status != PLEXUS_OK || !handle) {
      if (failure.status == PLEXUS_OK) failure.status = PLEXUS_ERR_INTERNAL;
      return nullptr;
    }
    return std::make_unique<PluginConnection>(std::move(*lease), calls, handle);
  };
  return driver;
}

// Empty text is "no schema"; anything else must be a JSON object.
bool schema_of(plexus_str text, nlohmann::json& schema) {
  if (text.len == 0) return true;
  schema = nlohmann::json::parse(view(text), nullptr, false);
  return schema.is_object();
}

resources::ResourceStore* store_of(Generation& generation) { return generation.host().options().resources; }
datasources::Datasources* datasources_of(Generation& generation) { return generation.host().options().datasources; }

// The kind must be one this plugin registered (it reads its own resources only).
plexus_status require_own_kind(Generation& generation, const std::string& kind) {
  auto* store = store_of(generation);
  if (!store) return fail(PLEXUS_ERR_UNAVAILABLE, "this host keeps no resources");
  const auto registered = store->kinds().find(kind);
  if (!registered) return fail(PLEXUS_ERR_NOT_FOUND, "there is no resource kind '" + kind + "'");
  if (registered->owner != generation.name()) {
    return fail(PLEXUS_ERR_DENIED, "resource kind '" + kind + "' belongs to " + registered->owner);
  }
  return PLEXUS_OK;
}

nlohmann::json shown_item(const resources::RegisteredKind& kind, const std::string& id,
                          const resources::Revision& revision) {
  return {{"kind", kind.kind.name},
          {"id", id},
          {"revision", revision.number},
          {"hash", revision.hash},
          {"author", revision.author},
          {"created_at", revision.created_at},
          {"content", kind.shown(revision.content)}};
}

template <class Call>
plexus_status on_datasource(plexus_host* host, plexus_str tenant, plexus_str name, plexus_write_fn write,
                            void* write_data, Call&& call) {
  auto* generation = generation_of(host);
  if (!generation || !write) return fail(PLEXUS_ERR_INVALID, "datasource call needs a host and a write callback");
  auto* datasources = datasources_of(*generation);
  if (!datasources) return fail(PLEXUS_ERR_UNAVAILABLE, "this host has no datasources");
  const std::string tenant_id(view(tenant)), datasource(view(name));
  if (tenant_id.empty() || datasource.empty()) return fail(PLEXUS_ERR_INVALID, "datasource call needs a tenant and a name");
  try {
    const auto reply = call(*datasources, tenant_id, datasource);
    if (!reply.ok()) return fail(reply.status, reply.text);
    write(write_data, str(reply.text));
    return PLEXUS_OK;
  } catch (const std::exception& e) {
    return fail(PLEXUS_ERR_INTERNAL, "datasource '" + datasource + "': " + e.what());
  }
}

datasources::Statement statement_of(const plexus_driver_query* query) {
  datasources::Statement statement;
  statement.sql = std::string(view(query->sql));
  if (query->params_json.len > 0) statement.params_json = std::string(view(query->params_json));
  statement.max_rows = query->max_rows;
  statement.timeout_ms = query->timeout_ms;
  return statement;
}

bool complete(const plexus_driver_query* query) {
  return PLEXUS_HAS_MEMBER(query, plexus_driver_query, timeout_ms) && query->sql.len > 0;
}

}  // namespace

plexus_status resource_kind_register(plexus_host* host, const plexus_resource_kind* kind) {
  auto* generation = generation_of(host);
  if (!generation || !PLEXUS_HAS_MEMBER(kind, plexus_resource_kind, user_data)) {
    return fail(PLEXUS_ERR_INVALID, "resource_kind_register: incomplete plexus_resource_kind");
  }
  if (!store_of(*generation)) return fail(PLEXUS_ERR_UNAVAILABLE, "this host keeps no resources");
  const std::string name(view(kind->name));
  if (!resources::is_kind_name(name)) {
    return fail(PLEXUS_ERR_INVALID, "resource kind name '" + name + "' must match [a-z][a-z0-9-]{0,63}");
  }
  nlohmann::json schema;
  if (!schema_of(kind->json_schema, schema)) {
    return fail(PLEXUS_ERR_INVALID, "resource kind '" + name + "': json_schema is not a JSON object");
  }
  const auto existing = store_of(*generation)->kinds().find(name);
  if (existing && existing->owner != generation->name()) {
    return fail(PLEXUS_ERR_CONFLICT, "resource kind '" + name + "' belongs to " + existing->owner);
  }
  auto registered_kind = kind_of(generation->shared_from_this(), *kind, std::move(schema));
  if (const auto status = check_route_prefix(*generation, name, registered_kind.route_prefix); status != PLEXUS_OK) {
    return status;
  }
  std::lock_guard lock(generation->mutex);
  for (const auto& registered : generation->kinds) {
    if (registered.name == name) return fail(PLEXUS_ERR_CONFLICT, "resource kind '" + name + "' is registered twice");
    if (!registered.route_prefix.empty() && registered.route_prefix == registered_kind.route_prefix) {
      return fail(PLEXUS_ERR_CONFLICT, "resource kind '" + name + "': route_prefix '" + registered.route_prefix +
                                           "' is already the one of resource kind '" + registered.name + "'");
    }
  }
  generation->kinds.push_back(std::move(registered_kind));
  return PLEXUS_OK;
}

plexus_status resource_get(plexus_host* host, plexus_str tenant, plexus_str kind, plexus_str id, plexus_str stage,
                           plexus_write_fn write, void* write_data) {
  auto* generation = generation_of(host);
  if (!generation || !write) return fail(PLEXUS_ERR_INVALID, "resource_get needs a host and a write callback");
  const std::string kind_name(view(kind)), resource_id(view(id));
  if (const auto status = require_own_kind(*generation, kind_name); status != PLEXUS_OK) return status;
  auto& store = *store_of(*generation);
  try {
    const auto revision = store.stored_revision(std::string(view(tenant)), kind_name, resource_id, view(stage));
    if (!revision) {
      return fail(PLEXUS_ERR_NOT_FOUND, kind_name + " '" + resource_id + "' has no " +
                                            (stage.len ? std::string(view(stage)) + " revision" : "live revision"));
    }
    write(write_data, str(shown_item(*store.kinds().find(kind_name), resource_id, *revision).dump()));
    return PLEXUS_OK;
  } catch (const std::exception& e) {
    return fail(PLEXUS_ERR_INVALID, std::string("resource_get: ") + e.what());
  }
}

plexus_status resource_list(plexus_host* host, plexus_str tenant, plexus_str kind, plexus_str stage,
                            plexus_write_fn write, void* write_data) {
  auto* generation = generation_of(host);
  if (!generation || !write) return fail(PLEXUS_ERR_INVALID, "resource_list needs a host and a write callback");
  const std::string kind_name(view(kind));
  if (const auto status = require_own_kind(*generation, kind_name); status != PLEXUS_OK) return status;
  auto& store = *store_of(*generation);
  try {
    const auto registered = store.kinds().find(kind_name);
    nlohmann::json items = nlohmann::json::array();
    for (const auto& [id, revision] : store.stored_revisions(std::string(view(tenant)), kind_name, view(stage))) {
      items.push_back(shown_item(*registered, id, revision));
    }
    write(write_data, str(items.dump()));
    return PLEXUS_OK;
  } catch (const std::exception& e) {
    return fail(PLEXUS_ERR_INVALID, std::string("resource_list: ") + e.what());
  }
}

plexus_status driver_register(plexus_host* host, const plexus_driver* driver) {
  auto* generation = generation_of(host);
  if (!generation || !PLEXUS_HAS_MEMBER(driver, plexus_driver, ping) || !driver->open || !driver->close ||
      !driver->query) {
    return fail(PLEXUS_ERR_INVALID, "driver_register: incomplete plexus_driver (open, close and query are required)");
  }
  auto* datasources = datasources_of(*generation);
  if (!datasources) return fail(PLEXUS_ERR_UNAVAILABLE, "this host has no datasources");
  const std::string name(view(driver->name));
  if (!resources::is_kind_name(name)) {
    return fail(PLEXUS_ERR_INVALID, "driver name '" + name + "' must match [a-z][a-z0-9-]{0,63}");
  }
  nlohmann::json schema;
  if (!schema_of(driver->options_schema, schema)) {
    return fail(PLEXUS_ERR_INVALID, "driver '" + name + "': options_schema is not a JSON object");
  }
  if (const auto existing = datasources->drivers().find(name); existing && existing->owner != generation->name()) {
    return fail(PLEXUS_ERR_CONFLICT, "driver '" + name + "' belongs to " + existing->owner);
  }
  std::lock_guard lock(generation->mutex);
  generation->drivers.push_back(driver_of(generation->shared_from_this(), *driver, std::move(schema)));
  return PLEXUS_OK;
}

plexus_status datasource_query(plexus_host* host, plexus_str tenant, plexus_str name, const plexus_driver_query* query,
                               plexus_write_fn write, void* write_data) {
  if (!complete(query)) return fail(PLEXUS_ERR_INVALID, "datasource_query needs a plexus_driver_query with sql");
  return on_datasource(host, tenant, name, write, write_data,
                       [query](datasources::Datasources& all, const std::string& t, const std::string& n) {
                         return all.query(t, n, statement_of(query));
                       });
}

plexus_status datasource_execute(plexus_host* host, plexus_str tenant, plexus_str name,
                                 const plexus_driver_query* query, plexus_write_fn write, void* write_data) {
  if (!complete(query)) return fail(PLEXUS_ERR_INVALID, "datasource_execute needs a plexus_driver_query with sql");
  return on_datasource(host, tenant, name, write, write_data,
                       [query](datasources::Datasources& all, const std::string& t, const std::string& n) {
                         return all.execute(t, n, statement_of(query));
                       });
}

plexus_status datasource_schema(plexus_host* host, plexus_str tenant, plexus_str name, plexus_write_fn write,
                                void* write_data) {
  return on_datasource(host, tenant, name, write, write_data,
                       [](datasources::Datasources& all, const std::string& t, const std::string& n) {
                         return all.schema(t, n);
                       });
}

}  // namespace plexus::plugins
