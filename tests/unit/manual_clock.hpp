// A clock for jobs and leases that moves only when a test moves it, so expiry and
// backoff are checked at exact time points instead of by sleeping.
#pragma once

#include <atomic>
#include <chrono>

#include "kernel/jobs/database_clock.hpp"

namespace plexus::test {

class ManualClock {
 public:
  explicit ManualClock(store::TimePoint start = store::TimePoint(std::chrono::hours(24 * 20000)))
      : milliseconds_(
            std::chrono::duration_cast<std::chrono::milliseconds>(start.time_since_epoch()).count()) {}

  store::TimePoint now() const { return store::TimePoint(std::chrono::milliseconds(milliseconds_.load())); }
  void advance(std::chrono::milliseconds by) { milliseconds_ += by.count(); }
  jobs::Clock clock() {
    return [this](soci::session&) { return now(); };
  }

 private:
  std::atomic<long long> milliseconds_;
};

}  // namespace plexus::test
