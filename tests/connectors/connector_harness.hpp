// A connector plugin loaded as plexusd loads it: dlopen, the descriptor, create and start,
// against a host table of the test's own. The table answers what connectors call (log,
// last_error, config_get, plugin_info, plugin_generation, driver_register) and keeps the
// driver the plugin registers, which the tests then drive through the C ABI. Every log
// line and every answer of the driver also goes to <build>/test-logs, where the
// end-of-suite scan looks for recorded secrets (tests/log_scan.sh).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <plexus/abi.h>

namespace plexus::test {

struct DriverAnswer {
  plexus_status status = -1;  // -1: no call made
  std::string text;           // the JSON answer, or the driver's message on failure

  // The answer parsed; the test fails unless the call succeeded.
  nlohmann::json json() const;
};

class ConnectorPlugin {
 public:
  // Loads build/lib/plexus/libplexus_<plugin>.so and starts it with `config_json` as its
  // manifest config; the test fails unless it registers a driver.
  explicit ConnectorPlugin(const std::string& plugin,
                           const nlohmann::json& config = nlohmann::json::object());
  ~ConnectorPlugin();
  ConnectorPlugin(const ConnectorPlugin&) = delete;
  ConnectorPlugin& operator=(const ConnectorPlugin&) = delete;

  // The driver as registered; its strings are the host's copies.
  const plexus_driver& driver() const;
  std::vector<std::string> secret_fields() const;
  // Every line the plugin logged so far.
  std::vector<std::string> log() const;

  // driver.open with `options` as JSON; on success *connection is set.
  DriverAnswer open(const nlohmann::json& options, void** connection) const;
  void close(void* connection) const;
  // Keeps a driver answer in the test's log file, for the secret scan.
  void record(std::string_view call, const DriverAnswer& answer) const;

  struct Host;  // the fake host's state, also behind the plexus_host handle

 private:
  std::unique_ptr<Host> host_;
  void* library_ = nullptr;
  const plexus_plugin_descriptor* descriptor_ = nullptr;
  void* instance_ = nullptr;
};

// An open connection of a driver, closed on destruction.
class DriverConnection {
 public:
  // Opens with `options`; the test fails unless that succeeds.
  DriverConnection(ConnectorPlugin& plugin, const nlohmann::json& options);
  ~DriverConnection();
  DriverConnection(const DriverConnection&) = delete;
  DriverConnection& operator=(const DriverConnection&) = delete;

  DriverAnswer query(std::string_view sql, const nlohmann::json& params = nlohmann::json::object(),
                     std::uint64_t max_rows = 1000, std::uint64_t timeout_ms = 10000);
  DriverAnswer execute(std::string_view sql, const nlohmann::json& params = nlohmann::json::object(),
                       std::uint64_t timeout_ms = 10000);
  DriverAnswer schema();
  DriverAnswer ping();

 private:
  ConnectorPlugin& plugin_;
  void* connection_ = nullptr;
};

}  // namespace plexus::test
