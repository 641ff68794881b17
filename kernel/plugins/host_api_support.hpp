// What the host table's source files share: string views over plexus_str, the
// per-thread last error, and the ABI 1.3 members defined in host_api_data.cpp.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "kernel/plugins/generation.hpp"
#include "plexus/abi.h"

namespace plexus::plugins {

std::string_view view(plexus_str s);
plexus_str str(std::string_view s);
// Sets the calling thread's last_error and returns `status`.
plexus_status fail(plexus_status status, std::string message);
Generation* generation_of(plexus_host* host);
// The write callback the host uses to collect a plugin's output into a std::string.
void append_to(void* target, plexus_str data);

// A plexus_caller over `who` (host_ref points at it), valid while both live.
struct CallerView {
  explicit CallerView(const auth::Caller& who);
  CallerView(const CallerView&) = delete;
  CallerView& operator=(const CallerView&) = delete;
  std::vector<plexus_str> roles;
  plexus_caller raw{};
};

// ---- ABI 1.3 ----
plexus_status resource_kind_register(plexus_host* host, const plexus_resource_kind* kind);
plexus_status resource_get(plexus_host* host, plexus_str tenant, plexus_str kind, plexus_str id, plexus_str stage,
                           plexus_write_fn write, void* write_data);
plexus_status resource_list(plexus_host* host, plexus_str tenant, plexus_str kind, plexus_str stage,
                            plexus_write_fn write, void* write_data);
plexus_status driver_register(plexus_host* host, const plexus_driver* driver);
plexus_status datasource_query(plexus_host* host, plexus_str tenant, plexus_str name, const plexus_driver_query* query,
                               plexus_write_fn write, void* write_data);
plexus_status datasource_execute(plexus_host* host, plexus_str tenant, plexus_str name,
                                 const plexus_driver_query* query, plexus_write_fn write, void* write_data);
plexus_status datasource_schema(plexus_host* host, plexus_str tenant, plexus_str name, plexus_write_fn write,
                                void* write_data);

// ---- ABI 1.4: jobs and schedules (host_api_jobs.cpp) ----
plexus_status job_handler_register(plexus_host* host, plexus_str kind, plexus_job_fn fn, void* user_data);
int32_t job_progress(plexus_job* job, int32_t percent, plexus_str message);
plexus_status job_info(plexus_job* job, plexus_write_fn write, void* write_data);
plexus_status job_enqueue(plexus_host* host, plexus_str tenant, plexus_str kind, plexus_str payload_json,
                          plexus_str options_json, int64_t* out_id);
plexus_status job_get(plexus_host* host, plexus_str tenant, int64_t id, plexus_write_fn write, void* write_data);
plexus_status job_cancel(plexus_host* host, plexus_str tenant, int64_t id);
plexus_status schedule_put(plexus_host* host, plexus_str tenant, plexus_str name, plexus_str spec_json,
                           plexus_write_fn write, void* write_data);
plexus_status schedule_remove(plexus_host* host, plexus_str tenant, plexus_str name);
plexus_status schedule_pause(plexus_host* host, plexus_str tenant, plexus_str name);
plexus_status schedule_resume(plexus_host* host, plexus_str tenant, plexus_str name);

}  // namespace plexus::plugins
