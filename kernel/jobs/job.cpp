#include "kernel/jobs/job.hpp"

#include <array>
#include <utility>

namespace plexus::jobs {
namespace {

constexpr std::array<std::pair<JobState, std::string_view>, 6> kNames = {{
    {JobState::queued, "queued"},
    {JobState::running, "running"},
    {JobState::succeeded, "succeeded"},
    {JobState::failed, "failed"},
    {JobState::dead, "dead"},
    {JobState::cancelled, "cancelled"},
}};

}  // namespace

std::string_view to_string(JobState state) {
  for (const auto& [value, name] : kNames) {
    if (value == state) return name;
  }
  return "unknown";
}

std::optional<JobState> parse_job_state(std::string_view name) {
  for (const auto& [value, text] : kNames) {
    if (text == name) return value;
  }
  return std::nullopt;
}

bool is_finished(JobState state) {
  return state == JobState::succeeded || state == JobState::dead || state == JobState::cancelled;
}

}  // namespace plexus::jobs
