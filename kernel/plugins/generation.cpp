#include "kernel/plugins/generation.hpp"

namespace plexus::plugins {

Lease::~Lease() {
  if (generation_) generation_->leases_.fetch_sub(1);
}

bool CircuitBreaker::allow() {
  std::lock_guard lock(mutex_);
  if (!opened_at_) return true;
  if (Clock::now() - *opened_at_ < cooldown_ || trial_running_) return false;
  trial_running_ = true;  // half-open: one call decides
  return true;
}

void CircuitBreaker::success() {
  std::lock_guard lock(mutex_);
  failures_ = 0;
  opened_at_.reset();
  trial_running_ = false;
}

void CircuitBreaker::failure() {
  std::lock_guard lock(mutex_);
  ++failures_;
  trial_running_ = false;
  if (failures_ >= threshold_ || opened_at_) opened_at_ = Clock::now();
}

bool CircuitBreaker::open() const {
  std::lock_guard lock(mutex_);
  return opened_at_.has_value();
}

Generation::Generation(PluginHost& host, Manifest manifest, PluginMetadata metadata, std::uint64_t number,
                       std::filesystem::path copy, int breaker_threshold, std::chrono::milliseconds breaker_cooldown)
    : host_(host),
      manifest_(std::move(manifest)),
      metadata_(std::move(metadata)),
      number_(number),
      copy_(std::move(copy)),
      handle_{this},
      breaker_(breaker_threshold, breaker_cooldown) {}

Generation::~Generation() = default;

std::optional<Lease> Generation::try_lease() {
  if (!accepting_.load()) return std::nullopt;
  leases_.fetch_add(1);
  // Re-check: a retiring generation that flipped the flag meanwhile must not gain work.
  if (!accepting_.load()) {
    leases_.fetch_sub(1);
    return std::nullopt;
  }
  return Lease(shared_from_this());
}

}  // namespace plexus::plugins
