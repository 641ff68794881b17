// The route table: method + path pattern -> handler. Patterns are literal segments,
// `{name}` (one segment) and a final `{name*}` (the rest of the path). The table is
// an immutable snapshot swapped atomically, so a plugin reload replaces its routes
// while requests keep matching against a consistent table.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "kernel/http/message.hpp"

namespace plexus::http {

// Which listener serves a route when the console has a port of its own (COM-14).
enum class Surface { api, console, both };

struct Route {
  std::string method;   // "GET", "POST", ...
  std::string pattern;  // "/api/v1/hello/{name}"
  Handler handler;
  Surface surface = Surface::api;
  std::string owner = "kernel";  // who registered it: "kernel" or a plugin name
  // The handler never blocks, so it runs on the I/O thread and skips the hand-off
  // to the worker pool. Anything that may wait (database, network, locks) must not set it.
  bool non_blocking = false;
  std::string summary;  // one line for the OpenAPI document
  // Who may call it: kPublic, kAuthenticated or a permission string, where "{name}"
  // stands for a path parameter ("api.execute:{id}"). Empty denies every caller.
  std::string permission;
};

struct RouteMatch {
  enum class Outcome { found, not_found, method_not_allowed } outcome = Outcome::not_found;
  std::shared_ptr<const Route> route;
  std::map<std::string, std::string> params;
  std::vector<std::string> allowed_methods;  // for 405
};

class Router {
 public:
  Router();
  // Throws std::invalid_argument for a malformed pattern or a duplicate method+pattern.
  void add(Route route);
  // Adds several routes in one swap (all or none).
  void add_all(std::vector<Route> routes);
  // Removes every route of `owner`, in one swap; returns how many.
  std::size_t remove_owner(std::string_view owner);
  // Replaces the routes of `owner` with `routes` in one swap.
  void replace_owner(std::string_view owner, std::vector<Route> routes);

  // `path` is already percent-decoded. HEAD matches GET routes.
  RouteMatch match(std::string_view method, std::string_view path, Surface listener_surface) const;
  std::vector<std::shared_ptr<const Route>> routes() const;

 private:
  struct Table;
  std::shared_ptr<const Table> snapshot() const;
  std::shared_ptr<Table> copy_for_change() const;  // caller holds change_mutex_
  static void insert(Table& table, Route route);

  std::atomic<std::shared_ptr<const Table>> table_;
  std::mutex change_mutex_;  // serialises writers; readers never wait on it
};

}  // namespace plexus::http
