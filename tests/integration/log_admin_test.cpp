// The log admin routes as plexusd wires them: the download is the file the node logs
// to, a level change takes effect, and both are in the audit log.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/plexusd_process.hpp"

using plexus::test::bearer;
using plexus::test::Plexusd;

TEST_CASE("plexusd serves its own log file and records level changes and downloads") {
  Plexusd plexus;
  const auto token = plexus.admin_token();
  auto client = plexus.client();

  const auto changed = client.Put("/api/v1/admin/logs/levels/http.access", bearer(token),
                                  R"({"level": "debug"})", "application/json");
  REQUIRE(changed);
  INFO(changed->body);
  REQUIRE(changed->status == 200);
  CHECK(nlohmann::json::parse(changed->body)["levels"]["http.access"] == "debug");

  const auto downloaded = client.Get("/api/v1/admin/logs/download?lines=50", bearer(token));
  REQUIRE(downloaded);
  REQUIRE(downloaded->status == 200);
  CHECK(downloaded->get_header_value("Content-Disposition").starts_with("attachment"));
  // The route serves the file plexusd writes (PLEXUS_LOG__FILE), flushed: the level
  // change above is already in it.
  CHECK(downloaded->body.find("http.access") != std::string::npos);
  CHECK(plexus::test::read_file(plexus.log_file()).find(downloaded->body.substr(0, 40)) != std::string::npos);

  const auto audit = client.Get("/api/v1/admin/audit?action=logs", bearer(token));
  REQUIRE(audit);
  INFO(audit->body);
  REQUIRE(audit->status == 200);
  std::vector<std::string> actions;
  const auto records = nlohmann::json::parse(audit->body);
  for (const auto& item : records.at("items")) actions.push_back(item.at("action").get<std::string>());
  CHECK(std::find(actions.begin(), actions.end(), "logs.level") != actions.end());
  CHECK(std::find(actions.begin(), actions.end(), "logs.download") != actions.end());

  const auto viewer_denied = client.Get("/api/v1/admin/logs/download");
  REQUIRE(viewer_denied);
  CHECK(viewer_denied->status == 401);
}
