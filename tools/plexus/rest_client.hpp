// Talking to plexusd over REST: one request at a time, errors worded for the user,
// and a Session that carries the saved tokens, refreshing them once on a 401.
#pragma once

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tools/plexus/credentials.hpp"

namespace plexus::cli {

// A command that ran and failed: the message is for the user; exit status kExitFailure.
class CommandError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The saved session is no longer accepted and could not be refreshed.
class SessionExpired : public CommandError {
 public:
  explicit SessionExpired(const std::string& url)
      : CommandError("session expired: run plexus login --url " + url) {}
};

// A server address: "http(s)://host[:port][/base/path]".
struct ServerUrl {
  std::string origin;     // "https://plexus.example.com:8443"
  std::string base_path;  // "" or "/plexus" (a reverse proxy's prefix), no trailing slash
  std::string text() const { return origin + base_path; }
};

// Checks and normalises a URL given with --url; throws UsageError when it is not one.
ServerUrl parse_server_url(std::string_view url);

struct ApiResponse {
  int status = 0;
  nlohmann::json body;     // null when empty or not JSON
  std::string request_id;  // the error body's, else the X-Request-ID header
};

// One request, with `bearer` as the access token when not empty. Throws CommandError
// when the server cannot be reached or does not answer.
ApiResponse send_request(const ServerUrl& url, std::string_view method, const std::string& path,
                         const nlohmann::json* body = nullptr, const std::string& bearer = {});

// An error response for the user: the server's message and code, the HTTP status and
// the request id (to find the server's log lines).
std::string describe_error(const ApiResponse& response);

// "a b/c" -> "a%20b%2Fc": a value placed in a URL path or query.
std::string url_encode(std::string_view text);

// The logged-in session with one server.
class Session {
 public:
  Session(ServerUrl url, std::filesystem::path credentials_file, Credentials credentials);

  // Calls the API with the access token. On a 401 it refreshes once (saving the new
  // pair) and retries; a refresh that fails throws SessionExpired.
  // Returns the JSON body (null when empty); throws CommandError for any other non-2xx.
  nlohmann::json call(std::string_view method, const std::string& path, const nlohmann::json* body = nullptr);
  // As call, but returns any final response instead of throwing on a non-2xx status.
  ApiResponse call_raw(std::string_view method, const std::string& path,
                       const nlohmann::json* body = nullptr);

  const ServerUrl& url() const { return url_; }
  const std::filesystem::path& credentials_file() const { return credentials_file_; }

 private:
  bool refresh();

  ServerUrl url_;
  std::filesystem::path credentials_file_;
  Credentials credentials_;
};

// Every item of a listing route ({"items": [...], "next_cursor"}), following
// next_cursor through the pages (?cursor=...).
std::vector<nlohmann::json> fetch_all_items(Session& session, const std::string& path);

// The session of a REST command: --url (else the saved URL) and the saved tokens.
// Throws UsageError when no server is known, CommandError when not logged in to it.
// Tokens saved for one server are never sent to another.
Session open_session(const std::optional<std::string>& url_option);

}  // namespace plexus::cli
