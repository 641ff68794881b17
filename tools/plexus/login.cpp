// plexus login / plexus logout: start and end the saved session with a plexusd.
#include <array>
#include <ostream>

#include "tools/plexus/arguments.hpp"
#include "tools/plexus/command.hpp"
#include "tools/plexus/credentials.hpp"
#include "tools/plexus/error_report.hpp"
#include "tools/plexus/password_input.hpp"
#include "tools/plexus/rest_client.hpp"

namespace plexus::cli {
namespace {

void print_login_help(std::ostream& out) {
  out << R"(usage: plexus login --url URL --username NAME [--tenant T] [--password-stdin]

Signs in to the plexusd at URL and saves the session (URL, access token, refresh
token) for the other commands, in a file only you can read (mode 0600):
  $PLEXUS_CREDENTIALS, else $XDG_CONFIG_HOME/plexus/credentials.json,
  else ~/.config/plexus/credentials.json
One session is kept; logging in again replaces it. Without --url the saved URL is used.

The password is asked for with echo off. With --password-stdin, or when standard
input is not a terminal, it is read as one line from standard input:
  printf '%s\n' "$PASSWORD" | plexus login --url https://plexus.example.com --username admin --password-stdin

Exit status: 0 logged in, 1 refused (wrong credentials, locked out, unreachable), 2 usage error.
)";
}

void print_logout_help(std::ostream& out) {
  out << R"(usage: plexus logout [--url URL]

Ends the saved session on the server (its refresh token stops working) and removes
the credentials file. When the server cannot be reached the local file is removed
anyway and the exit status is 1: the server session then ends when its tokens expire.
)";
}

constexpr std::array kLoginOptions = {
    OptionSpec{"url", OptionSpec::Kind::value},
    OptionSpec{"username", OptionSpec::Kind::value},
    OptionSpec{"tenant", OptionSpec::Kind::value},
    OptionSpec{"password-stdin", OptionSpec::Kind::flag},
};
constexpr std::array kLogoutOptions = {OptionSpec{"url", OptionSpec::Kind::value}};

int login(const Context& context, std::span<const std::string_view> args) {
  const auto parsed = parse_arguments(args, kLoginOptions);
  if (parsed.help) {
    print_login_help(context.out);
    return kExitOk;
  }
  if (!parsed.positionals.empty())
    throw UsageError("unexpected argument '" + parsed.positionals.front() + "'");
  const auto username = parsed.value("username");
  if (!username) throw UsageError("--username NAME is required");
  const auto file = credentials_path();
  std::optional<std::string> url_text = parsed.value("url");
  if (!url_text) {
    if (auto saved = load_credentials(file)) url_text = saved->url;
  }
  if (!url_text) throw UsageError("--url URL is required (no saved session to take it from)");
  const auto url = parse_server_url(*url_text);

  const auto password = read_password(context, "Password for " + *username + " at " + url.text() + ": ",
                                      parsed.flag("password-stdin"));
  nlohmann::json request{{"username", *username}, {"password", password}};
  if (auto tenant = parsed.value("tenant")) request["tenant"] = *tenant;
  const auto response = send_request(url, "POST", "/api/v1/auth/login", &request);
  if (response.status != 200) throw CommandError("login failed: " + describe_error(response));
  const auto& body = response.body;
  if (!body.is_object() || !body.contains("access_token") || !body["access_token"].is_string() ||
      !body.contains("refresh_token") || !body["refresh_token"].is_string())
    throw CommandError("login failed: the server's answer has no access_token and refresh_token");
  save_credentials(
      file, {url.text(), body["access_token"].get<std::string>(), body["refresh_token"].get<std::string>()});
  context.out << "Logged in to " << url.text() << " as " << *username;
  if (auto tenant = parsed.value("tenant")) context.out << " (tenant " << *tenant << ")";
  context.out << "; session saved in " << file.string() << "\n";
  return kExitOk;
}

int logout(const Context& context, std::span<const std::string_view> args) {
  const auto parsed = parse_arguments(args, kLogoutOptions);
  if (parsed.help) {
    print_logout_help(context.out);
    return kExitOk;
  }
  if (!parsed.positionals.empty())
    throw UsageError("unexpected argument '" + parsed.positionals.front() + "'");
  const auto file = credentials_path();
  const auto saved = load_credentials(file);
  if (!saved) {
    context.out << "Not logged in.\n";
    return kExitOk;
  }
  auto session = open_session(parsed.value("url"));
  try {
    const auto response = session.call_raw("POST", "/api/v1/auth/logout");
    remove_credentials(file);
    if (response.status >= 200 && response.status <= 299) {
      context.out << "Logged out of " << session.url().text() << "\n";
      return kExitOk;
    }
    context.err << "plexus logout: the server refused: " << describe_error(response)
                << "\n  the local session was removed\n";
    return kExitFailure;
  } catch (const SessionExpired&) {
    remove_credentials(file);
    context.out << "Logged out of " << session.url().text() << " (the server session had already ended)\n";
    return kExitOk;
  } catch (const CommandError& e) {
    remove_credentials(file);
    context.err << "plexus logout: " << e.what()
                << "\n  the local session was removed; the server session ends when its tokens expire\n";
    return kExitFailure;
  }
}

}  // namespace

int run_login(const Context& context, std::span<const std::string_view> args) {
  return run_reporting_errors(context, "login", [&] { return login(context, args); });
}

int run_logout(const Context& context, std::span<const std::string_view> args) {
  return run_reporting_errors(context, "logout", [&] { return logout(context, args); });
}

}  // namespace plexus::cli
