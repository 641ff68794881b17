#include "tools/plexus/rest_client.hpp"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "tools/plexus/arguments.hpp"

namespace plexus::cli {
namespace {

std::string lowercase(std::string_view text) {
  std::string result(text);
  std::transform(result.begin(), result.end(), result.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return result;
}

constexpr std::string_view kRefreshPath = "/api/v1/auth/refresh";

std::string transport_failure(httplib::Error error) {
  switch (error) {
    case httplib::Error::Connection: return "connection refused or host unreachable";
    case httplib::Error::ConnectionTimeout: return "timed out connecting";
    case httplib::Error::Read: return "the connection broke (or timed out) while reading the answer";
    case httplib::Error::Write: return "the connection broke while sending the request";
    case httplib::Error::SSLConnection: return "the TLS handshake failed";
    case httplib::Error::SSLLoadingCerts: return "cannot load the trusted CA certificates";
    case httplib::Error::SSLServerVerification: return "the server's TLS certificate is not trusted";
    default: return httplib::to_string(error);
  }
}

}  // namespace

ServerUrl parse_server_url(std::string_view url) {
  const auto bad = [&](const std::string& why) {
    return UsageError("invalid --url '" + std::string(url) + "': " + why + " (e.g. http://127.0.0.1:8080)");
  };
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) throw bad("it must start with http:// or https://");
  const std::string scheme = lowercase(url.substr(0, scheme_end));
  if (scheme != "http" && scheme != "https") throw bad("it must start with http:// or https://");
  std::string_view rest = url.substr(scheme_end + 3);
  const auto path_start = rest.find('/');
  std::string_view authority = rest.substr(0, path_start);
  std::string_view path = path_start == std::string_view::npos ? std::string_view{} : rest.substr(path_start);
  if (path.find_first_of("?#") != std::string_view::npos) throw bad("no query or fragment");
  if (authority.find('@') != std::string_view::npos) throw bad("no user name or password in the URL");
  if (authority.empty()) throw bad("no host");

  std::string_view host = authority;
  std::string_view port;
  if (authority.front() == '[') {  // [::1]:8080
    const auto close = authority.find(']');
    if (close == std::string_view::npos) throw bad("unclosed '['");
    host = authority.substr(0, close + 1);
    const auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') throw bad("unexpected text after the host");
      port = after.substr(1);
    }
  } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) throw bad("no host");
  std::string origin = scheme + "://" + lowercase(host);
  if (!port.empty()) {
    int number = 0;
    const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), number);
    if (error != std::errc{} || end != port.data() + port.size() || number < 1 || number > 65535)
      throw bad("the port must be 1-65535");
    origin += ":" + std::to_string(number);
  }
  while (path.ends_with('/')) path.remove_suffix(1);
  return ServerUrl{origin, std::string(path)};
}

ApiResponse send_request(const ServerUrl& url, std::string_view method, const std::string& path,
                         const nlohmann::json* body, const std::string& bearer) {
  httplib::Client client(url.origin);
  client.set_connection_timeout(10, 0);
  client.set_read_timeout(120, 0);
  client.set_write_timeout(60, 0);

  httplib::Request request;
  request.method = std::string(method);
  request.path = url.base_path + path;
  request.headers = {{"Accept", "application/json"}, {"User-Agent", "plexus-cli"}};
  if (!bearer.empty()) request.headers.emplace("Authorization", "Bearer " + bearer);
  if (body != nullptr) {
    request.body = body->dump();
    request.headers.emplace("Content-Type", "application/json");
  }
  auto result = client.send(request);
  if (!result) {
    throw CommandError("cannot reach " + url.text() + ": " + transport_failure(result.error()));
  }
  ApiResponse response;
  response.status = result->status;
  if (!result->body.empty()) response.body = nlohmann::json::parse(result->body, nullptr, false);
  if (response.body.is_discarded()) response.body = nullptr;
  const auto& error = response.body.is_object() && response.body.contains("error") ? response.body["error"]
                                                                                   : nlohmann::json();
  if (error.is_object() && error.contains("request_id") && error["request_id"].is_string())
    response.request_id = error["request_id"].get<std::string>();
  else
    response.request_id = result->get_header_value("X-Request-ID");
  return response;
}

std::string describe_error(const ApiResponse& response) {
  const auto& body = response.body;
  const nlohmann::json error = body.is_object() && body.contains("error") && body["error"].is_object()
                                   ? body["error"]
                                   : nlohmann::json::object();
  const auto text_of = [&](const char* name) {
    return error.contains(name) && error[name].is_string() ? error[name].get<std::string>() : std::string();
  };
  std::string message = text_of("message");
  if (message.empty()) message = "the server answered HTTP " + std::to_string(response.status);
  std::string text = message + " (";
  if (const auto code = text_of("code"); !code.empty()) text += code + ", ";
  text += "HTTP " + std::to_string(response.status);
  if (!response.request_id.empty()) text += ", request id " + response.request_id;
  text += ")";
  if (error.contains("details") && !error["details"].is_null() && !error["details"].empty()) {
    std::string details = error["details"].dump();
    if (details.size() > 500) details = details.substr(0, 500) + "...";
    text += "\n  details: " + details;
  }
  return text;
}

std::string url_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string result;
  for (const unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      result += static_cast<char>(c);
    } else {
      result += '%';
      result += kHex[c >> 4];
      result += kHex[c & 0xF];
    }
  }
  return result;
}

Session::Session(ServerUrl url, std::filesystem::path credentials_file, Credentials credentials)
    : url_(std::move(url)),
      credentials_file_(std::move(credentials_file)),
      credentials_(std::move(credentials)) {}

nlohmann::json Session::call(std::string_view method, const std::string& path, const nlohmann::json* body) {
  auto response = call_raw(method, path, body);
  if (response.status < 200 || response.status > 299) throw CommandError(describe_error(response));
  return response.body;
}

ApiResponse Session::call_raw(std::string_view method, const std::string& path, const nlohmann::json* body) {
  auto response = send_request(url_, method, path, body, credentials_.access_token);
  if (response.status != 401) return response;
  if (!refresh()) throw SessionExpired(url_.text());
  response = send_request(url_, method, path, body, credentials_.access_token);
  if (response.status == 401) throw SessionExpired(url_.text());
  return response;
}

bool Session::refresh() {
  // Another plexus process may have refreshed meanwhile: its tokens are the live ones,
  // and spending our (already rotated) refresh token would revoke the whole session.
  try {
    if (auto saved = load_credentials(credentials_file_);
        saved && saved->url == url_.text() && saved->access_token != credentials_.access_token) {
      credentials_ = *saved;
      return true;
    }
  } catch (const std::exception&) {
    // An unreadable file: refresh with what we hold and write it anew.
  }
  if (credentials_.refresh_token.empty()) return false;
  const nlohmann::json request{{"refresh_token", credentials_.refresh_token}};
  const auto response = send_request(url_, "POST", std::string(kRefreshPath), &request);
  const auto& body = response.body;
  if (response.status != 200 || !body.is_object() || !body.contains("access_token") ||
      !body["access_token"].is_string() || !body.contains("refresh_token") ||
      !body["refresh_token"].is_string())
    return false;
  credentials_.access_token = body["access_token"].get<std::string>();
  credentials_.refresh_token = body["refresh_token"].get<std::string>();
  save_credentials(credentials_file_, credentials_);
  return true;
}

std::vector<nlohmann::json> fetch_all_items(Session& session, const std::string& path) {
  std::vector<nlohmann::json> items;
  std::string cursor;
  // A bound, so a server that keeps returning a cursor cannot keep the CLI forever.
  for (int page = 0; page < 10'000; ++page) {
    const auto separator = path.find('?') == std::string::npos ? "?" : "&";
    const auto body =
        session.call("GET", cursor.empty() ? path : path + separator + "cursor=" + url_encode(cursor));
    if (!body.is_object() || !body.contains("items") || !body["items"].is_array())
      throw CommandError("unexpected answer from " + session.url().text() + path + ": no \"items\" list");
    for (const auto& item : body["items"]) items.push_back(item);
    const auto next = body.contains("next_cursor") ? body["next_cursor"] : nlohmann::json();
    if (next.is_string() && !next.get<std::string>().empty()) {
      if (next.get<std::string>() == cursor) break;
      cursor = next.get<std::string>();
    } else if (next.is_number_integer()) {
      if (std::to_string(next.get<long long>()) == cursor) break;
      cursor = std::to_string(next.get<long long>());
    } else {
      break;
    }
  }
  return items;
}

Session open_session(const std::optional<std::string>& url_option) {
  const auto file = credentials_path();
  const auto saved = load_credentials(file);
  ServerUrl url;
  if (url_option) {
    url = parse_server_url(*url_option);
  } else if (saved) {
    url = parse_server_url(saved->url);
  } else {
    throw UsageError("no server given: pass --url URL, or run plexus login first");
  }
  if (!saved || saved->url != url.text())
    throw CommandError("not logged in to " + url.text() + ": run plexus login --url " + url.text());
  return Session(url, file, *saved);
}

}  // namespace plexus::cli
