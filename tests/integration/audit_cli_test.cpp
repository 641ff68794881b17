// plexus audit verify, the real binary, on a data directory written through AuditLog.
#include <filesystem>
#include <memory>
#include <string>

#include <catch2/catch.hpp>
#include <soci/soci.h>

#include "kernel/audit/audit_log.hpp"
#include "tests/support/plexusd_process.hpp"
#include "tests/support/test_support.hpp"

using plexus::test::run_command;
using plexus::test::TempDir;

namespace {

// A data directory holding an audit log of `rows` records, and a config file using it.
struct DataDir {
  TempDir dir;
  std::filesystem::path data = dir.path() / "data";
  std::filesystem::path config = dir.write("plexus.yaml", "data_dir: ./elsewhere\nlog:\n  file: \"off\"\n");

  explicit DataDir(int rows) {
    plexus::store::Database database({"sqlite:" + (data / "plexus.db").string()});
    plexus::audit::AuditLog log(database);
    for (int i = 1; i <= rows; ++i) {
      plexus::audit::AuditEvent event;
      event.actor = "user:admin";
      event.action = "user.update";
      event.target = "user/" + std::to_string(i);
      event.before = {{"n", i}};
      event.after = {{"n", i + 1}};
      log.record(event);
    }
  }

  void exec(const std::string& statement) const {
    plexus::store::Database database({"sqlite:" + (data / "plexus.db").string()});
    soci::session sql(database.pool());
    sql << statement;
  }

  plexus::test::CommandResult verify() const {
    return run_command({plexus::test::plexus_cli_binary().string(), "audit", "verify", "--config", config.string(),
                        "--data-dir", data.string()});
  }
};

}  // namespace

TEST_CASE("plexus audit verify reports an intact log", "[cli][audit]") {
  const DataDir dir(12);
  const auto result = dir.verify();
  INFO(result.out << result.err);
  REQUIRE(result.exit_code == 0);
  REQUIRE_THAT(result.out, Catch::Contains("audit log intact: 12 rows checked"));
}

TEST_CASE("plexus audit verify names the first altered row and exits 1", "[cli][audit][security]") {
  const DataDir dir(12);
  dir.exec("UPDATE audit_log SET actor = 'user:mallory' WHERE sequence = 7");
  const auto result = dir.verify();
  INFO(result.out << result.err);
  REQUIRE(result.exit_code == 1);
  REQUIRE_THAT(result.out, Catch::Contains("audit log BROKEN at row 7"));
}

TEST_CASE("plexus audit verify notices rows cut off the end", "[cli][audit][security]") {
  const DataDir dir(12);
  dir.exec("DELETE FROM audit_log WHERE sequence >= 11");
  const auto result = dir.verify();
  INFO(result.out << result.err);
  REQUIRE(result.exit_code == 1);
  REQUIRE_THAT(result.out, Catch::Contains("BROKEN at row 11"));
}

TEST_CASE("plexus audit verify refuses bad arguments and a wrong data directory with exit 2", "[cli][audit]") {
  const DataDir dir(1);
  const auto cli = plexus::test::plexus_cli_binary().string();
  const auto missing_config = run_command({cli, "audit", "verify", "--data-dir", dir.data.string()});
  REQUIRE(missing_config.exit_code == 2);
  REQUIRE(run_command({cli, "audit", "check"}).exit_code == 2);
  REQUIRE(run_command({cli, "audit", "verify", "--config", dir.config.string(), "--bogus"}).exit_code == 2);

  const auto wrong_dir = run_command(
      {cli, "audit", "verify", "--config", dir.config.string(), "--data-dir", (dir.dir.path() / "nothing").string()});
  INFO(wrong_dir.out << wrong_dir.err);
  REQUIRE(wrong_dir.exit_code == 2);
  REQUIRE_THAT(wrong_dir.err, Catch::Contains("no database"));
  REQUIRE_FALSE(std::filesystem::exists(dir.dir.path() / "nothing"));  // nothing created

  const auto bad_config = dir.dir.write("bad.yaml", "data_dir: ./x\nno_such_key: 1\n");
  REQUIRE(run_command({cli, "audit", "verify", "--config", bad_config.string()}).exit_code == 2);

  const auto help = run_command({cli, "audit", "verify", "--help"});
  REQUIRE(help.exit_code == 0);
  REQUIRE_THAT(help.out, Catch::Contains("--data-dir"));
}
