// A registry of counters, gauges and histograms rendered in the Prometheus text
// exposition format (version 0.0.4). Families are created once; a child per label
// set is looked up once and then updated lock-free on hot paths.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace plexus::metrics {

class Counter {
 public:
  void inc(double amount = 1.0);  // amount must be >= 0, else std::invalid_argument
  double value() const;
  // Only for counters that mirror a total kept elsewhere (e.g. the CPU time the
  // kernel reports in /proc); instrumented code counts with inc().
  void set_from_source(double total);

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void set(double value);
  void inc(double amount = 1.0);
  void dec(double amount = 1.0);
  double value() const;

 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  // Strictly increasing finite bounds; a trailing +Inf is implied (and dropped if
  // given). Anything else throws std::invalid_argument.
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double value);
  struct Snapshot {
    std::vector<double> upper_bounds;
    std::vector<std::uint64_t> cumulative_counts;  // one per bound, then +Inf
    double sum = 0;
    std::uint64_t count = 0;
  };
  Snapshot snapshot() const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // per bucket, not cumulative; last is +Inf
  // No separate count: snapshot() derives it from the buckets, so _count always
  // equals the +Inf bucket even while observations race with a scrape.
  std::atomic<double> sum_{0.0};
};

// Default latency buckets in seconds: 0.5 ms to 10 s.
std::vector<double> default_latency_buckets();

enum class Kind { counter, gauge, histogram };

template <class Metric>
class Family;

class Registry;

class FamilyBase {
 public:
  virtual ~FamilyBase() = default;
  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  Kind kind() const { return kind_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  virtual void render(std::string& out) const = 0;

 protected:
  FamilyBase(std::string name, std::string help, Kind kind, std::vector<std::string> label_names);
  std::string name_;
  std::string help_;
  Kind kind_;
  std::vector<std::string> label_names_;
};

template <class Metric>
class Family final : public FamilyBase {
 public:
  // The child for these label values (one per label name, in order). The reference
  // stays valid for the registry's lifetime, unless remove() drops it.
  Metric& with(const std::vector<std::string>& label_values);
  Metric& with(std::initializer_list<std::string_view> label_values);
  // Drop one child (e.g. a plugin's route when the plugin unloads); absent is a no-op.
  void remove(const std::vector<std::string>& label_values);
  void render(std::string& out) const override;

 private:
  friend class Registry;
  Family(std::string name, std::string help, Kind kind, std::vector<std::string> label_names,
         std::vector<double> buckets);
  std::unique_ptr<Metric> make_child() const;
  std::vector<double> buckets_;  // histograms only
  mutable std::shared_mutex mutex_;
  std::map<std::vector<std::string>, std::unique_ptr<Metric>> children_;
};

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Registering the same name again returns the existing family when kind and
  // labels (and buckets) match, and throws std::invalid_argument otherwise (or on
  // a bad name, or a name whose samples would collide with another family's).
  // A family without labels starts with its single child, so it renders 0 at once.
  Family<Counter>& counter(std::string name, std::string help, std::vector<std::string> label_names = {});
  Family<Gauge>& gauge(std::string name, std::string help, std::vector<std::string> label_names = {});
  Family<Histogram>& histogram(std::string name, std::string help, std::vector<std::string> label_names = {},
                               std::vector<double> buckets = default_latency_buckets());

  // Runs before every render, e.g. to sample process figures into gauges. Collectors
  // run without the registry lock held, so they may register families themselves.
  void add_collector(std::function<void()> collect);

  // The whole registry in Prometheus text format, families sorted by name.
  std::string render() const;

 private:
  FamilyBase& add(std::unique_ptr<FamilyBase> family, Kind kind, const std::vector<std::string>& label_names);
  mutable std::shared_mutex mutex_;  // shared for render, exclusive to register
  std::map<std::string, std::unique_ptr<FamilyBase>> families_;
  std::vector<std::function<void()>> collectors_;
};

// process_resident_memory_bytes, process_virtual_memory_bytes, process_cpu_seconds_total,
// process_open_fds, process_max_fds, process_start_time_seconds, process_threads and
// plexus_uptime_seconds, read from /proc at every scrape.
void register_process_metrics(Registry& registry);

}  // namespace plexus::metrics
