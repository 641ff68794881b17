// What handlers see: a parsed request and the response they return. Free of Beast,
// so components and the plugin host never depend on the server library.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernel/auth/caller.hpp"
#include "kernel/http/event_stream.hpp"

namespace plexus::http {

// Header names compare case-insensitively; the first match wins.
class Headers {
 public:
  void add(std::string name, std::string value) { fields_.emplace_back(std::move(name), std::move(value)); }
  void set(std::string_view name, std::string value);
  std::optional<std::string_view> get(std::string_view name) const;
  void remove(std::string_view name);
  const std::vector<std::pair<std::string, std::string>>& all() const { return fields_; }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

struct Request {
  std::string method;  // "GET"
  std::string target;  // as sent: "/api/v1/x?limit=10"
  std::string path;    // percent-decoded path without the query: "/api/v1/x"
  std::map<std::string, std::string> query;        // decoded; the last value of a repeated key wins
  std::map<std::string, std::string> path_params;  // from the matched route pattern
  Headers headers;
  std::string body;
  std::string remote_address;
  std::string request_id;
  std::string listener;  // name of the listener that accepted the connection
  // Set by the dispatcher before the handler runs; anonymous on public routes.
  std::shared_ptr<const auth::Caller> caller;

  std::optional<std::string_view> header(std::string_view name) const { return headers.get(name); }
  std::string query_or(std::string_view key, std::string fallback) const;
  // The body parsed as JSON; throws HttpError 400 "invalid_json" naming the position.
  nlohmann::json json() const;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  // Set for Server-Sent Events: called once the stream's headers are on the wire.
  std::function<void(std::shared_ptr<EventStream>)> stream_started;

  static Response json(int status, const nlohmann::json& body);
  static Response text(int status, std::string body, std::string content_type = "text/plain; charset=utf-8");
  // The DESIGN.md error body: {"error": {"code", "message", "details", "request_id"}}.
  static Response error(int status, std::string_view code, std::string_view message,
                        const nlohmann::json& details = nullptr, std::string_view request_id = {});
  static Response event_stream(std::function<void(std::shared_ptr<EventStream>)> on_open);
};

// Thrown by handlers for an expected failure; the server turns it into Response::error.
class HttpError : public std::runtime_error {
 public:
  HttpError(int status, std::string code, const std::string& message, nlohmann::json details = nullptr)
      : std::runtime_error(message), status_(status), code_(std::move(code)), details_(std::move(details)) {}
  int status() const { return status_; }
  const std::string& code() const { return code_; }
  const nlohmann::json& details() const { return details_; }

 private:
  int status_;
  std::string code_;
  nlohmann::json details_;
};

using Handler = std::function<Response(Request&)>;

// "percent%20encoded" -> "percent encoded"; nullopt on a malformed escape.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

}  // namespace plexus::http
