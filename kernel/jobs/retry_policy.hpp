// How long a failed job waits before its next attempt: exponential backoff,
// base * factor^(attempt - 1), capped at max, shortened by a random share of up to
// `jitter` so jobs that failed together (a database restart) do not retry together.
#pragma once

#include <chrono>
#include <functional>

namespace plexus::jobs {

struct RetryPolicy {
  std::chrono::milliseconds base{std::chrono::seconds(10)};
  double factor = 2.0;
  std::chrono::milliseconds max{std::chrono::hours(1)};
  double jitter = 0.2;  // 0..1; 0 makes every delay exact
  // A uniform number in [0, 1); empty: a random generator. Tests pass a fixed one.
  std::function<double()> random;
};

// The delay after failed attempt number `attempt` (1 for the first). Throws
// std::invalid_argument for a negative base or max, a factor below 1 or a jitter outside 0..1.
std::chrono::milliseconds retry_delay(const RetryPolicy& policy, int attempt);

}  // namespace plexus::jobs
