#include "kernel/http/router.hpp"

#include <algorithm>
#include <stdexcept>

namespace plexus::http {
namespace {

struct Segment {
  enum class Kind { literal, param, rest } kind;
  std::string text;  // literal text or parameter name
};

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  std::size_t start = 1;  // skip the leading '/'
  while (start <= path.size()) {
    const auto slash = path.find('/', start);
    const auto end = slash == std::string_view::npos ? path.size() : slash;
    parts.push_back(path.substr(start, end - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return parts;
}

std::vector<Segment> compile(std::string_view pattern) {
  if (pattern.empty() || pattern.front() != '/') {
    throw std::invalid_argument("route pattern '" + std::string(pattern) + "' must start with '/'");
  }
  std::vector<Segment> segments;
  const auto parts = split_path(pattern);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto part = parts[i];
    if (part.size() >= 2 && part.front() == '{' && part.back() == '}') {
      auto name = part.substr(1, part.size() - 2);
      const bool rest = !name.empty() && name.back() == '*';
      if (rest) name.remove_suffix(1);
      if (name.empty() || name.find_first_of("{}/*") != std::string_view::npos) {
        throw std::invalid_argument("route pattern '" + std::string(pattern) + "' has a malformed parameter");
      }
      if (rest && i + 1 != parts.size()) {
        throw std::invalid_argument("route pattern '" + std::string(pattern) + "': {" + std::string(name) +
                                    "*} must be the last segment");
      }
      segments.push_back({rest ? Segment::Kind::rest : Segment::Kind::param, std::string(name)});
    } else if (part.find_first_of("{}") != std::string_view::npos) {
      throw std::invalid_argument("route pattern '" + std::string(pattern) + "' has a malformed segment");
    } else {
      segments.push_back({Segment::Kind::literal, std::string(part)});
    }
  }
  return segments;
}

bool matches(const std::vector<Segment>& segments, const std::vector<std::string_view>& parts,
             std::map<std::string, std::string>& params) {
  std::size_t i = 0;
  for (; i < segments.size(); ++i) {
    const auto& segment = segments[i];
    if (segment.kind == Segment::Kind::rest) {
      if (i >= parts.size()) return false;
      std::string rest;
      for (std::size_t j = i; j < parts.size(); ++j) {
        if (j > i) rest.push_back('/');
        rest.append(parts[j]);
      }
      if (rest.empty()) return false;
      params[segment.text] = std::move(rest);
      return true;
    }
    if (i >= parts.size()) return false;
    if (segment.kind == Segment::Kind::literal) {
      if (segment.text != parts[i]) return false;
    } else {
      if (parts[i].empty()) return false;
      params[segment.text] = std::string(parts[i]);
    }
  }
  return i == parts.size();
}

bool serves(Surface route, Surface listener) {
  return listener == Surface::both || route == Surface::both || route == listener;
}

}  // namespace

struct Router::Table {
  struct Entry {
    std::shared_ptr<const Route> route;
    std::vector<Segment> segments;
  };
  std::vector<Entry> entries;
};

void Router::insert(Table& table, Route route) {
  auto segments = compile(route.pattern);
  for (const auto& existing : table.entries) {
    if (existing.route->method == route.method && existing.route->pattern == route.pattern) {
      const auto& owner = existing.route->owner;
      throw std::invalid_argument("route " + route.method + " " + route.pattern +
                                  " is already registered by " +
                                  (owner == "kernel" ? std::string("the kernel") : "plugin " + owner));
    }
  }
  table.entries.push_back({std::make_shared<const Route>(std::move(route)), std::move(segments)});
}

Router::Router() : table_(std::make_shared<const Table>()) {}

std::shared_ptr<const Router::Table> Router::snapshot() const { return table_.load(std::memory_order_acquire); }

std::shared_ptr<Router::Table> Router::copy_for_change() const { return std::make_shared<Table>(*snapshot()); }

void Router::add(Route route) {
  std::vector<Route> one;
  one.push_back(std::move(route));
  add_all(std::move(one));
}

void Router::add_all(std::vector<Route> routes) {
  std::lock_guard lock(change_mutex_);
  auto table = copy_for_change();
  for (auto& route : routes) {
    insert(*table, std::move(route));
  }
  table_.store(std::move(table), std::memory_order_release);
}

std::size_t Router::remove_owner(std::string_view owner) {
  std::lock_guard lock(change_mutex_);
  auto table = copy_for_change();
  const auto removed =
      std::erase_if(table->entries, [&](const Table::Entry& entry) { return entry.route->owner == owner; });
  table_.store(std::move(table), std::memory_order_release);
  return removed;
}

void Router::replace_owner(std::string_view owner, std::vector<Route> routes) {
  std::lock_guard lock(change_mutex_);
  auto table = copy_for_change();
  std::erase_if(table->entries, [&](const Table::Entry& entry) { return entry.route->owner == owner; });
  for (auto& route : routes) {
    route.owner = std::string(owner);
    insert(*table, std::move(route));
  }
  table_.store(std::move(table), std::memory_order_release);
}

RouteMatch Router::match(std::string_view method, std::string_view path, Surface listener_surface) const {
  const auto table = snapshot();
  const auto parts = split_path(path);
  const std::string_view wanted = method == "HEAD" ? std::string_view("GET") : method;
  RouteMatch result;
  for (const auto& entry : table->entries) {
    if (!serves(entry.route->surface, listener_surface)) continue;
    std::map<std::string, std::string> params;
    if (!matches(entry.segments, parts, params)) continue;
    if (entry.route->method == wanted) {
      result.outcome = RouteMatch::Outcome::found;
      result.route = entry.route;
      result.params = std::move(params);
      return result;
    }
    result.outcome = RouteMatch::Outcome::method_not_allowed;
    result.allowed_methods.push_back(entry.route->method);
  }
  std::sort(result.allowed_methods.begin(), result.allowed_methods.end());
  result.allowed_methods.erase(std::unique(result.allowed_methods.begin(), result.allowed_methods.end()),
                               result.allowed_methods.end());
  return result;
}

std::vector<std::shared_ptr<const Route>> Router::routes() const {
  std::vector<std::shared_ptr<const Route>> result;
  for (const auto& entry : snapshot()->entries) result.push_back(entry.route);
  return result;
}

}  // namespace plexus::http
