// Plexus driver SDK: data-source drivers ("connectors") in C++ over abi.h (ABI 1.3).
// Header only, C++17, nothing but the standard library, abi.h and plugin.hpp.
//
// A driver opens connections from a datasource's options; the kernel pools them and
// calls one method at a time per connection. Each method answers JSON text or throws
// plexus::sdk::Error(status, message); this layer turns that into the status and the
// message the ABI expects, so no exception crosses into the host.
//
//   class CsvConnector : public plexus::sdk::Plugin {
//    public:
//     void start() override {
//       driver_.name = "csv";
//       driver_.options_schema = R"({"type":"object","required":["path"],
//                                    "properties":{"path":{"type":"string"}}})";
//       driver_.open = [](std::string_view options_json) {
//         return std::make_unique<CsvConnection>(options_json);  // a plexus::sdk::Connection
//       };
//       plexus::sdk::register_driver(host(), driver_);
//     }
//
//    private:
//     plexus::sdk::Driver driver_;  // the host calls into it until the plugin stops
//   };
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "plexus/abi.h"
#include "plexus/plugin.hpp"

namespace plexus::sdk {

// One statement to run; the views are valid during the call only.
struct Query {
  std::string_view sql;          // ":name" placeholders; values are bound, never spliced
  std::string_view params_json;  // {"name": value, ...}; empty when the host sent none
  std::uint64_t max_rows = 0;    // rows beyond it are dropped and "truncated" set; 0: no limit
  std::uint64_t timeout_ms = 0;  // cancel the statement after it (PLEXUS_ERR_TIMEOUT); 0: no limit
};

// One open connection. The host calls one method at a time per connection, different
// connections concurrently. Each method answers JSON text in the shapes abi.h gives for
// plexus_driver, or throws Error with
//   PLEXUS_ERR_INVALID      bad SQL or parameters
//   PLEXUS_ERR_DENIED       a write on a read-only connection
//   PLEXUS_ERR_TIMEOUT      the statement ran longer than timeout_ms
//   PLEXUS_ERR_UNAVAILABLE  the database cannot be reached: the host drops the connection
// and a message that names what failed and never holds a secret (a password, the options).
class Connection {
 public:
  virtual ~Connection() = default;
  // {"columns":[{"name","type"}],"rows":[[...],...],"truncated":bool}
  virtual std::string query(const Query& query) = 0;
  // {"changed": n}
  virtual std::string execute(const Query& query) = 0;
  // {"tables":[{"name","type":"table"|"view","columns":[{"name","type","nullable","primary_key"}],
  //   "foreign_keys":[{"columns":[...],"table":"...","references":[...]}]}]}
  virtual std::string schema() = 0;
  // {"ok": true, ...details such as the server version}
  virtual std::string ping() = 0;
};

// What a driver offers. `open` receives the datasource's options as JSON text, secrets
// opened and "read_only" always set, and returns a connection or throws Error (usually
// PLEXUS_ERR_UNAVAILABLE or PLEXUS_ERR_INVALID; never quote the options in the message).
struct Driver {
  std::string name;                        // "sqlite", "postgres", ...
  std::string options_schema;              // JSON Schema of the options
  std::vector<std::string> secret_fields;  // option names sealed at rest and never shown
  std::function<std::unique_ptr<Connection>(std::string_view options_json)> open;
};

namespace detail {

inline void write_answer(plexus_write_fn write, void* write_data, std::string_view text) noexcept {
  if (write == nullptr) return;
  try {
    write(write_data, str(text));
  } catch (...) {  // a host callback should not throw; if it does, it stops here
  }
}

// The exception barrier of every driver call: the answer on success, else the status and
// the message of what was thrown.
template <class Fn>
plexus_status driver_call(const Driver& driver, plexus_write_fn write, void* write_data, Fn&& fn) noexcept {
  try {
    const std::string answer = fn();
    write_answer(write, write_data, answer);
    return PLEXUS_OK;
  } catch (const Error& e) {
    write_answer(write, write_data, e.what());
    return e.status() == PLEXUS_OK ? PLEXUS_ERR_INTERNAL : e.status();
  } catch (const std::exception& e) {
    try {
      write_answer(write, write_data, "driver " + driver.name + ": " + e.what());
    } catch (...) {
    }
  } catch (...) {
    write_answer(write, write_data, "driver failed with a non-standard exception");
  }
  return PLEXUS_ERR_INTERNAL;
}

inline const Driver& driver_of(void* user_data) { return *static_cast<const Driver*>(user_data); }
inline Connection& connection_of(void* connection) { return *static_cast<Connection*>(connection); }

// Members beyond the sender's struct_size keep their defaults: structs only grow.
inline Query query_of(const plexus_driver_query* raw) {
  if (raw == nullptr) throw Error(PLEXUS_ERR_INVALID, "no query given");
  Query query;
  if (PLEXUS_HAS_MEMBER(raw, plexus_driver_query, sql)) query.sql = view(raw->sql);
  if (PLEXUS_HAS_MEMBER(raw, plexus_driver_query, params_json)) query.params_json = view(raw->params_json);
  if (PLEXUS_HAS_MEMBER(raw, plexus_driver_query, max_rows)) query.max_rows = raw->max_rows;
  if (PLEXUS_HAS_MEMBER(raw, plexus_driver_query, timeout_ms)) query.timeout_ms = raw->timeout_ms;
  return query;
}

inline plexus_status driver_open(void* user_data, plexus_str options_json, void** out_connection,
                                 plexus_write_fn write, void* write_data) {
  const Driver& driver = driver_of(user_data);
  return driver_call(driver, write, write_data, [&] {
    if (out_connection == nullptr) throw Error(PLEXUS_ERR_INVALID, "no place for the connection");
    std::unique_ptr<Connection> connection = driver.open(view(options_json));
    if (!connection) throw Error(PLEXUS_ERR_INTERNAL, "driver " + driver.name + " opened no connection");
    *out_connection = connection.release();
    return std::string("{}");  // every call answers JSON on success; open has nothing to say
  });
}

inline void driver_close(void*, void* connection) { delete static_cast<Connection*>(connection); }

inline plexus_status driver_query(void* user_data, void* connection, const plexus_driver_query* query,
                                  plexus_write_fn write, void* write_data) {
  return driver_call(driver_of(user_data), write, write_data,
                     [&] { return connection_of(connection).query(query_of(query)); });
}

inline plexus_status driver_execute(void* user_data, void* connection, const plexus_driver_query* query,
                                    plexus_write_fn write, void* write_data) {
  return driver_call(driver_of(user_data), write, write_data,
                     [&] { return connection_of(connection).execute(query_of(query)); });
}

inline plexus_status driver_schema(void* user_data, void* connection, plexus_write_fn write,
                                   void* write_data) {
  return driver_call(driver_of(user_data), write, write_data,
                     [&] { return connection_of(connection).schema(); });
}

inline plexus_status driver_ping(void* user_data, void* connection, plexus_write_fn write, void* write_data) {
  return driver_call(driver_of(user_data), write, write_data,
                     [&] { return connection_of(connection).ping(); });
}

}  // namespace detail

// Makes `driver` available to every datasource naming it. The host keeps a pointer to
// `driver` and calls through it until the plugin stops, so it must outlive the plugin's
// registrations: keep it as a member of the plugin (a temporary does not compile).
// Throws Error when the host is older than ABI 1.3 or refuses the driver (a name taken).
inline void register_driver(Host& host, const Driver& driver) {
  const plexus_host_api* api = host.api();
  if (!PLEXUS_HAS_MEMBER(api, plexus_host_api, driver_register) || api->driver_register == nullptr) {
    throw Error(PLEXUS_ERR_UNAVAILABLE, "the host has no data-source drivers (ABI < 1.3)");
  }
  if (!driver.open) throw Error(PLEXUS_ERR_INVALID, "driver " + driver.name + " has no open function");
  std::vector<plexus_str> secret_fields;
  for (const auto& field : driver.secret_fields) secret_fields.push_back(str(field));
  // The callbacks only read the Driver; user_data is void* for C's sake.
  void* user_data = const_cast<Driver*>(&driver);
  const plexus_driver raw{sizeof(plexus_driver),   str(driver.name),       str(driver.options_schema),
                          secret_fields.data(),    secret_fields.size(),   user_data,
                          &detail::driver_open,    &detail::driver_close,  &detail::driver_query,
                          &detail::driver_execute, &detail::driver_schema, &detail::driver_ping};
  if (const plexus_status status = api->driver_register(host.raw(), &raw); status != PLEXUS_OK) {
    throw Error(status, std::string(view(api->last_error(host.raw()))));
  }
}
void register_driver(Host& host, Driver&& driver) = delete;  // the host would keep a dangling pointer

}  // namespace plexus::sdk
