// The metrics registry: exact exposition text, validation, re-registration, concurrency,
// process metrics, and a round trip through `promtool check metrics`.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "kernel/metrics/registry.hpp"

using plexus::metrics::Counter;
using plexus::metrics::Gauge;
using plexus::metrics::Histogram;
using plexus::metrics::Registry;

namespace {

// The value of the first sample line that starts with `series` followed by a space,
// e.g. series = `process_open_fds` or `x_total{a="b"}`.
std::optional<double> sample_value(const std::string& exposition, const std::string& series) {
  std::istringstream lines(exposition);
  for (std::string line; std::getline(lines, line);) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 && line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return std::nullopt;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs `promtool check metrics` on `exposition` (written to a temporary file first,
// since popen only connects one direction).
CommandResult promtool_check(const std::string& exposition) {
  char path[] = "/tmp/plexus-metrics-XXXXXX";
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  REQUIRE(write(fd, exposition.data(), exposition.size()) == static_cast<ssize_t>(exposition.size()));
  close(fd);

  CommandResult result;
  const std::string command = std::string("promtool check metrics < ") + path + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::array<char, 4096> buffer{};
  for (std::size_t n; (n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0;) result.output.append(buffer.data(), n);
  const int status = pclose(pipe);
  unlink(path);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

}  // namespace

TEST_CASE("render produces the exact Prometheus text for counters, gauges and histograms", "[metrics]") {
  Registry registry;
  auto& requests = registry.counter("app_requests_total", "Requests handled.", {"method", "code"});
  requests.with({"POST", "500"}).inc();
  requests.with({"GET", "200"}).inc(3);
  requests.with({"GET", "404"}).inc(0.5);
  registry.gauge("app_temperature_celsius", "Current temperature.").with({}).set(-12.25);
  auto& latency = registry.histogram("app_latency_seconds", "Request latency.", {"route"}, {0.125, 0.5, 1});
  auto& route = latency.with({"/a"});
  route.observe(0.0625);
  route.observe(0.125);  // le is inclusive
  route.observe(0.75);
  route.observe(3);
  latency.with({"/b"});

  const std::string expected =
      "# HELP app_latency_seconds Request latency.\n"
      "# TYPE app_latency_seconds histogram\n"
      "app_latency_seconds_bucket{route=\"/a\",le=\"0.125\"} 2\n"
      "app_latency_seconds_bucket{route=\"/a\",le=\"0.5\"} 2\n"
      "app_latency_seconds_bucket{route=\"/a\",le=\"1\"} 3\n"
      "app_latency_seconds_bucket{route=\"/a\",le=\"+Inf\"} 4\n"
      "app_latency_seconds_sum{route=\"/a\"} 3.9375\n"
      "app_latency_seconds_count{route=\"/a\"} 4\n"
      "app_latency_seconds_bucket{route=\"/b\",le=\"0.125\"} 0\n"
      "app_latency_seconds_bucket{route=\"/b\",le=\"0.5\"} 0\n"
      "app_latency_seconds_bucket{route=\"/b\",le=\"1\"} 0\n"
      "app_latency_seconds_bucket{route=\"/b\",le=\"+Inf\"} 0\n"
      "app_latency_seconds_sum{route=\"/b\"} 0\n"
      "app_latency_seconds_count{route=\"/b\"} 0\n"
      "# HELP app_requests_total Requests handled.\n"
      "# TYPE app_requests_total counter\n"
      "app_requests_total{method=\"GET\",code=\"200\"} 3\n"
      "app_requests_total{method=\"GET\",code=\"404\"} 0.5\n"
      "app_requests_total{method=\"POST\",code=\"500\"} 1\n"
      "# HELP app_temperature_celsius Current temperature.\n"
      "# TYPE app_temperature_celsius gauge\n"
      "app_temperature_celsius -12.25\n";
  CHECK(registry.render() == expected);
}

TEST_CASE("a histogram without labels renders le as its only label", "[metrics]") {
  Registry registry;
  registry.histogram("job_duration_seconds", "Job run time.", {}, {1, 2}).with({}).observe(1.5);
  CHECK(registry.render() ==
        "# HELP job_duration_seconds Job run time.\n"
        "# TYPE job_duration_seconds histogram\n"
        "job_duration_seconds_bucket{le=\"1\"} 0\n"
        "job_duration_seconds_bucket{le=\"2\"} 1\n"
        "job_duration_seconds_bucket{le=\"+Inf\"} 1\n"
        "job_duration_seconds_sum 1.5\n"
        "job_duration_seconds_count 1\n");
}

TEST_CASE("help text and label values are escaped", "[metrics]") {
  Registry registry;
  auto& family = registry.gauge("escape_test", "Back\\slash, \"quotes\" and\nnewline.", {"value"});
  family.with({"a\\b\"c\nd"}).set(1);
  family.with({"tab\tand ünïcødé ✓"}).set(2);
  CHECK(registry.render() ==
        "# HELP escape_test Back\\\\slash, \"quotes\" and\\nnewline.\n"
        "# TYPE escape_test gauge\n"
        "escape_test{value=\"a\\\\b\\\"c\\nd\"} 1\n"
        "escape_test{value=\"tab\tand ünïcødé ✓\"} 2\n");
}

TEST_CASE("numbers are integers when exact, shortest round-trip otherwise, and Prometheus specials", "[metrics]") {
  Registry registry;
  auto& family = registry.gauge("number_test", "Formatting.", {"case"});
  const std::vector<std::pair<double, std::string>> cases = {
      {0.0, "0"},
      {-0.0, "0"},
      {42.0, "42"},
      {-7.0, "-7"},
      {1e6, "1000000"},
      {9007199254740992.0, "9007199254740992"},  // 2^53, the last exactly representable run
      {18014398509481988.0, "1.8014398509481988e+16"},
      {0.1, "0.1"},
      {0.0005, "0.0005"},
      {123.456, "123.456"},
      {1.0 / 3.0, "0.3333333333333333"},
      {1.5e-7, "1.5e-07"},
      {1e300, "1e+300"},
      {std::numeric_limits<double>::infinity(), "+Inf"},
      {-std::numeric_limits<double>::infinity(), "-Inf"},
      {std::numeric_limits<double>::quiet_NaN(), "NaN"},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) family.with({std::to_string(100 + i)}).set(cases[i].first);
  const std::string text = registry.render();
  for (std::size_t i = 0; i < cases.size(); ++i) {
    INFO("case " << i);
    CHECK(contains(text, "number_test{case=\"" + std::to_string(100 + i) + "\"} " + cases[i].second + "\n"));
  }
}

TEST_CASE("invalid metric and label names throw", "[metrics]") {
  Registry registry;
  for (const char* name : {"", "1abc", "a-b", "a b", "é", "a.b"}) {
    INFO(name);
    CHECK_THROWS_AS(registry.counter(name, "x"), std::invalid_argument);
    CHECK_THROWS_AS(registry.gauge(name, "x"), std::invalid_argument);
    CHECK_THROWS_AS(registry.histogram(name, "x"), std::invalid_argument);
  }
  CHECK_NOTHROW(registry.gauge("a:b", "colons are legal in metric names"));
  CHECK_NOTHROW(registry.gauge("_x", "x"));
  CHECK_NOTHROW(registry.gauge(":y", "x"));

  for (const char* label : {"", "1a", "a:b", "a-b", "__reserved", "é"}) {
    INFO(label);
    CHECK_THROWS_AS(registry.counter("labels_total", "x", {label}), std::invalid_argument);
  }
  CHECK_THROWS_AS(registry.counter("dup_total", "x", {"a", "a"}), std::invalid_argument);
  CHECK_THROWS_AS(registry.histogram("le_seconds", "x", {"le"}), std::invalid_argument);
  CHECK_NOTHROW(registry.gauge("le_gauge", "le is only reserved for histograms", {"le"}));
  CHECK_NOTHROW(registry.counter("underscore_total", "x", {"_a", "b_2"}));
  // Nothing half-registered is left behind by the failures.
  CHECK_FALSE(contains(registry.render(), "labels_total"));
}

TEST_CASE("a wrong number of label values throws", "[metrics]") {
  Registry registry;
  auto& family = registry.counter("calls_total", "Calls.", {"a", "b"});
  CHECK_THROWS_AS(family.with({"x"}), std::invalid_argument);
  CHECK_THROWS_AS(family.with({"x", "y", "z"}), std::invalid_argument);
  CHECK_THROWS_AS(family.with(std::vector<std::string>{}), std::invalid_argument);
  CHECK_THROWS_AS(family.remove({"x"}), std::invalid_argument);
  auto& plain = registry.gauge("plain", "No labels.");
  CHECK_THROWS_AS(plain.with({"x"}), std::invalid_argument);
}

TEST_CASE("label values must be valid UTF-8", "[metrics]") {
  Registry registry;
  auto& family = registry.counter("utf8_total", "x", {"v"});
  for (const std::string bad : {"\xff", "\xc0\xaf", "\xe2\x82", "\xed\xa0\x80", "\xf4\x90\x80\x80"}) {
    CHECK_THROWS_AS(family.with({bad}), std::invalid_argument);
  }
  CHECK_NOTHROW(family.with({"\xf0\x9f\x98\x80 ok"}));
}

TEST_CASE("registering a family again returns it when kind, labels and buckets match", "[metrics]") {
  Registry registry;
  auto& counter = registry.counter("hits_total", "Hits.", {"route"});
  CHECK(&registry.counter("hits_total", "Other help is ignored.", {"route"}) == &counter);
  auto& histogram = registry.histogram("wait_seconds", "Waits.", {}, {1, 2});
  CHECK(&registry.histogram("wait_seconds", "Waits.", {}, {1, 2}) == &histogram);

  CHECK_THROWS_AS(registry.gauge("hits_total", "Hits."), std::invalid_argument);
  CHECK_THROWS_AS(registry.gauge("hits_total", "Hits.", {"route"}), std::invalid_argument);
  CHECK_THROWS_AS(registry.histogram("hits_total", "Hits.", {"route"}), std::invalid_argument);
  CHECK_THROWS_AS(registry.counter("hits_total", "Hits."), std::invalid_argument);
  CHECK_THROWS_AS(registry.counter("hits_total", "Hits.", {"path"}), std::invalid_argument);
  CHECK_THROWS_AS(registry.counter("hits_total", "Hits.", {"route", "code"}), std::invalid_argument);
  CHECK_THROWS_AS(registry.histogram("wait_seconds", "Waits.", {}, {1, 3}), std::invalid_argument);
  CHECK_THROWS_AS(registry.histogram("wait_seconds", "Waits."), std::invalid_argument);
}

TEST_CASE("families whose samples would collide are refused", "[metrics]") {
  Registry registry;
  registry.histogram("rpc_seconds", "x");
  CHECK_THROWS_AS(registry.counter("rpc_seconds_count", "x"), std::invalid_argument);
  CHECK_THROWS_AS(registry.gauge("rpc_seconds_bucket", "x"), std::invalid_argument);
  registry.gauge("queue_sum", "x");
  CHECK_THROWS_AS(registry.histogram("queue", "x"), std::invalid_argument);
  CHECK_NOTHROW(registry.gauge("rpc_seconds_total", "not a histogram sample name"));
}

TEST_CASE("counters only go up", "[metrics]") {
  Registry registry;
  auto& counter = registry.counter("up_total", "x").with({});
  counter.inc(2);
  CHECK_THROWS_AS(counter.inc(-1), std::invalid_argument);
  CHECK_THROWS_AS(counter.inc(std::numeric_limits<double>::quiet_NaN()), std::invalid_argument);
  counter.inc(0);
  counter.inc();
  CHECK(counter.value() == 3);
}

TEST_CASE("gauges set, increase and decrease", "[metrics]") {
  Gauge gauge;
  gauge.set(10);
  gauge.inc();
  gauge.inc(2.5);
  gauge.dec(4);
  CHECK(gauge.value() == 9.5);
  gauge.dec();
  CHECK(gauge.value() == 8.5);
}

TEST_CASE("histogram buckets are validated and snapshots are cumulative", "[metrics]") {
  CHECK_THROWS_AS(Histogram({2, 1}), std::invalid_argument);
  CHECK_THROWS_AS(Histogram({1, 1}), std::invalid_argument);
  CHECK_THROWS_AS(Histogram({1, std::numeric_limits<double>::quiet_NaN()}), std::invalid_argument);
  CHECK_THROWS_AS(Histogram({-std::numeric_limits<double>::infinity(), 1}), std::invalid_argument);
  Registry registry;
  CHECK_THROWS_AS(registry.histogram("bad_seconds", "x", {}, {0.5, 0.1}), std::invalid_argument);

  Histogram histogram({1, 2, std::numeric_limits<double>::infinity()});  // a trailing +Inf is implied anyway
  histogram.observe(0.5);
  histogram.observe(1);
  histogram.observe(1.5);
  histogram.observe(100);
  histogram.observe(std::numeric_limits<double>::quiet_NaN());  // counted in +Inf, as client_golang does
  const auto snapshot = histogram.snapshot();
  CHECK(snapshot.upper_bounds == std::vector<double>{1, 2});
  CHECK(snapshot.cumulative_counts == std::vector<std::uint64_t>{2, 3, 5});
  CHECK(snapshot.count == 5);
  CHECK(std::isnan(snapshot.sum));

  Histogram empty({});
  empty.observe(-3);
  CHECK(empty.snapshot().cumulative_counts == std::vector<std::uint64_t>{1});
  CHECK(empty.snapshot().sum == -3);
}

TEST_CASE("default latency buckets run from 0.5 ms to 10 s", "[metrics]") {
  CHECK(plexus::metrics::default_latency_buckets() ==
        std::vector<double>{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10});
  Registry registry;
  const std::string text = (registry.histogram("default_seconds", "x"), registry.render());
  CHECK(contains(text, "default_seconds_bucket{le=\"0.0005\"} 0\n"));
  CHECK(contains(text, "default_seconds_bucket{le=\"2.5\"} 0\n"));
  CHECK(contains(text, "default_seconds_bucket{le=\"10\"} 0\n"));
}

TEST_CASE("children are looked up once and stay the same object", "[metrics]") {
  Registry registry;
  auto& family = registry.counter("lookups_total", "x", {"a", "b"});
  auto& child = family.with({"x", "y"});
  CHECK(&family.with(std::vector<std::string>{"x", "y"}) == &child);
  CHECK(&family.with({"x", "z"}) != &child);

  // A family without labels has its one child from the start, so it renders 0.
  auto& plain = registry.gauge("plain_bytes", "x");
  CHECK(contains(registry.render(), "\nplain_bytes 0\n"));
  CHECK(&plain.with({}) == &plain.with({}));
}

TEST_CASE("a labelled family without children renders only HELP and TYPE", "[metrics]") {
  Registry registry;
  registry.counter("never_total", "Never used.", {"reason"});
  CHECK(registry.render() == "# HELP never_total Never used.\n# TYPE never_total counter\n");
}

TEST_CASE("remove drops one child", "[metrics]") {
  Registry registry;
  auto& family = registry.counter("routes_total", "x", {"route"});
  family.with({"/keep"}).inc(2);
  family.with({"/drop"}).inc(5);
  family.remove({"/drop"});
  family.remove({"/never-existed"});
  const std::string text = registry.render();
  CHECK_FALSE(contains(text, "/drop"));
  CHECK(contains(text, "routes_total{route=\"/keep\"} 2\n"));
  CHECK(family.with({"/drop"}).value() == 0);  // a new child starts from zero
}

TEST_CASE("collectors run before every render", "[metrics]") {
  Registry registry;
  auto& renders = registry.counter("renders_total", "Renders seen by the collector.").with({});
  registry.add_collector([&renders] { renders.inc(); });
  // A collector may register families; it runs without the registry lock.
  registry.add_collector([&registry] { registry.gauge("late_gauge", "Registered by a collector.").with({}).set(7); });
  CHECK(sample_value(registry.render(), "renders_total") == 1);
  const std::string text = registry.render();
  CHECK(sample_value(text, "renders_total") == 2);
  CHECK(sample_value(text, "late_gauge") == 7);
}

TEST_CASE("concurrent updates are exact", "[metrics][concurrency]") {
  constexpr int threads = 4;
  constexpr int per_thread = 100'000;
  Registry registry;
  auto& counters = registry.counter("work_total", "x", {"kind"});
  auto& gauge = registry.gauge("balance", "x").with({});
  auto& histograms = registry.histogram("work_seconds", "x", {"kind"}, {0.5, 1.5});

  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        counters.with({"shared"}).inc();          // lookup on every call, as careless callers do
        counters.with({std::to_string(i % 50)});  // and children created concurrently
        histograms.with({"shared"}).observe(i % 2 == 0 ? 1.0 : 2.0);
        if (t % 2 == 0) {
          gauge.inc(2);
        } else {
          gauge.dec(2);
        }
      }
    });
  }
  // Scrapes race with the updates and must stay consistent: _count equals the +Inf
  // bucket. (Catch2 assertions are not thread-safe, so the verdict is checked later.)
  int inconsistent_scrapes = 0;
  std::thread scraper([&] {
    for (int i = 0; i < 50; ++i) {
      const std::string text = registry.render();
      const auto count = sample_value(text, "work_seconds_count{kind=\"shared\"}");
      const auto inf = sample_value(text, "work_seconds_bucket{kind=\"shared\",le=\"+Inf\"}");
      if (count != inf) ++inconsistent_scrapes;
    }
  });
  for (auto& worker : workers) worker.join();
  scraper.join();
  CHECK(inconsistent_scrapes == 0);

  CHECK(counters.with({"shared"}).value() == threads * per_thread);
  CHECK(gauge.value() == 0);
  const auto snapshot = histograms.with({"shared"}).snapshot();
  CHECK(snapshot.count == threads * per_thread);
  CHECK(snapshot.cumulative_counts == std::vector<std::uint64_t>{0, 200'000, 400'000});
  CHECK(snapshot.sum == 600'000);
  CHECK(sample_value(registry.render(), "work_total{kind=\"shared\"}") == threads * per_thread);
}

TEST_CASE("concurrent registration of the same family yields one family", "[metrics][concurrency]") {
  Registry registry;
  std::vector<std::thread> workers;
  std::array<plexus::metrics::Family<Counter>*, 4> seen{};
  for (std::size_t t = 0; t < seen.size(); ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < 1000; ++i) {
        auto& family = registry.counter("raced_total", "x", {"a"});
        family.with({"b"}).inc();
        seen[t] = &family;
      }
    });
  }
  for (auto& worker : workers) worker.join();
  for (auto* family : seen) CHECK(family == seen[0]);
  CHECK(seen[0]->with({"b"}).value() == 4000);
}

TEST_CASE("process metrics are present and plausible", "[metrics][process]") {
  Registry registry;
  plexus::metrics::register_process_metrics(registry);
  const std::string text = registry.render();

  CHECK(contains(text, "# TYPE process_cpu_seconds_total counter\n"));
  for (const char* gauge : {"process_resident_memory_bytes", "process_virtual_memory_bytes", "process_open_fds",
                            "process_max_fds", "process_start_time_seconds", "process_threads",
                            "plexus_uptime_seconds"}) {
    INFO(gauge);
    CHECK(contains(text, std::string("# TYPE ") + gauge + " gauge\n"));
    CHECK(sample_value(text, gauge).has_value());
  }
  const double resident = sample_value(text, "process_resident_memory_bytes").value_or(-1);
  CHECK(resident > 0);
  CHECK(sample_value(text, "process_virtual_memory_bytes").value_or(-1) >= resident);
  CHECK(sample_value(text, "process_cpu_seconds_total").value_or(-1) >= 0);
  const double open_fds = sample_value(text, "process_open_fds").value_or(-1);
  CHECK(open_fds >= 3);
  CHECK(sample_value(text, "process_max_fds").value_or(-1) >= open_fds);
  CHECK(sample_value(text, "process_threads").value_or(-1) >= 1);
  const double uptime = sample_value(text, "plexus_uptime_seconds").value_or(-1);
  CHECK(uptime >= 0);
  CHECK(uptime < 3600);
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const double start = sample_value(text, "process_start_time_seconds").value_or(-1);
  CHECK(start <= now + 2);  // btime is whole seconds
  CHECK(start > now - uptime - 5);
}

TEST_CASE("process metrics follow the process between scrapes", "[metrics][process]") {
  Registry registry;
  plexus::metrics::register_process_metrics(registry);
  const std::string before = registry.render();

  std::vector<int> extra_fds;
  for (int i = 0; i < 5; ++i) extra_fds.push_back(dup(STDERR_FILENO));
  std::atomic<bool> stop{false};
  std::thread sleeper([&stop] {
    while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  });
  // Burn 50 ms of our own CPU time (not wall time: the machine may be busy) so the
  // counter, kept in 10 ms ticks, must move.
  const auto cpu_seconds = [] {
    timespec now{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
  };
  const double burn_until = cpu_seconds() + 0.05;
  volatile double sink = 0;
  while (cpu_seconds() < burn_until) sink = sink + 1;
  const std::string after = registry.render();
  stop = true;
  sleeper.join();
  for (int fd : extra_fds) close(fd);

  CHECK(sample_value(after, "process_open_fds") == sample_value(before, "process_open_fds").value_or(0) + 5);
  CHECK(sample_value(after, "process_threads") >= sample_value(before, "process_threads").value_or(0) + 1);
  CHECK(sample_value(after, "process_cpu_seconds_total") > sample_value(before, "process_cpu_seconds_total"));
  CHECK(sample_value(after, "plexus_uptime_seconds") > sample_value(before, "plexus_uptime_seconds"));
  CHECK(sample_value(after, "process_start_time_seconds") == sample_value(before, "process_start_time_seconds"));
}

TEST_CASE("the full exposition passes promtool check metrics without lint findings", "[metrics][promtool]") {
  Registry registry;
  plexus::metrics::register_process_metrics(registry);
  auto& requests = registry.counter("plexus_test_requests_total", "Requests by method and route.", {"method", "route"});
  requests.with({"GET", "/items/{id}"}).inc(3);
  requests.with({"POST", "back\\slash \"quoted\"\nnew line"}).inc();
  requests.with({"PUT", "ünïcødé ✓ 😀"}).inc(0.25);
  requests.with({"DELETE", ""}).inc();
  requests.with({"PATCH", "le=\"1\",a={b}"}).inc();
  auto& open = registry.gauge("plexus_test_connections_open", "Open connections.\nSecond line \\ backslash.",
                              {"listener"});
  open.with({"main"}).set(12);
  open.with({"nan"}).set(std::numeric_limits<double>::quiet_NaN());
  open.with({"inf"}).set(std::numeric_limits<double>::infinity());
  open.with({"neg_inf"}).set(-std::numeric_limits<double>::infinity());
  auto& latency = registry.histogram("plexus_test_request_duration_seconds", "Latency.", {"route"});
  latency.with({"/a"}).observe(0.003);
  latency.with({"/a"}).observe(42);
  latency.with({"quote\"d"}).observe(1e-7);
  registry.histogram("plexus_test_batch_size_bytes", "Sizes without labels.", {}, {1024, 65536}).with({}).observe(2048);
  registry.counter("plexus_test_unused_total", "A family with labels and no children yet.", {"reason"});

  const std::string exposition = registry.render();
  const auto result = promtool_check(exposition);
  INFO("exposition:\n" << exposition);
  INFO("promtool said:\n" << result.output);
  CHECK(result.exit_code == 0);
  CHECK(result.output.empty());
}

TEST_CASE("promtool check really rejects broken expositions", "[metrics][promtool]") {
  // Guards the test above against a promtool that accepts anything.
  CHECK(promtool_check("# TYPE broken counter\nbroken{a=\"unterminated} 1\n").exit_code != 0);
  const auto lint = promtool_check("# HELP hits Hits.\n# TYPE hits counter\nhits 1\n");
  CHECK(contains(lint.output, "_total"));
}
