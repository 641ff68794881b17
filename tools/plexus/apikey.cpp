// plexus apikey create|list|revoke: API keys for REST consumers (/api/v1/admin/api-keys).
// A key is shown once, when it is created; the server keeps only its hash.
#include <algorithm>
#include <array>
#include <ostream>

#include "tools/plexus/arguments.hpp"
#include "tools/plexus/command.hpp"
#include "tools/plexus/error_report.hpp"
#include "tools/plexus/rest_client.hpp"
#include "tools/plexus/table.hpp"

namespace plexus::cli {
namespace {

constexpr std::string_view kApiKeysPath = "/api/v1/admin/api-keys";

void print_help(std::ostream& out) {
  out << R"(usage: plexus apikey COMMAND [--url URL] ...

  create --name N --role R [--role R2] [--expires-in 30d]
                  create a key with these roles; prints the key once, on standard
                  output (the rest goes to standard error), e.g. KEY=$(plexus apikey create ...)
                  --expires-in: seconds, or a number with s, m, h, d or w (default: the server's)
  list            id, name, roles, expiry, creation and last use of every key
  revoke ID       the key stops working at once

Clients send a key as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'.
Uses the session saved by 'plexus login' (--url defaults to its server).
Exit status: 0 done, 1 failed (the server's message and request id are printed), 2 usage error.
)";
}

constexpr std::array kOptions = {
    OptionSpec{"url", OptionSpec::Kind::value},
    OptionSpec{"name", OptionSpec::Kind::value},
    OptionSpec{"role", OptionSpec::Kind::repeated},
    OptionSpec{"expires-in", OptionSpec::Kind::value},
};

void require_options(std::string_view subcommand, const ParsedArguments& parsed,
                     std::initializer_list<std::string_view> allowed) {
  for (const auto& [name, values] : parsed.values) {
    if (name == "url") continue;
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end())
      throw UsageError("'apikey " + std::string(subcommand) + "' takes no --" + name);
  }
}

int create(const Context& context, const ParsedArguments& parsed) {
  require_options("create", parsed, {"name", "role", "expires-in"});
  if (!parsed.positionals.empty())
    throw UsageError("unexpected argument '" + parsed.positionals.front() + "'");
  const auto name = parsed.value("name");
  if (!name) throw UsageError("'apikey create' needs --name N");
  const auto roles = parsed.list("role");
  if (roles.empty()) throw UsageError("'apikey create' needs at least one --role");
  nlohmann::json request{{"name", *name}, {"roles", roles}};
  if (auto expires_in = parsed.value("expires-in")) {
    const auto seconds = parse_duration_seconds(*expires_in);
    if (!seconds) throw UsageError("invalid --expires-in '" + *expires_in + "' (e.g. 3600, 12h, 30d, 2w)");
    request["expires_in"] = *seconds;
  }
  auto session = open_session(parsed.value("url"));
  const auto key = session.call("POST", std::string(kApiKeysPath), &request);
  if (!key.is_object() || !key.contains("key") || !key["key"].is_string())
    throw CommandError("the server's answer holds no key");
  context.err << "Created API key '" << cell(key, "name") << "' (id " << cell(key, "id") << ", roles "
              << cell(key, "roles") << ", expires " << cell(key, "expires_at", "never") << "):\n";
  context.out << key["key"].get<std::string>() << "\n" << std::flush;
  context.err << "Store it now: it will not be shown again.\n";
  return kExitOk;
}

int list(const Context& context, const ParsedArguments& parsed) {
  require_options("list", parsed, {});
  if (!parsed.positionals.empty()) throw UsageError("'apikey list' takes no arguments");
  auto session = open_session(parsed.value("url"));
  std::vector<std::vector<std::string>> rows;
  for (const auto& key : fetch_all_items(session, std::string(kApiKeysPath)))
    rows.push_back({cell(key, "id"), cell(key, "name"), cell(key, "roles"), cell(key, "expires_at", "never"),
                    cell(key, "created_at"), cell(key, "last_used_at", "never")});
  print_table(context.out, {"ID", "NAME", "ROLES", "EXPIRES", "CREATED", "LAST USED"}, rows);
  return kExitOk;
}

int revoke(const Context& context, const ParsedArguments& parsed) {
  require_options("revoke", parsed, {});
  if (parsed.positionals.size() != 1) throw UsageError("'apikey revoke' needs exactly one key id");
  const auto& id = parsed.positionals.front();
  auto session = open_session(parsed.value("url"));
  session.call("DELETE", std::string(kApiKeysPath) + "/" + url_encode(id));
  context.out << "Revoked API key " << id << "\n";
  return kExitOk;
}

int apikey(const Context& context, std::span<const std::string_view> args) {
  if (args.empty()) throw UsageError("missing command: create, list or revoke");
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
  if (subcommand == "create") return create(context, parsed);
  if (subcommand == "list") return list(context, parsed);
  if (subcommand == "revoke") return revoke(context, parsed);
  throw UsageError("unknown command 'apikey " + std::string(subcommand) + "'");
}

}  // namespace

int run_apikey(const Context& context, std::span<const std::string_view> args) {
  return run_reporting_errors(context, "apikey", [&] { return apikey(context, args); });
}

}  // namespace plexus::cli
