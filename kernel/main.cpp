// plexusd: the Plexus kernel process.
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <pthread.h>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/logger.h>

#include "kernel/app/app.hpp"
#include "kernel/log/log.hpp"
#include "kernel/store/database.hpp"

namespace po = boost::program_options;

namespace {

constexpr const char* kVersion = PLEXUS_VERSION;

// Signals are taken synchronously by the main thread, never by a random worker.
sigset_t block_shutdown_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

int run(const po::variables_map& args) {
  plexus::store::prepare_sqlite_for_threads();
  using plexus::config::Config;
  const auto& schema = plexus::config::kernel_schema();
  Config config = args.count("config")
                      ? Config::load(args["config"].as<std::string>(), schema, plexus::config::process_environment())
                      : Config::load({}, schema, plexus::config::process_environment());
  if (args.count("data-dir")) config.set("data_dir", args["data-dir"].as<std::string>(), "--data-dir");
  if (args.count("port")) config.set("http.port", std::to_string(args["port"].as<int>()), "--port");
  if (args.count("manifests")) config.set("plugins.manifests", args["manifests"].as<std::string>(), "--manifests");

  if (args.count("check-config")) {
    std::cout << config.to_json(true).dump(2) << "\n";
    std::cerr << "configuration OK\n";
    return 0;
  }

  const sigset_t signals = block_shutdown_signals();
  const char* admin_password = std::getenv("PLEXUS_ADMIN_PASSWORD");
  plexus::App app(std::move(config), admin_password ? admin_password : "");
  if (const auto& generated = app.generated_admin_password()) {
    // Shown once, on stdout only: the log never holds it.
    std::cout << "First start: created user admin with password " << *generated
              << "\nIt is not shown again; change it with `plexus user passwd admin`.\n"
              << std::flush;
  }
  app.start();
  auto log = plexus::log::get("plexusd");
  log->info("Plexus {} ready on http://{}:{}/ (data in {})", kVersion, app.config().get_string("http.address"),
            app.port(), plexus::data_dir_of(app.config()).string());

  int signal = 0;
  sigwait(&signals, &signal);
  log->info("received {}, shutting down", signal == SIGINT ? "SIGINT" : "SIGTERM");
  const bool clean = app.stop();
  log->info(clean ? "stopped" : "stopped; some requests were cut off at the shutdown deadline");
  plexus::log::flush();
  if (!clean) std::_Exit(0);  // handlers still running past the deadline must not block exit
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  po::options_description options("plexusd options");
  options.add_options()("help,h", "show this help")("version", "print the version")(
      "config,c", po::value<std::string>(), "configuration file (YAML); without it, built-in defaults")(
      "data-dir,d", po::value<std::string>(), "data directory (overrides data_dir)")(
      "port,p", po::value<int>(), "port of the main listener (overrides http.port)")(
      "manifests,m", po::value<std::string>(), "plugin manifests directory")(
      "check-config", "validate the configuration, print it with secrets masked, and exit");
  po::variables_map args;
  try {
    po::store(po::parse_command_line(argc, argv, options), args);
    po::notify(args);
  } catch (const po::error& e) {
    std::cerr << "plexusd: " << e.what() << "\n" << options;
    return 2;
  }
  if (args.count("help")) {
    std::cout << options;
    return 0;
  }
  if (args.count("version")) {
    std::cout << "plexusd " << kVersion << "\n";
    return 0;
  }
  try {
    return run(args);
  } catch (const plexus::config::ConfigError& e) {
    std::cerr << "plexusd: configuration error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "plexusd: " << plexus::log::redact(e.what()) << "\n";
    return 1;
  }
}
