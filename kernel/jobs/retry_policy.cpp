#include "kernel/jobs/retry_policy.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

namespace plexus::jobs {
namespace {

double random_unit() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(generator);
}

}  // namespace

std::chrono::milliseconds retry_delay(const RetryPolicy& policy, int attempt) {
  if (policy.base.count() < 0 || policy.max.count() < 0) {
    throw std::invalid_argument("retry base and max must not be negative");
  }
  if (!(policy.factor >= 1.0)) throw std::invalid_argument("retry factor must be at least 1");
  if (!(policy.jitter >= 0.0 && policy.jitter <= 1.0))
    throw std::invalid_argument("retry jitter must be within 0..1");
  // In double and capped before converting back: factor^attempt overflows any integer quickly.
  const double exponential =
      static_cast<double>(policy.base.count()) * std::pow(policy.factor, std::max(attempt - 1, 0));
  const double capped = std::min(exponential, static_cast<double>(policy.max.count()));
  const double unit = policy.random ? policy.random() : random_unit();
  return std::chrono::milliseconds(
      static_cast<std::int64_t>(std::llround(capped * (1.0 - policy.jitter * unit))));
}

}  // namespace plexus::jobs
