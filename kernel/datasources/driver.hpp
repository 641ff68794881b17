// A data-source driver as the kernel sees it: a name, the options it takes, which of
// them are secrets, and a way to open connections. Connector plugins provide them
// through the host table (plexus_driver); tests can provide them directly.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "plexus/abi.h"

namespace plexus::datasources {

// One statement: ":name" placeholders in `sql`, values in `params_json`.
struct Statement {
  std::string sql;
  std::string params_json = "{}";
  std::uint64_t max_rows = 0;
  std::uint64_t timeout_ms = 0;
};

// A driver's answer: JSON text when ok, otherwise a message naming what failed
// (never a secret) and a status saying what kind of failure it is.
struct Reply {
  plexus_status status = PLEXUS_OK;
  std::string text;
  bool ok() const { return status == PLEXUS_OK; }
};

// One open connection; used by one call at a time.
class Connection {
 public:
  virtual ~Connection() = default;
  virtual Reply query(const Statement& statement) = 0;
  virtual Reply execute(const Statement& statement) = 0;
  virtual Reply schema() = 0;
  virtual Reply ping() = 0;
};

struct Driver {
  std::string name;
  std::string owner;  // the plugin that registered it
  nlohmann::json options_schema;
  std::vector<std::string> secret_fields;
  // Opens a connection with the datasource's options (secrets opened, "read_only"
  // always present); on failure returns null and fills `failure`.
  std::function<std::unique_ptr<Connection>(const std::string& options_json, Reply& failure)> open;
};

}  // namespace plexus::datasources
