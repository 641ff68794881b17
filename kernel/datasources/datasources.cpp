#include "kernel/datasources/datasources.hpp"

#include <algorithm>

#include "kernel/datasources/datasource_kind.hpp"
#include "kernel/secrets/sealed_fields.hpp"

namespace plexus::datasources {
namespace {

std::string_view operation_name(int operation) {
  static constexpr std::string_view names[] = {"query", "execute", "schema", "ping"};
  return names[operation];
}

std::string_view outcome_of(plexus_status status) {
  switch (status) {
    case PLEXUS_OK: return "ok";
    case PLEXUS_ERR_INVALID: return "invalid";
    case PLEXUS_ERR_DENIED: return "denied";
    case PLEXUS_ERR_TIMEOUT: return "timeout";
    case PLEXUS_ERR_UNAVAILABLE: return "unavailable";
    case PLEXUS_ERR_NOT_FOUND: return "not_found";
    default: return "error";
  }
}

Reply failure(plexus_status status, const std::string& name, const std::string& message) {
  return {status, "datasource '" + name + "': " + message};
}

// A requested limit, capped by the datasource's own (0: take the datasource's).
std::uint64_t capped(std::uint64_t requested, std::uint64_t limit) {
  return requested == 0 ? limit : std::min(requested, limit);
}

}  // namespace

Datasources::Datasources(resources::ResourceStore& store, secrets::SecretBox box, Limits limits,
                         metrics::Registry& metrics)
    : store_(store),
      box_(std::move(box)),
      limits_(limits),
      pool_(limits.idle_connections,
            [this](const std::shared_ptr<const Driver>& driver) { return drivers_.find(driver->name) == driver; }),
      calls_(metrics.counter("plexus_datasource_calls_total", "Calls to datasources by driver, operation and outcome.",
                             {"driver", "operation", "outcome"})),
      durations_(metrics.histogram("plexus_datasource_call_duration_seconds",
                                   "Time datasource calls take, connecting included.", {"driver", "operation"})) {
  drivers_.on_change([this](const std::string& driver) { pool_.drop_driver(driver); });
  store_.kinds().add(datasource_kind(drivers_, box_));
  // Saves and deletions on this node reach the resolve cache as they commit.
  listener_ = store_.add_change_listener([this](const resources::ResourceChange& change) {
    if (change.kind == kDatasourceKind) forget(change.tenant, change.id);
  });
}

Datasources::~Datasources() {
  store_.remove_change_listener(listener_);
  store_.kinds().remove(kDatasourceKind);
}

Reply Datasources::query(const std::string& tenant, const std::string& name, Statement statement) {
  return run(tenant, name, Operation::query, std::move(statement));
}
Reply Datasources::execute(const std::string& tenant, const std::string& name, Statement statement) {
  return run(tenant, name, Operation::execute, std::move(statement));
}
Reply Datasources::schema(const std::string& tenant, const std::string& name) {
  return run(tenant, name, Operation::schema, {});
}
Reply Datasources::ping(const std::string& tenant, const std::string& name) {
  return run(tenant, name, Operation::ping, {});
}

void Datasources::apply_limits(const nlohmann::json& content, Statement& statement) const {
  const auto max_rows = std::min<std::uint64_t>(content.value("max_rows", limits_.max_rows), limits_.max_rows);
  statement.max_rows = capped(statement.max_rows, max_rows);
  statement.timeout_ms = capped(statement.timeout_ms, content.value("timeout_ms", limits_.timeout_ms));
}

void Datasources::forget(const std::string& tenant, const std::string& name) {
  std::lock_guard lock(resolved_mutex_);
  resolved_.erase(tenant + "/" + name);
}

std::shared_ptr<const resources::Revision> Datasources::resolve(const std::string& tenant, const std::string& name) {
  const auto key = tenant + "/" + name;
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(resolved_mutex_);
    if (const auto it = resolved_.find(key); it != resolved_.end() && now - it->second.loaded < kResolveTtl) {
      return it->second.revision;
    }
  }
  auto stored = store_.stored_revision(tenant, kDatasourceKind, name);
  if (!stored) {
    forget(tenant, name);
    return nullptr;
  }
  auto revision = std::make_shared<const resources::Revision>(std::move(*stored));
  std::lock_guard lock(resolved_mutex_);
  resolved_[key] = {revision, now};
  return revision;
}

Reply Datasources::run(const std::string& tenant, const std::string& name, Operation operation,
                       Statement statement) {
  const auto stored = resolve(tenant, name);
  if (!stored) return failure(PLEXUS_ERR_NOT_FOUND, name, "no such datasource");
  const auto& content = stored->content;
  const auto driver_name = content.value("driver", "");
  const auto driver = drivers_.find(driver_name);
  if (!driver) {
    return failure(PLEXUS_ERR_UNAVAILABLE, name,
                   "driver '" + driver_name + "' is not loaded; enable its connector plugin");
  }
  apply_limits(content, statement);

  const auto started = std::chrono::steady_clock::now();
  const PoolKey key{tenant + "/" + name, stored->hash, driver};
  auto connection = pool_.take(key);
  Reply reply;
  if (!connection) {
    auto options = content;
    try {
      secrets::open_fields(options, box_, seal_context(tenant, name));
    } catch (const std::exception&) {
      // Sealed with another key (store.secret_key changed) or tampered with.
      return failure(PLEXUS_ERR_UNAVAILABLE, name, "its secrets cannot be opened with this server's store key");
    }
    options["read_only"] = content.value("read_only", true);
    for (const auto* key_name : {"driver", "description", "max_rows", "timeout_ms"}) options.erase(key_name);
    connection = driver->open(options.dump(), reply);
    if (!connection) {
      reply = failure(reply.ok() ? PLEXUS_ERR_UNAVAILABLE : reply.status, name,
                      reply.text.empty() ? "cannot connect" : reply.text);
    }
  }
  if (connection) {
    switch (operation) {
      case Operation::query: reply = connection->query(statement); break;
      case Operation::execute: reply = connection->execute(statement); break;
      case Operation::schema: reply = connection->schema(); break;
      case Operation::ping: reply = connection->ping(); break;
    }
    if (!reply.ok()) reply = failure(reply.status, name, reply.text);
    // A connection that lost its database is not worth keeping.
    if (reply.status != PLEXUS_ERR_UNAVAILABLE) pool_.give_back(key, std::move(connection));
  }
  const auto op = operation_name(static_cast<int>(operation));
  calls_.with({driver->name, std::string(op), std::string(outcome_of(reply.status))}).inc();
  durations_.with({driver->name, std::string(op)})
      .observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  return reply;
}

}  // namespace plexus::datasources
