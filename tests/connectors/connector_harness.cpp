#include "tests/connectors/connector_harness.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <fstream>
#include <mutex>
#include <optional>

#include <catch2/catch.hpp>

#include "tests/support/plexusd_process.hpp"  // test_log_dir

// The handle the plugin passes back with every host call: the fake host's state.
struct plexus_host {
  plexus::test::ConnectorPlugin::Host* self;
};

namespace plexus::test {

struct ConnectorPlugin::Host {
  plexus_host handle{this};
  plexus_host_api api{};
  std::string plugin;
  std::string config_json;
  std::string log_file;

  mutable std::mutex mutex;  // plugins may log from any thread
  std::vector<std::string> log;

  // The registered driver, its strings copied: the plugin's are borrowed for the call only.
  std::optional<plexus_driver> driver;
  std::string driver_name;
  std::string driver_schema;
  std::vector<std::string> secret_names;
  std::vector<plexus_str> secret_strs;

  void append_to_file(const std::string& line) const {
    std::ofstream out(log_file, std::ios::app);
    out << line << '\n';
  }
};

namespace {

thread_local std::string last_error;

ConnectorPlugin::Host& host_of(plexus_host* handle) { return *handle->self; }
std::string text(plexus_str s) { return s.ptr ? std::string(s.ptr, s.len) : std::string(); }
plexus_str str(const std::string& s) { return plexus_str{s.data(), s.size()}; }
void append(void* target, plexus_str data) { static_cast<std::string*>(target)->append(data.ptr, data.len); }

plexus_str host_last_error(plexus_host*) { return str(last_error); }

void host_log(plexus_host* handle, int32_t level, plexus_str message) {
  auto& host = host_of(handle);
  const std::string line = "[log " + std::to_string(level) + "] " + text(message);
  std::lock_guard lock(host.mutex);
  host.log.push_back(text(message));
  host.append_to_file(line);
}

plexus_status host_config_get(plexus_host* handle, plexus_write_fn write, void* write_data) {
  write(write_data, str(host_of(handle).config_json));
  return PLEXUS_OK;
}

plexus_status host_plugin_info(plexus_host* handle, plexus_write_fn write, void* write_data) {
  const std::string info = nlohmann::json{{"name", host_of(handle).plugin}, {"generation", 1}}.dump();
  write(write_data, str(info));
  return PLEXUS_OK;
}

uint64_t host_plugin_generation(plexus_host*) { return 1; }

plexus_status host_driver_register(plexus_host* handle, const plexus_driver* driver) {
  auto& host = host_of(handle);
  if (host.driver) {
    last_error = "a driver is registered already";
    return PLEXUS_ERR_CONFLICT;
  }
  if (!PLEXUS_HAS_MEMBER(driver, plexus_driver, ping)) {
    last_error = "the driver struct is too short";
    return PLEXUS_ERR_INVALID;
  }
  host.driver_name = text(driver->name);
  host.driver_schema = text(driver->options_schema);
  for (std::size_t i = 0; i < driver->secret_field_count; ++i) {
    host.secret_names.push_back(text(driver->secret_fields[i]));
  }
  for (const auto& name : host.secret_names) host.secret_strs.push_back(str(name));
  plexus_driver copy = *driver;
  copy.name = str(host.driver_name);
  copy.options_schema = str(host.driver_schema);
  copy.secret_fields = host.secret_strs.data();
  host.driver = copy;
  return PLEXUS_OK;
}

std::string library_path(const std::string& plugin) {
  std::string file = "libplexus_" + plugin + ".so";
  for (char& c : file) {
    if (c == '-') c = '_';
  }
  return std::string(PLEXUS_PLUGIN_DIR) + "/" + file;
}

}  // namespace

nlohmann::json DriverAnswer::json() const {
  INFO("driver answer: " << text);
  REQUIRE(status == PLEXUS_OK);
  return nlohmann::json::parse(text);
}

ConnectorPlugin::ConnectorPlugin(const std::string& plugin, const nlohmann::json& config)
    : host_(std::make_unique<Host>()) {
  host_->plugin = plugin;
  host_->config_json = config.dump();
  host_->log_file =
      (test_log_dir() / ("connector-" + plugin + "-" + std::to_string(::getpid()) + ".log")).string();

  // Only what connectors use is set; every other member stays NULL.
  plexus_host_api& api = host_->api;
  api.struct_size = sizeof(plexus_host_api);
  api.abi_major = PLEXUS_ABI_MAJOR;
  api.abi_minor = PLEXUS_ABI_MINOR;  // the host of the SDK the connectors were built with
  api.last_error = &host_last_error;
  api.log = &host_log;
  api.config_get = &host_config_get;
  api.plugin_info = &host_plugin_info;
  api.plugin_generation = &host_plugin_generation;
  api.driver_register = &host_driver_register;

  const std::string path = library_path(plugin);
  library_ = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  INFO("dlopen " << path << ": " << (library_ ? "ok" : ::dlerror()));
  REQUIRE(library_ != nullptr);
  auto entry = reinterpret_cast<plexus_plugin_entry_fn>(::dlsym(library_, PLEXUS_PLUGIN_ENTRY_SYMBOL));
  REQUIRE(entry != nullptr);
  descriptor_ = entry();
  REQUIRE(descriptor_ != nullptr);
  REQUIRE(std::string(descriptor_->name) == plugin);
  REQUIRE(descriptor_->create(&host_->api, &host_->handle, &instance_) == PLEXUS_OK);
  const plexus_status started = descriptor_->start(instance_);
  INFO("plugin log: " << nlohmann::json(log()).dump());
  REQUIRE(started == PLEXUS_OK);
  REQUIRE(host_->driver.has_value());
}

ConnectorPlugin::~ConnectorPlugin() {
  if (instance_ != nullptr) {
    descriptor_->stop(instance_);
    descriptor_->destroy(instance_);
  }
  if (library_ != nullptr) ::dlclose(library_);
}

const plexus_driver& ConnectorPlugin::driver() const { return *host_->driver; }
std::vector<std::string> ConnectorPlugin::secret_fields() const { return host_->secret_names; }

std::vector<std::string> ConnectorPlugin::log() const {
  std::lock_guard lock(host_->mutex);
  return host_->log;
}

void ConnectorPlugin::record(std::string_view call, const DriverAnswer& answer) const {
  host_->append_to_file("[" + std::string(call) + " " + std::to_string(answer.status) + "] " + answer.text);
}

DriverAnswer ConnectorPlugin::open(const nlohmann::json& options, void** connection) const {
  const plexus_driver& d = driver();
  const std::string options_json = options.dump();
  DriverAnswer answer;
  answer.status = d.open(d.user_data, str(options_json), connection, &append, &answer.text);
  record("open", answer);
  return answer;
}

void ConnectorPlugin::close(void* connection) const { driver().close(driver().user_data, connection); }

DriverConnection::DriverConnection(ConnectorPlugin& plugin, const nlohmann::json& options) : plugin_(plugin) {
  const DriverAnswer opened = plugin.open(options, &connection_);
  INFO("open: " << opened.text);
  REQUIRE(opened.status == PLEXUS_OK);
  REQUIRE(connection_ != nullptr);
}

DriverConnection::~DriverConnection() { plugin_.close(connection_); }

DriverAnswer DriverConnection::query(std::string_view sql, const nlohmann::json& params,
                                     std::uint64_t max_rows, std::uint64_t timeout_ms) {
  const plexus_driver& d = plugin_.driver();
  const std::string params_json = params.dump();
  const plexus_driver_query q{sizeof(plexus_driver_query), plexus_str{sql.data(), sql.size()},
                              str(params_json), max_rows, timeout_ms};
  DriverAnswer answer;
  answer.status = d.query(d.user_data, connection_, &q, &append, &answer.text);
  plugin_.record("query", answer);
  return answer;
}

DriverAnswer DriverConnection::execute(std::string_view sql, const nlohmann::json& params,
                                       std::uint64_t timeout_ms) {
  const plexus_driver& d = plugin_.driver();
  const std::string params_json = params.dump();
  const plexus_driver_query q{sizeof(plexus_driver_query), plexus_str{sql.data(), sql.size()},
                              str(params_json), 0, timeout_ms};
  DriverAnswer answer;
  answer.status = d.execute(d.user_data, connection_, &q, &append, &answer.text);
  plugin_.record("execute", answer);
  return answer;
}

DriverAnswer DriverConnection::schema() {
  const plexus_driver& d = plugin_.driver();
  DriverAnswer answer;
  answer.status = d.schema(d.user_data, connection_, &append, &answer.text);
  plugin_.record("schema", answer);
  return answer;
}

DriverAnswer DriverConnection::ping() {
  const plexus_driver& d = plugin_.driver();
  DriverAnswer answer;
  answer.status = d.ping(d.user_data, connection_, &append, &answer.text);
  plugin_.record("ping", answer);
  return answer;
}

}  // namespace plexus::test
