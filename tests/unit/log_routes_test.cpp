// The log admin routes through a Router: levels read and changed at runtime, and the
// log file downloaded whole, as its last lines, or capped.
#include "kernel/app/log_routes.hpp"

#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "kernel/http/router.hpp"
#include "kernel/log/log.hpp"
#include "tests/support/test_support.hpp"

using plexus::http::HttpError;
using plexus::http::Request;
using plexus::http::Response;
using plexus::http::Router;
using plexus::test::TempDir;

namespace {

struct Outcome {
  int status = 0;
  std::string code;  // the error code when the handler refused
  nlohmann::json details;
  Response response;
};

// The request as the dispatcher would hand it over: matched, with path parameters,
// query and an authenticated administrator as caller.
Outcome call(const Router& router, const std::string& method, const std::string& path,
             std::map<std::string, std::string> query = {}, const std::string& body = {}) {
  const auto match = router.match(method, path, plexus::http::Surface::api);
  REQUIRE(match.outcome == plexus::http::RouteMatch::Outcome::found);
  Request request;
  request.method = method;
  request.path = path;
  request.target = path;
  request.query = std::move(query);
  request.path_params = match.params;
  request.body = body;
  request.request_id = "test-request";
  auto caller = std::make_shared<plexus::auth::Caller>();
  caller->kind = plexus::auth::CallerKind::user;
  caller->name = "admin";
  caller->roles = {"admin"};
  caller->grants = {"*"};
  request.caller = caller;
  Outcome outcome;
  try {
    outcome.response = match.route->handler(request);
    outcome.status = outcome.response.status;
  } catch (const HttpError& e) {
    outcome.status = e.status();
    outcome.code = e.code();
    outcome.details = e.details();
  }
  return outcome;
}

std::string lines_text(int first, int last) {
  std::string text;
  for (int i = first; i <= last; ++i) text += "line " + std::to_string(i) + "\n";
  return text;
}

}  // namespace

TEST_CASE("log routes declare admin permissions") {
  Router router;
  plexus::register_log_routes(router, {}, nullptr);
  std::map<std::string, std::string> permissions;
  for (const auto& route : router.routes())
    permissions[route->method + " " + route->pattern] = route->permission;
  CHECK(permissions == std::map<std::string, std::string>{
                           {"GET /api/v1/admin/logs/levels", "admin.logs.view"},
                           {"PUT /api/v1/admin/logs/levels/{logger}", "admin.logs.manage"},
                           {"GET /api/v1/admin/logs/download", "admin.logs.view"},
                       });
}

TEST_CASE("log levels are listed and changed at runtime") {
  plexus::log::Options options;
  options.console = false;
  plexus::log::configure(options);
  auto logger = plexus::log::get("logtest.component");
  Router router;
  plexus::register_log_routes(router, {}, nullptr);

  const auto listed = call(router, "GET", "/api/v1/admin/logs/levels");
  REQUIRE(listed.status == 200);
  CHECK(nlohmann::json::parse(listed.response.body)["levels"]["logtest.component"] == "info");

  const auto changed =
      call(router, "PUT", "/api/v1/admin/logs/levels/logtest.component", {}, R"({"level": "debug"})");
  REQUIRE(changed.status == 200);
  CHECK(nlohmann::json::parse(changed.response.body)["levels"]["logtest.component"] == "debug");
  CHECK(logger->level() == spdlog::level::debug);

  // A parent's level covers its children; "" gives the child's own entry back.
  REQUIRE(call(router, "PUT", "/api/v1/admin/logs/levels/logtest.component", {}, R"({"level": ""})").status ==
          200);
  REQUIRE(call(router, "PUT", "/api/v1/admin/logs/levels/logtest", {}, R"({"level": "error"})").status ==
          200);
  CHECK(logger->level() == spdlog::level::err);
}

TEST_CASE("a bad level change is a 400 naming the field") {
  Router router;
  plexus::register_log_routes(router, {}, nullptr);
  const auto unknown = call(router, "PUT", "/api/v1/admin/logs/levels/http", {}, R"({"level": "loud"})");
  CHECK(unknown.status == 400);
  CHECK(unknown.code == "invalid_field");
  CHECK(unknown.details["field"] == "level");

  const auto missing = call(router, "PUT", "/api/v1/admin/logs/levels/http", {}, R"({"lvl": "debug"})");
  CHECK(missing.status == 400);
  CHECK(missing.details["field"] == "level");

  const auto not_text = call(router, "PUT", "/api/v1/admin/logs/levels/http", {}, R"({"level": 3})");
  CHECK(not_text.status == 400);
  CHECK(not_text.details["field"] == "level");

  const auto bad_name =
      call(router, "PUT", "/api/v1/admin/logs/levels/bad name!", {}, R"({"level": "debug"})");
  CHECK(bad_name.status == 400);
  CHECK(bad_name.details["field"] == "logger");

  CHECK(call(router, "PUT", "/api/v1/admin/logs/levels/http", {}, "not json").status == 400);
}

TEST_CASE("the log download is the current file as a text attachment") {
  TempDir dir;
  const auto file = dir.path() / "plexus.log";
  plexus::log::Options options;
  options.console = false;
  options.file = file;
  plexus::log::configure(options);
  plexus::log::get("logtest")->info("first message");
  plexus::log::get("logtest")->info("second message");  // info does not flush: the route must
  Router router;
  plexus::register_log_routes(router, file, nullptr);

  const auto downloaded = call(router, "GET", "/api/v1/admin/logs/download");
  REQUIRE(downloaded.status == 200);
  const auto& body = downloaded.response.body;
  CHECK(body.find("first message") != std::string::npos);
  CHECK(body.find("second message") != std::string::npos);
  CHECK(downloaded.response.headers.get("Content-Type").value_or("").starts_with("text/plain"));
  CHECK(downloaded.response.headers.get("Content-Disposition").value_or("") ==
        "attachment; filename=\"plexus.log\"");
  CHECK_FALSE(downloaded.response.headers.get("X-Log-Truncated"));
}

TEST_CASE("lines=N downloads the last N lines") {
  TempDir dir;
  const auto file = dir.write("plexus.log", lines_text(1, 1000));
  Router router;
  plexus::register_log_routes(router, file, nullptr);
  CHECK(call(router, "GET", "/api/v1/admin/logs/download", {{"lines", "3"}}).response.body ==
        lines_text(998, 1000));
  CHECK(call(router, "GET", "/api/v1/admin/logs/download", {{"lines", "1"}}).response.body ==
        lines_text(1000, 1000));
  CHECK(call(router, "GET", "/api/v1/admin/logs/download", {{"lines", "5000"}}).response.body ==
        lines_text(1, 1000));

  // A last line without its newline still counts as a line.
  const auto unterminated = dir.write("open.log", "a\nb\nc");
  Router other;
  plexus::register_log_routes(other, unterminated, nullptr);
  CHECK(call(other, "GET", "/api/v1/admin/logs/download", {{"lines", "2"}}).response.body == "b\nc");
}

TEST_CASE("lines must be a positive whole number") {
  TempDir dir;
  const auto file = dir.write("plexus.log", lines_text(1, 3));
  Router router;
  plexus::register_log_routes(router, file, nullptr);
  for (const auto* bad : {"0", "-1", "abc", "3x", ""}) {
    const auto outcome = call(router, "GET", "/api/v1/admin/logs/download", {{"lines", bad}});
    CHECK(outcome.status == 400);
    CHECK(outcome.code == "invalid_parameter");
    CHECK(outcome.details["field"] == "lines");
  }
}

TEST_CASE("no log file means 404") {
  Router router;
  plexus::register_log_routes(router, {}, nullptr);
  const auto off = call(router, "GET", "/api/v1/admin/logs/download");
  CHECK(off.status == 404);
  CHECK(off.code == "not_found");

  TempDir dir;
  Router missing;
  plexus::register_log_routes(missing, dir.path() / "never-written.log", nullptr);
  CHECK(call(missing, "GET", "/api/v1/admin/logs/download").status == 404);
}

TEST_CASE("a file larger than 50 MiB is cut to its end at a line boundary") {
  TempDir dir;
  const auto file = dir.path() / "big.log";
  {
    std::ofstream out(file, std::ios::binary);
    const std::string line(99, 'x');                        // 100 bytes with the newline
    for (int i = 0; i < 540'000; ++i) out << line << '\n';  // 54 MB
    out << "the last line\n";
  }
  Router router;
  plexus::register_log_routes(router, file, nullptr);
  const auto downloaded = call(router, "GET", "/api/v1/admin/logs/download");
  REQUIRE(downloaded.status == 200);
  const auto& body = downloaded.response.body;
  CHECK(body.size() <= 50u * 1024 * 1024);
  CHECK(body.size() > 49u * 1024 * 1024);
  CHECK(body.substr(0, 100) == std::string(99, 'x') + "\n");  // starts with a whole line
  CHECK(body.ends_with("the last line\n"));
  CHECK(downloaded.response.headers.get("X-Log-Truncated").value_or("") == "true");

  // Asking for more lines than fit is cut the same way.
  const auto many = call(router, "GET", "/api/v1/admin/logs/download", {{"lines", "600000"}});
  CHECK(many.response.body.size() == body.size());
  CHECK(many.response.headers.get("X-Log-Truncated").value_or("") == "true");
}
