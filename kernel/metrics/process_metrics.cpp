// The standard process_* families (same names, help and meaning as the Prometheus
// client libraries' process collectors) plus plexus_uptime_seconds, sampled from
// /proc at every scrape. Linux only, like the rest of the kernel.
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "kernel/metrics/registry.hpp"

namespace plexus::metrics {

namespace {

// The /proc/self/stat fields we use, still in kernel units (clock ticks, pages).
struct ProcessStat {
  std::uint64_t user_ticks = 0;
  std::uint64_t system_ticks = 0;
  std::uint64_t threads = 0;
  std::uint64_t start_ticks = 0;  // since boot
  std::uint64_t virtual_bytes = 0;
  std::uint64_t resident_pages = 0;
};

std::optional<std::uint64_t> parse_unsigned(const std::string& text) {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<ProcessStat> read_process_stat() {
  std::ifstream file("/proc/self/stat");
  std::string line;
  if (!std::getline(file, line)) return std::nullopt;
  // The command name (field 2) is in parentheses and may itself contain spaces or
  // ')', so fields are counted from the last ')'.
  const auto name_end = line.rfind(')');
  if (name_end == std::string::npos) return std::nullopt;
  std::istringstream rest(line.substr(name_end + 1));
  std::vector<std::string> fields;  // fields[0] is field 3 (state) in proc(5)
  for (std::string field; rest >> field;) fields.push_back(field);
  if (fields.size() < 22) return std::nullopt;

  const auto field = [&](std::size_t number) { return parse_unsigned(fields[number - 3]); };
  const auto utime = field(14), stime = field(15), threads = field(20), start = field(22), vsize = field(23),
             rss = field(24);
  if (!utime || !stime || !threads || !start || !vsize || !rss) return std::nullopt;
  return ProcessStat{*utime, *stime, *threads, *start, *vsize, *rss};
}

// Boot time in unix seconds, the "btime" line of /proc/stat.
std::optional<double> read_boot_time() {
  std::ifstream file("/proc/stat");
  for (std::string line; std::getline(file, line);) {
    if (line.starts_with("btime ")) {
      if (const auto value = parse_unsigned(line.substr(6))) return static_cast<double>(*value);
    }
  }
  return std::nullopt;
}

std::optional<double> count_open_fds() {
  std::error_code error;
  std::filesystem::directory_iterator entries("/proc/self/fd", error);
  if (error) return std::nullopt;
  double count = 0;
  for (auto end = std::filesystem::directory_iterator(); entries != end; entries.increment(error)) {
    if (error) return std::nullopt;
    ++count;
  }
  return count;
}

double max_fds() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return std::numeric_limits<double>::quiet_NaN();
  if (limit.rlim_cur == RLIM_INFINITY) return std::numeric_limits<double>::infinity();
  return static_cast<double>(limit.rlim_cur);
}

// CLOCK_BOOTTIME is the clock /proc's start time counts on, and it never jumps
// with wall-clock changes, so uptime stays monotonic.
double seconds_since_boot() {
  timespec now{};
  clock_gettime(CLOCK_BOOTTIME, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

}  // namespace

void register_process_metrics(Registry& registry) {
  auto& resident = registry.gauge("process_resident_memory_bytes", "Resident memory size in bytes.").with({});
  auto& virtual_memory = registry.gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.").with({});
  auto& cpu =
      registry.counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.").with({});
  auto& open_fds = registry.gauge("process_open_fds", "Number of open file descriptors.").with({});
  auto& max_open_fds = registry.gauge("process_max_fds", "Maximum number of open file descriptors.").with({});
  auto& start_time =
      registry.gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.").with({});
  auto& threads = registry.gauge("process_threads", "Number of OS threads in the process.").with({});
  auto& uptime = registry.gauge("plexus_uptime_seconds", "Seconds since the Plexus process started.").with({});

  const double ticks_per_second = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page_bytes = static_cast<double>(sysconf(_SC_PAGESIZE));

  // The start time never changes, so it is read once.
  double started_after_boot = 0;
  if (const auto stat = read_process_stat()) {
    started_after_boot = static_cast<double>(stat->start_ticks) / ticks_per_second;
    if (const auto boot = read_boot_time()) start_time.set(*boot + started_after_boot);
  }

  // The pointers stay valid: the collector lives in the registry that owns the metrics.
  registry.add_collector([resident = &resident, virtual_memory = &virtual_memory, cpu = &cpu, open_fds = &open_fds,
                          max_open_fds = &max_open_fds, threads = &threads, uptime = &uptime, ticks_per_second,
                          page_bytes, started_after_boot] {
    // An unreadable /proc keeps the last values rather than failing the scrape.
    if (const auto stat = read_process_stat()) {
      resident->set(static_cast<double>(stat->resident_pages) * page_bytes);
      virtual_memory->set(static_cast<double>(stat->virtual_bytes));
      cpu->set_from_source(static_cast<double>(stat->user_ticks + stat->system_ticks) / ticks_per_second);
      threads->set(static_cast<double>(stat->threads));
    }
    if (const auto fds = count_open_fds()) open_fds->set(*fds);
    max_open_fds->set(max_fds());
    // Milliseconds are plenty: the start time itself is only known to a clock tick.
    uptime->set(std::max(0.0, std::round((seconds_since_boot() - started_after_boot) * 1000) / 1000));
  });
}

}  // namespace plexus::metrics
