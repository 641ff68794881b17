// plexus user add|list|passwd|disable|enable: user administration over REST
// (/api/v1/admin/users). Users are named by username; the id is looked up.
#include <array>
#include <ostream>

#include "tools/plexus/arguments.hpp"
#include "tools/plexus/command.hpp"
#include "tools/plexus/error_report.hpp"
#include "tools/plexus/password_input.hpp"
#include "tools/plexus/rest_client.hpp"
#include "tools/plexus/table.hpp"

namespace plexus::cli {
namespace {

constexpr std::string_view kUsersPath = "/api/v1/admin/users";

void print_help(std::ostream& out) {
  out << R"(usage: plexus user COMMAND [--url URL] ...

  add NAME --role R [--role R2] [--display-name D] [--password-stdin]
                         create a user with these roles (admin, editor, viewer or custom)
  list                   username, roles, disabled, last login of every user
  passwd NAME [--password-stdin]
                         set a user's password
  disable NAME           refuse the user's logins and tokens from now on
  enable NAME            allow them again

Uses the session saved by 'plexus login' (--url defaults to its server). Passwords are
asked for twice with echo off, or read as one line from standard input with
--password-stdin or when standard input is not a terminal.
Exit status: 0 done, 1 failed (the server's message and request id are printed), 2 usage error.
)";
}

constexpr std::array kOptions = {
    OptionSpec{"url", OptionSpec::Kind::value},
    OptionSpec{"role", OptionSpec::Kind::repeated},
    OptionSpec{"display-name", OptionSpec::Kind::value},
    OptionSpec{"password-stdin", OptionSpec::Kind::flag},
};

// Which options each subcommand accepts besides --url.
bool accepts(std::string_view subcommand, std::string_view option) {
  if (option == "url") return true;
  if (subcommand == "add") return option == "role" || option == "display-name" || option == "password-stdin";
  if (subcommand == "passwd") return option == "password-stdin";
  return false;
}

void require_only_known_options(std::string_view subcommand, const ParsedArguments& parsed) {
  for (const auto& [name, values] : parsed.values)
    if (!accepts(subcommand, name))
      throw UsageError("'user " + std::string(subcommand) + "' takes no --" + name);
  for (const auto& name : parsed.flags)
    if (!accepts(subcommand, name))
      throw UsageError("'user " + std::string(subcommand) + "' takes no --" + name);
}

// The one positional NAME of add, passwd, disable, enable.
std::string username_argument(std::string_view subcommand, const ParsedArguments& parsed) {
  if (parsed.positionals.size() != 1)
    throw UsageError("'user " + std::string(subcommand) + "' needs exactly one user name");
  return parsed.positionals.front();
}

std::string user_id_of(Session& session, const std::string& username) {
  for (const auto& user : fetch_all_items(session, std::string(kUsersPath))) {
    if (user.value("username", "") == username) {
      const auto& id = user["id"];
      return id.is_string() ? id.get<std::string>() : id.dump();
    }
  }
  throw CommandError("no user named '" + username + "' on " + session.url().text());
}

std::string user_path(const std::string& id) { return std::string(kUsersPath) + "/" + url_encode(id); }

int add(const Context& context, const ParsedArguments& parsed) {
  const auto username = username_argument("add", parsed);
  const auto roles = parsed.list("role");
  if (roles.empty())
    throw UsageError("'user add' needs at least one --role (admin, editor, viewer or a custom role)");
  auto session = open_session(parsed.value("url"));
  const auto password = read_new_password(context, "Password for the new user " + username + ": ",
                                          parsed.flag("password-stdin"));
  nlohmann::json request{{"username", username}, {"password", password}, {"roles", roles}};
  if (auto display_name = parsed.value("display-name")) request["display_name"] = *display_name;
  const auto user = session.call("POST", std::string(kUsersPath), &request);
  context.out << "Created user " << username << " (id " << cell(user, "id") << ", roles "
              << cell(user, "roles") << ")\n";
  return kExitOk;
}

int list(const Context& context, const ParsedArguments& parsed) {
  if (!parsed.positionals.empty()) throw UsageError("'user list' takes no arguments");
  auto session = open_session(parsed.value("url"));
  std::vector<std::vector<std::string>> rows;
  for (const auto& user : fetch_all_items(session, std::string(kUsersPath)))
    rows.push_back({cell(user, "username"), cell(user, "roles"), cell(user, "disabled", "no"),
                    cell(user, "last_login_at", "never")});
  print_table(context.out, {"USERNAME", "ROLES", "DISABLED", "LAST LOGIN"}, rows);
  return kExitOk;
}

int passwd(const Context& context, const ParsedArguments& parsed) {
  const auto username = username_argument("passwd", parsed);
  auto session = open_session(parsed.value("url"));
  const auto id = user_id_of(session, username);
  const auto password =
      read_new_password(context, "New password for " + username + ": ", parsed.flag("password-stdin"));
  const nlohmann::json request{{"password", password}};
  session.call("PUT", user_path(id) + "/password", &request);
  context.out << "Password of " << username << " changed\n";
  return kExitOk;
}

int set_disabled(const Context& context, const ParsedArguments& parsed, bool disabled) {
  const std::string_view subcommand = disabled ? "disable" : "enable";
  const auto username = username_argument(subcommand, parsed);
  auto session = open_session(parsed.value("url"));
  const auto id = user_id_of(session, username);
  const nlohmann::json request{{"disabled", disabled}};
  session.call("PATCH", user_path(id), &request);
  context.out << "User " << username << (disabled ? " disabled" : " enabled") << "\n";
  return kExitOk;
}

int user(const Context& context, std::span<const std::string_view> args) {
  if (args.empty()) throw UsageError("missing command: add, list, passwd, disable or enable");
  const std::string_view subcommand = args.front();
  if (subcommand == "-h" || subcommand == "--help" || subcommand == "help") {
    print_help(context.out);
    return kExitOk;
  }
  const auto parsed = parse_arguments(args.subspan(1), kOptions);
  if (parsed.help) {
    print_help(context.out);
    return kExitOk;
  }
  if (subcommand != "add" && subcommand != "list" && subcommand != "passwd" && subcommand != "disable" &&
      subcommand != "enable")
    throw UsageError("unknown command 'user " + std::string(subcommand) + "'");
  require_only_known_options(subcommand, parsed);
  if (subcommand == "add") return add(context, parsed);
  if (subcommand == "list") return list(context, parsed);
  if (subcommand == "passwd") return passwd(context, parsed);
  return set_disabled(context, parsed, subcommand == "disable");
}

}  // namespace

int run_user(const Context& context, std::span<const std::string_view> args) {
  return run_reporting_errors(context, "user", [&] { return user(context, args); });
}

}  // namespace plexus::cli
