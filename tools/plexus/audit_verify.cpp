// plexus audit verify --config FILE [--data-dir DIR]: checks the audit log's hash
// chain offline, straight from the database the configuration names, without a
// running server and without changing anything.
#include <array>
#include <filesystem>
#include <memory>
#include <ostream>
#include <string>

#include "kernel/app/app.hpp"
#include "kernel/audit/audit_log.hpp"
#include "kernel/config/config.hpp"
#include "kernel/store/database.hpp"
#include "kernel/store/migrations.hpp"
#include "tools/plexus/arguments.hpp"
#include "tools/plexus/command.hpp"

namespace plexus::cli {
namespace {

constexpr std::string_view kSqlitePrefix = "sqlite:";

void print_help(std::ostream& out) {
  out << R"(usage: plexus audit verify --config FILE [--data-dir DIR]

Checks the audit log offline: every row's hash, every link to the row before, and
the end of the log against its separately stored head, from the retention anchor on.
Reads the database plexusd would use with this configuration (store.url, or
plexus.db in the data directory; PLEXUS_* environment variables apply) and changes
nothing in it.

  --config FILE    the server's configuration file
  --data-dir DIR   the data directory, as plexusd --data-dir

Prints "audit log intact: N rows checked" and exits 0, or names the first bad row
("audit log BROKEN at row N: ...") and exits 1. Exit 2: bad arguments or configuration.
)";
}

int verify(const Context& context, const ParsedArguments& arguments) {
  const auto config_file = arguments.value("config");
  if (!config_file) {
    context.err << "plexus audit verify: --config FILE is required ('plexus audit verify --help' explains)\n";
    return kExitUsage;
  }
  std::string url;
  try {
    auto config = config::Config::load(*config_file, config::kernel_schema(), config::process_environment());
    if (const auto data_dir = arguments.value("data-dir")) config.set("data_dir", *data_dir, "--data-dir");
    url = database_url_of(config);
  } catch (const config::ConfigError& error) {
    context.err << "plexus audit verify: configuration error: " << error.what() << "\n";
    return kExitUsage;
  }
  // Opening SQLite creates a missing file: a wrong data directory must not pass as an empty log.
  if (url.starts_with(kSqlitePrefix) && !std::filesystem::exists(url.substr(kSqlitePrefix.size()))) {
    context.err << "plexus audit verify: no database at " << url.substr(kSqlitePrefix.size())
                << " (check --data-dir, data_dir and store.url)\n";
    return kExitUsage;
  }

  audit::AuditVerifyResult result;
  try {
    // One connection, closed as soon as the walk is done.
    store::Database database({.url = url, .pool_size = 1});
    audit::AuditLog log(database, audit::AuditLog::SchemaPolicy::existing_only);
    result = log.verify();
  } catch (const store::MigrationError& error) {
    context.err << "plexus audit verify: " << store::redact_url(url) << ": " << error.what() << "\n";
    return kExitFailure;
  } catch (const std::exception& error) {
    context.err << "plexus audit verify: " << error.what() << "\n";
    return kExitFailure;
  }

  if (result.ok) {
    context.out << "audit log intact: " << result.checked << " rows checked";
    if (result.anchor_sequence > 0) {
      context.out << " (sequence " << result.anchor_sequence + 1 << " to " << result.head_sequence
                  << "; older rows were exported and removed by retention)";
    }
    context.out << "\n";
    return kExitOk;
  }
  context.out << "audit log BROKEN at row " << result.first_bad_sequence.value_or(0) << ": " << result.reason << "\n"
              << "rows verified before it: " << result.checked << "; the head records sequence "
              << result.head_sequence << "\n";
  return kExitFailure;
}

}  // namespace

int run_audit(const Context& context, std::span<const std::string_view> args) {
  static constexpr std::array<OptionSpec, 2> kOptions = {{{"config"}, {"data-dir"}}};
  if (args.empty() || args.front() == "-h" || args.front() == "--help") {
    print_help(args.empty() ? context.err : context.out);
    return args.empty() ? kExitUsage : kExitOk;
  }
  if (args.front() != "verify") {
    context.err << "plexus audit: unknown subcommand '" << args.front() << "'; the one there is: verify\n";
    return kExitUsage;
  }
  ParsedArguments arguments;
  try {
    arguments = parse_arguments(args.subspan(1), kOptions);
  } catch (const UsageError& error) {
    context.err << "plexus audit verify: " << error.what() << "\n";
    return kExitUsage;
  }
  if (arguments.help) {
    print_help(context.out);
    return kExitOk;
  }
  if (!arguments.positionals.empty()) {
    context.err << "plexus audit verify: unexpected argument '" << arguments.positionals.front() << "'\n";
    return kExitUsage;
  }
  return verify(context, arguments);
}

}  // namespace plexus::cli
