#include "kernel/store/postgres_url.hpp"

#include <set>
#include <stdexcept>
#include <vector>

namespace plexus::store {
namespace {

// Errors name the part of the URL, never its text: a misplaced character of the password can
// shift it into any other part.
[[noreturn]] void invalid(const std::string& what) {
  throw std::invalid_argument("invalid PostgreSQL URL: " + what);
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view text, const std::string& part) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    const int high = i + 2 < text.size() ? hex_digit(text[i + 1]) : -1;
    const int low = i + 2 < text.size() ? hex_digit(text[i + 2]) : -1;
    if (high < 0 || low < 0)
      invalid("the " + part + " has a '%' not followed by two hex digits (write '%' as %25)");
    if (high == 0 && low == 0) invalid("the " + part + " holds %00, which libpq cannot take");
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return out;
}

// What both libpq and SOCI take for whitespace (isspace in the C locale).
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

// One value in libpq's keyword/value syntax, in a form SOCI 4.0 passes on unchanged: bare when
// nothing in it needs quoting; else in single quotes with ' and \ escaped (libpq's rules). SOCI
// ends an unquoted value at whitespace, so a quoted value holding whitespace also goes inside
// SOCI's double quotes, which SOCI removes again and which cannot hold a double quote.
std::string conninfo_value(const std::string& value, const std::string& part) {
  bool bare = !value.empty();
  bool whitespace = false;
  for (const char c : value) {
    if (is_space(c)) whitespace = true;
    if (is_space(c) || c == '\'' || c == '\\' || c == '"') bare = false;
  }
  if (bare) return value;
  std::string quoted = "'";
  for (const char c : value) {
    if (c == '\'' || c == '\\') quoted += '\\';
    quoted += c;
  }
  quoted += '\'';
  if (!whitespace) return quoted;
  if (value.find('"') != std::string::npos) {
    invalid("the " + part + " holds both whitespace and a double quote, which SOCI 4.0 cannot pass to libpq");
  }
  return '"' + quoted + '"';
}

// libpq's keywords are lower-case words with underscores; anything else could not be one, and
// could smuggle a second pair into the connection string.
bool is_keyword(const std::string& key) {
  if (key.empty()) return false;
  for (const char c : key) {
    if (!((c >= 'a' && c <= 'z') || c == '_')) return false;
  }
  return true;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  for (;;) {
    const auto at = text.find(separator);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return parts;
    text.remove_prefix(at + 1);
  }
}

struct HostPort {
  std::string host;
  std::string port;
};

HostPort parse_host(std::string_view spec) {
  HostPort out;
  std::string_view port;
  if (spec.starts_with('[')) {  // [IPv6]:port
    const auto close = spec.find(']');
    if (close == std::string_view::npos) invalid("an IPv6 host has '[' without ']'");
    out.host = std::string(spec.substr(1, close - 1));
    const auto after = spec.substr(close + 1);
    if (!after.empty() && !after.starts_with(':'))
      invalid("an IPv6 host's ']' is followed by something other than ':port'");
    if (!after.empty()) port = after.substr(1);
  } else {
    const auto colon = spec.find(':');
    out.host = percent_decode(spec.substr(0, colon), "host");
    if (colon != std::string_view::npos) port = spec.substr(colon + 1);
  }
  if (out.host.find(',') != std::string::npos) invalid("a host name holds ',', which libpq reads as a list");
  if (!port.empty()) {
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos) {
      invalid("the port is not a number");
    }
    const int number = std::stoi(std::string(port));
    if (number < 1 || number > 65535) invalid("the port is not between 1 and 65535");
    out.port = std::string(port);
  }
  return out;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + items[i];
  return out;
}

}  // namespace

PostgresTarget postgres_target(std::string_view url) {
  std::string_view rest;
  for (const std::string_view scheme : {"postgresql://", "postgres://"}) {
    if (url.starts_with(scheme)) rest = url.substr(scheme.size());
  }
  if (rest.data() == nullptr) invalid("it must start with postgresql:// or postgres://");
  if (rest.find('#') != std::string_view::npos) {
    invalid("'#' starts a fragment, which a database URL has not; in a user or password write it as %23");
  }

  // postgresql://[user[:password]@][host[:port][,...]][/dbname][?key=value[&...]]
  std::string_view query;
  if (const auto mark = rest.find('?'); mark != std::string_view::npos) {
    query = rest.substr(mark + 1);
    rest = rest.substr(0, mark);
  }
  std::string_view path;
  bool has_path = false;
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    path = rest.substr(slash + 1);
    has_path = true;
    rest = rest.substr(0, slash);
  }
  // An '@' past the authority is almost surely a password with a bare '/' or '?' in it.
  if (path.find('@') != std::string_view::npos || query.find('@') != std::string_view::npos) {
    invalid("'@' after the host; in a user or password write '/' as %2F, '?' as %3F and '@' as %40");
  }

  PostgresTarget target;
  std::vector<std::pair<std::string, std::string>> pairs;  // keyword, decoded value
  std::set<std::string> seen;
  const auto add = [&](const std::string& key, std::string value) {
    if (!seen.insert(key).second) invalid("'" + key + "' is given twice");
    pairs.emplace_back(key, std::move(value));
  };

  std::string_view userinfo;
  std::string_view hosts = rest;
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    userinfo = rest.substr(0, at);
    hosts = rest.substr(at + 1);
  }

  if (!hosts.empty()) {
    std::vector<std::string> host_list;
    std::vector<std::string> port_list;
    bool any_host = false;
    bool any_port = false;
    for (const auto spec : split(hosts, ',')) {
      auto [host, port] = parse_host(spec);
      any_host = any_host || !host.empty();
      any_port = any_port || !port.empty();
      host_list.push_back(std::move(host));
      port_list.push_back(std::move(port));
    }
    if (any_host) add("host", join(host_list));
    if (any_port) add("port", join(port_list));
  }
  if (has_path && !path.empty()) add("dbname", percent_decode(path, "database name"));
  if (!userinfo.empty()) {
    const auto colon = userinfo.find(':');
    const auto user = percent_decode(userinfo.substr(0, colon), "user");
    if (!user.empty()) add("user", user);
    if (colon != std::string_view::npos)
      target.password = percent_decode(userinfo.substr(colon + 1), "password");
    if (!target.password.empty()) add("password", target.password);
  }

  if (!query.empty()) {
    for (const auto parameter : split(query, '&')) {
      if (parameter.empty()) continue;
      const auto equals = parameter.find('=');
      if (equals == std::string_view::npos) invalid("a query parameter has no '=value'");
      auto key = percent_decode(parameter.substr(0, equals), "name of a query parameter");
      auto value = percent_decode(parameter.substr(equals + 1), "value of the query parameter " + key);
      if (!is_keyword(key))
        invalid("a query parameter's name is not a libpq keyword (lower-case letters and '_')");
      if (key == "ssl" && value == "true") {  // libpq's own JDBC compatibility
        key = "sslmode";
        value = "require";
      }
      if (key == "password") target.password = value;
      add(key, std::move(value));
    }
  }

  for (const auto& [key, value] : pairs) {
    if (!target.conninfo.empty()) target.conninfo += ' ';
    target.conninfo += key + '=' + conninfo_value(value, key == "password" ? "password" : "value of " + key);
  }
  return target;
}

}  // namespace plexus::store
