// Counters, gauges, histograms, their families and the registry that renders them in
// the Prometheus text exposition format 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/).
#include "kernel/metrics/registry.hpp"

#include "kernel/text/utf8.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <iterator>
#include <set>
#include <stdexcept>
#include <type_traits>

namespace plexus::metrics {

namespace {

bool is_ascii_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_ascii_digit(char c) { return c >= '0' && c <= '9'; }

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool valid_metric_name(std::string_view name) {
  if (name.empty() || is_ascii_digit(name.front())) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return is_ascii_letter(c) || is_ascii_digit(c) || c == '_' || c == ':'; });
}

// [a-zA-Z_][a-zA-Z0-9_]*, and names starting with "__" are reserved for Prometheus itself.
bool valid_label_name(std::string_view name) {
  if (name.empty() || is_ascii_digit(name.front()) || name.starts_with("__")) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return is_ascii_letter(c) || is_ascii_digit(c) || c == '_'; });
}

// HELP text escapes backslash and newline; label values also escape the double quote.
void append_escaped(std::string& out, std::string_view text, bool escape_quote) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && escape_quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

// Integers print without exponent while every digit is exact (|v| <= 2^53); other
// values print as the shortest text that parses back to the same double, in fixed
// notation for everyday magnitudes and scientific for tiny or huge ones.
void append_number(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
    return;
  }
  if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
    return;
  }
  char buffer[64];
  std::to_chars_result result{};
  const double magnitude = std::fabs(value);
  if (value == std::trunc(value) && magnitude <= 9007199254740992.0) {
    result = std::to_chars(std::begin(buffer), std::end(buffer), static_cast<std::int64_t>(value));
  } else if (magnitude >= 1e-4 && magnitude < 1e15) {
    result = std::to_chars(std::begin(buffer), std::end(buffer), value, std::chars_format::fixed);
  } else {
    result = std::to_chars(std::begin(buffer), std::end(buffer), value, std::chars_format::scientific);
  }
  out.append(buffer, result.ptr);
}

void append_number(std::string& out, std::uint64_t value) {
  char buffer[24];
  const auto result = std::to_chars(std::begin(buffer), std::end(buffer), value);
  out.append(buffer, result.ptr);
}

// `{a="x",b="y"}`, with `extra` (histograms' le) appended last; nothing when empty.
void append_labels(std::string& out, const std::vector<std::string>& names, const std::vector<std::string>& values,
                   std::string_view extra = {}) {
  if (names.empty() && extra.empty()) return;
  out += '{';
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ',';
    out += names[i];
    out += "=\"";
    append_escaped(out, values[i], true);
    out += '"';
  }
  if (!extra.empty()) {
    if (!names.empty()) out += ',';
    out += extra;
  }
  out += '}';
}

std::string_view kind_name(Kind kind) {
  switch (kind) {
    case Kind::counter:
      return "counter";
    case Kind::gauge:
      return "gauge";
    case Kind::histogram:
      return "histogram";
  }
  return "untyped";
}

std::vector<double> checked_bounds(std::vector<double> bounds) {
  if (!bounds.empty() && std::isinf(bounds.back()) && bounds.back() > 0) bounds.pop_back();  // +Inf is implied
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i])) throw std::invalid_argument("histogram bucket bounds must be finite");
    if (i > 0 && !(bounds[i - 1] < bounds[i]))
      throw std::invalid_argument("histogram bucket bounds must be strictly increasing");
  }
  return bounds;
}

// The sample names a family writes; two families must never share one.
std::vector<std::string> sample_names(const FamilyBase& family) {
  if (family.kind() != Kind::histogram) return {family.name()};
  return {family.name() + "_bucket", family.name() + "_sum", family.name() + "_count"};
}

}  // namespace

// ---- Counter, Gauge ----------------------------------------------------------------

void Counter::inc(double amount) {
  // Written as a negated comparison so NaN is refused too.
  if (!(amount >= 0)) throw std::invalid_argument("counter increment must be non-negative");
  value_.fetch_add(amount, std::memory_order_relaxed);
}

double Counter::value() const { return value_.load(std::memory_order_relaxed); }

void Counter::set_from_source(double total) { value_.store(total, std::memory_order_relaxed); }

void Gauge::set(double value) { value_.store(value, std::memory_order_relaxed); }
void Gauge::inc(double amount) { value_.fetch_add(amount, std::memory_order_relaxed); }
void Gauge::dec(double amount) { value_.fetch_sub(amount, std::memory_order_relaxed); }
double Gauge::value() const { return value_.load(std::memory_order_relaxed); }

// ---- Histogram ---------------------------------------------------------------------

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(checked_bounds(std::move(upper_bounds))),
      counts_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {}

void Histogram::observe(double value) {
  // First bound >= value ("le"); NaN compares false everywhere and lands in +Inf,
  // as in client_golang.
  std::size_t bucket = bounds_.size();
  if (!std::isnan(value)) {
    bucket = static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
  }
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot snapshot;
  snapshot.upper_bounds = bounds_;
  snapshot.cumulative_counts.reserve(bounds_.size() + 1);
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    snapshot.cumulative_counts.push_back(running);
  }
  snapshot.count = running;
  snapshot.sum = sum_.load(std::memory_order_relaxed);
  return snapshot;
}

std::vector<double> default_latency_buckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

// ---- Families ----------------------------------------------------------------------

FamilyBase::FamilyBase(std::string name, std::string help, Kind kind, std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), kind_(kind), label_names_(std::move(label_names)) {
  if (!valid_metric_name(name_)) throw std::invalid_argument("invalid metric name: " + name_);
  std::set<std::string_view> seen;
  for (const auto& label : label_names_) {
    if (!valid_label_name(label)) throw std::invalid_argument("invalid label name '" + label + "' in " + name_);
    if (kind_ == Kind::histogram && label == "le")
      throw std::invalid_argument("histogram " + name_ + " may not use the reserved label 'le'");
    if (!seen.insert(label).second) throw std::invalid_argument("duplicate label name '" + label + "' in " + name_);
  }
}

template <class Metric>
Family<Metric>::Family(std::string name, std::string help, Kind kind, std::vector<std::string> label_names,
                       std::vector<double> buckets)
    : FamilyBase(std::move(name), std::move(help), kind, std::move(label_names)) {
  if constexpr (std::is_same_v<Metric, Histogram>) buckets_ = checked_bounds(std::move(buckets));
  // A family without labels has exactly one child; create it now so it is scraped
  // as 0 from the start instead of appearing only after the first update.
  if (label_names_.empty()) children_.emplace(std::vector<std::string>{}, make_child());
}

template <class Metric>
std::unique_ptr<Metric> Family<Metric>::make_child() const {
  if constexpr (std::is_same_v<Metric, Histogram>) {
    return std::make_unique<Histogram>(buckets_);
  } else {
    return std::make_unique<Metric>();
  }
}

template <class Metric>
Metric& Family<Metric>::with(const std::vector<std::string>& label_values) {
  if (label_values.size() != label_names_.size()) {
    throw std::invalid_argument(name_ + " takes " + std::to_string(label_names_.size()) + " label values, got " +
                                std::to_string(label_values.size()));
  }
  {
    std::shared_lock lock(mutex_);
    if (auto found = children_.find(label_values); found != children_.end()) return *found->second;
  }
  for (const auto& value : label_values) {
    // Prometheus rejects the whole scrape on one invalid byte: refuse it here, as client_golang does.
    if (!text::valid_utf8(value)) throw std::invalid_argument("label value for " + name_ + " is not valid UTF-8");
  }
  auto child = make_child();
  std::unique_lock lock(mutex_);
  // Another thread may have created it between the two locks; keep theirs.
  auto [entry, inserted] = children_.try_emplace(label_values, std::move(child));
  return *entry->second;
}

template <class Metric>
Metric& Family<Metric>::with(std::initializer_list<std::string_view> label_values) {
  return with(std::vector<std::string>(label_values.begin(), label_values.end()));
}

template <class Metric>
void Family<Metric>::remove(const std::vector<std::string>& label_values) {
  if (label_values.size() != label_names_.size()) {
    throw std::invalid_argument(name_ + " takes " + std::to_string(label_names_.size()) + " label values, got " +
                                std::to_string(label_values.size()));
  }
  std::unique_lock lock(mutex_);
  children_.erase(label_values);
}

template <class Metric>
void Family<Metric>::render(std::string& out) const {
  out += "# HELP ";
  out += name_;
  out += ' ';
  append_escaped(out, help_, false);
  out += "\n# TYPE ";
  out += name_;
  out += ' ';
  out += kind_name(kind_);
  out += '\n';

  std::shared_lock lock(mutex_);
  for (const auto& [label_values, child] : children_) {
    if constexpr (std::is_same_v<Metric, Histogram>) {
      const auto snapshot = child->snapshot();
      std::string le;
      for (std::size_t i = 0; i <= snapshot.upper_bounds.size(); ++i) {
        le = "le=\"";
        if (i < snapshot.upper_bounds.size()) {
          append_number(le, snapshot.upper_bounds[i]);
        } else {
          le += "+Inf";
        }
        le += '"';
        out += name_;
        out += "_bucket";
        append_labels(out, label_names_, label_values, le);
        out += ' ';
        append_number(out, snapshot.cumulative_counts[i]);
        out += '\n';
      }
      out += name_;
      out += "_sum";
      append_labels(out, label_names_, label_values);
      out += ' ';
      append_number(out, snapshot.sum);
      out += '\n';
      out += name_;
      out += "_count";
      append_labels(out, label_names_, label_values);
      out += ' ';
      append_number(out, snapshot.count);
      out += '\n';
    } else {
      out += name_;
      append_labels(out, label_names_, label_values);
      out += ' ';
      append_number(out, child->value());
      out += '\n';
    }
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

// ---- Registry ----------------------------------------------------------------------

FamilyBase& Registry::add(std::unique_ptr<FamilyBase> family, Kind kind, const std::vector<std::string>& label_names) {
  std::unique_lock lock(mutex_);
  if (auto found = families_.find(family->name()); found != families_.end()) {
    const FamilyBase& existing = *found->second;
    if (existing.kind() != kind || existing.label_names() != label_names) {
      throw std::invalid_argument("metric " + family->name() + " is already registered as a " +
                                  std::string(kind_name(existing.kind())) + " with other labels or type");
    }
    return *found->second;
  }
  // e.g. a counter "x_count" next to a histogram "x" would make an ambiguous scrape.
  const auto wanted = sample_names(*family);
  for (const auto& [name, existing] : families_) {
    for (const auto& taken : sample_names(*existing)) {
      if (std::find(wanted.begin(), wanted.end(), taken) != wanted.end()) {
        throw std::invalid_argument("metric " + family->name() + " collides with the samples of " + name);
      }
    }
  }
  auto& stored = families_[family->name()];
  stored = std::move(family);
  return *stored;
}

Family<Counter>& Registry::counter(std::string name, std::string help, std::vector<std::string> label_names) {
  auto family = std::unique_ptr<Family<Counter>>(
      new Family<Counter>(std::move(name), std::move(help), Kind::counter, label_names, {}));
  return static_cast<Family<Counter>&>(add(std::move(family), Kind::counter, label_names));
}

Family<Gauge>& Registry::gauge(std::string name, std::string help, std::vector<std::string> label_names) {
  auto family =
      std::unique_ptr<Family<Gauge>>(new Family<Gauge>(std::move(name), std::move(help), Kind::gauge, label_names, {}));
  return static_cast<Family<Gauge>&>(add(std::move(family), Kind::gauge, label_names));
}

Family<Histogram>& Registry::histogram(std::string name, std::string help, std::vector<std::string> label_names,
                                       std::vector<double> buckets) {
  auto family = std::unique_ptr<Family<Histogram>>(
      new Family<Histogram>(std::move(name), std::move(help), Kind::histogram, label_names, std::move(buckets)));
  const auto wanted_buckets = family->buckets_;
  auto& result = static_cast<Family<Histogram>&>(add(std::move(family), Kind::histogram, label_names));
  if (result.buckets_ != wanted_buckets) {
    throw std::invalid_argument("histogram " + result.name() + " is already registered with other buckets");
  }
  return result;
}

void Registry::add_collector(std::function<void()> collect) {
  std::unique_lock lock(mutex_);
  collectors_.push_back(std::move(collect));
}

std::string Registry::render() const {
  std::vector<std::function<void()>> collectors;
  {
    std::shared_lock lock(mutex_);
    collectors = collectors_;
  }
  for (const auto& collect : collectors) collect();

  std::string out;
  std::shared_lock lock(mutex_);
  for (const auto& [name, family] : families_) family->render(out);  // std::map: sorted by name
  return out;
}

}  // namespace plexus::metrics
