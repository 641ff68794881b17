#include "kernel/jobs/job_rows.hpp"

#include <stdexcept>
#include <string>

namespace plexus::jobs::job_rows {
namespace {

class RowReader {
 public:
  explicit RowReader(const nlohmann::json& row) : row_(row) {}

  std::int64_t integer(std::size_t column) const { return row_.at(column).get<std::int64_t>(); }
  std::string text(std::size_t column) const {
    return row_.at(column).is_null() ? std::string() : row_.at(column).get<std::string>();
  }
  nlohmann::json json(std::size_t column, const char* name) const {
    if (row_.at(column).is_null()) return nullptr;
    auto value = nlohmann::json::parse(text(column), nullptr, false);
    if (value.is_discarded()) fail(name, "is not JSON");
    return value;
  }
  std::optional<store::TimePoint> optional_time(std::size_t column, const char* name) const {
    if (row_.at(column).is_null()) return std::nullopt;
    const auto time = store::parse_time(text(column));
    if (!time) fail(name, "is not an ISO-8601 UTC time: '" + text(column) + "'");
    return time;
  }
  store::TimePoint time(std::size_t column, const char* name) const {
    const auto value = optional_time(column, name);
    if (!value) fail(name, "is NULL");
    return *value;
  }
  [[noreturn]] void fail(const char* name, const std::string& problem) const {
    throw std::runtime_error("job " + row_.at(0).dump() + ": stored " + name + " " + problem);
  }

 private:
  const nlohmann::json& row_;
};

}  // namespace

Job job_from_row(const nlohmann::json& row) {
  const RowReader read(row);
  Job job;
  job.id = read.integer(0);
  job.tenant = read.text(1);
  job.kind = read.text(2);
  job.payload = read.json(3, "payload_json");
  job.priority = static_cast<int>(read.integer(4));
  const auto state = parse_job_state(read.text(5));
  if (!state) read.fail("state", "is unknown: '" + read.text(5) + "'");
  job.state = *state;
  job.attempts = static_cast<int>(read.integer(6));
  job.max_attempts = static_cast<int>(read.integer(7));
  job.next_attempt_at = read.time(8, "next_attempt_at");
  job.progress = static_cast<int>(read.integer(9));
  job.progress_message = read.text(10);
  job.result = read.json(11, "result_json");
  job.last_error = read.text(12);
  job.cancel_requested = read.integer(13) != 0;
  job.created_at = read.time(14, "created_at");
  job.started_at = read.optional_time(15, "started_at");
  job.finished_at = read.optional_time(16, "finished_at");
  job.claimed_by = read.text(17);
  job.claim_expires_at = read.optional_time(18, "claim_expires_at");
  job.run_on = read.text(19);
  return job;
}

}  // namespace plexus::jobs::job_rows
