#include "kernel/resources/bootstrap_bundles.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <spdlog/logger.h>

#include "kernel/http/message.hpp"
#include "kernel/json/yaml_json.hpp"
#include "kernel/log/log.hpp"

namespace plexus::resources {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail(const fs::path& file, const std::string& message) {
  throw std::runtime_error("resources.bootstrap: " + file.string() + ": " + message);
}

bool is_bundle_file(const fs::path& file) {
  const auto extension = file.extension();
  return extension == ".yaml" || extension == ".yml" || extension == ".json";
}

std::vector<fs::path> bundle_files(const fs::path& path) {
  std::error_code error;
  const auto status = fs::status(path, error);
  if (error || !fs::exists(status)) fail(path, "no such file or directory");
  if (!fs::is_directory(status)) return {path};
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(path)) {
    if (entry.is_regular_file() && is_bundle_file(entry.path())) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

nlohmann::json read_bundle_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) fail(file, "cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  try {
    if (file.extension() == ".json") return nlohmann::json::parse(text.str());
    return yaml_json::parse(text.str());
  } catch (const nlohmann::json::parse_error& error) {
    fail(file, std::string("not valid JSON: ") + error.what());
  } catch (const yaml_json::YamlError& error) {
    fail(file, error.what());
  }
}

// The store's 400s name the place in the bundle ("/resources/2/content"); keep it.
std::string described(const http::HttpError& error) {
  const std::string message = error.what();
  const std::string field = error.details().is_object() ? error.details().value("field", "") : "";
  if (field.empty() || message.starts_with(field)) return message;
  return field + ": " + message;
}

}  // namespace

std::vector<BootstrapResult> import_bootstrap_bundles(ResourceStore& store, const fs::path& path) {
  if (path.empty()) return {};
  auto logger = log::get("resources");
  auth::Caller system;
  system.kind = auth::CallerKind::system;
  system.name = "bootstrap";
  system.tenant = "default";  // the tenant plexusd creates on first start
  system.grants = {"*"};
  const auto files = bundle_files(path);
  if (files.empty()) logger->info("bootstrap bundles: no *.yaml, *.yml or *.json files in {}", path.string());
  std::vector<BootstrapResult> results;
  for (const auto& file : files) {
    const auto bundle = read_bundle_file(file);
    BootstrapResult result{file, {}};
    const ImportOptions options{.create_only = true,
                                .skip_unknown_kinds = true,
                                .reason = "bootstrap bundle " + file.filename().string()};
    try {
      result.items = store.import_bundle(system, bundle, options);
    } catch (const http::HttpError& error) {
      fail(file, described(error));
    } catch (const std::exception& error) {
      fail(file, error.what());
    }
    std::size_t created = 0, skipped = 0, unknown = 0;
    for (const auto& item : result.items) {
      if (item.outcome == "created") ++created;
      if (item.outcome == "skipped") ++skipped;
      if (item.outcome == "unknown_kind") {
        ++unknown;
        logger->warn(
            "bootstrap bundle {}: skipped {}/{}: no resource kind '{}' is registered (is its plugin "
            "enabled?)",
            file.string(), item.kind, item.id, item.kind);
      }
    }
    logger->info("bootstrap bundle {}: {} created, {} skipped (exist already), {} skipped (unknown kind)",
                 file.string(), created, skipped, unknown);
    results.push_back(std::move(result));
  }
  return results;
}

}  // namespace plexus::resources
