// The host table's ABI 1.4 job and schedule members: plugins handle, enqueue, read
// and cancel jobs of the kinds their manifest's permissions.jobs allows, and keep
// schedules of their own. Handlers live in the generation until the swap hands them
// to the JobService (PluginHost::swap_job_handlers); every call into plugin code
// holds a lease.
#include <algorithm>
#include <stdexcept>

#include "kernel/jobs/job_json.hpp"
#include "kernel/jobs/job_service.hpp"
#include "kernel/plugins/host_api_support.hpp"
#include "kernel/plugins/plugin_host.hpp"
#include "kernel/schedule/schedule_json.hpp"

namespace plexus::plugins {
namespace {

using nlohmann::json;

jobs::JobService* jobs_of(Generation& generation) { return generation.host().options().jobs; }
schedule::Scheduler* scheduler_of(Generation& generation) { return generation.host().options().scheduler; }

bool kind_allowed(Generation& generation, std::string_view kind) {
  return events::valid_topic(kind) && topic_allowed(kind, generation.manifest().job_patterns);
}

plexus_status kind_denied(std::string_view kind) {
  return fail(PLEXUS_ERR_DENIED,
              "job kind '" + std::string(kind) + "' is outside the manifest's permissions.jobs");
}

// A bad member of a JSON argument: PLEXUS_ERR_INVALID naming it.
struct BadField : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

std::int64_t integer_in(const json& object, const char* field, std::int64_t low, std::int64_t high,
                        std::int64_t fallback) {
  const auto it = object.find(field);
  if (it == object.end() || it->is_null()) return fallback;
  if (!it->is_number_integer() || it->get<std::int64_t>() < low || it->get<std::int64_t>() > high) {
    throw BadField(std::string(field) + " must be an integer within " + std::to_string(low) + ".." +
                   std::to_string(high));
  }
  return it->get<std::int64_t>();
}

json object_of(plexus_str text, const char* what) {
  if (text.len == 0) return json::object();
  auto parsed = json::parse(view(text), nullptr, false);
  if (!parsed.is_object()) throw BadField(std::string(what) + " must be a JSON object");
  return parsed;
}

}  // namespace

// ---- jobs ----------------------------------------------------------------------------

plexus_status job_handler_register(plexus_host* host, plexus_str kind, plexus_job_fn fn, void* user_data) {
  auto* generation = generation_of(host);
  if (!generation || !fn) return fail(PLEXUS_ERR_INVALID, "job_handler_register: missing argument");
  auto* service = jobs_of(*generation);
  if (!service) return fail(PLEXUS_ERR_UNAVAILABLE, "this host runs no jobs");
  const std::string name(view(kind));
  if (!events::valid_topic(name)) {
    return fail(PLEXUS_ERR_INVALID, "job kind '" + name + "' must be dot-separated [a-z0-9_-] segments");
  }
  if (!kind_allowed(*generation, name)) return kind_denied(name);
  for (const auto& handler : service->handlers()) {
    if (handler.kind == name && !handler.owner.starts_with(generation->name() + "#")) {
      return fail(PLEXUS_ERR_CONFLICT, "job kind '" + name + "' is handled by " + handler.owner);
    }
  }
  std::weak_ptr<Generation> weak = generation->shared_from_this();
  std::lock_guard lock(generation->mutex);
  for (const auto& [existing, ignored] : generation->job_handlers) {
    if (existing == name) return fail(PLEXUS_ERR_CONFLICT, "job kind '" + name + "' is registered twice");
  }
  generation->job_handlers.emplace_back(name, [weak, fn, user_data](jobs::JobContext& context) -> json {
    auto live = weak.lock();
    auto lease = live ? live->try_lease() : std::nullopt;
    if (!lease) throw std::runtime_error("the plugin handling this kind is not running");
    plexus_job job{&context};
    const auto payload = context.payload().dump();
    std::string output;
    const plexus_status status = fn(user_data, &job, str(payload), &append_to, &output);
    context.throw_if_cancelled();  // a handler that stopped for a cancel ends the job cancelled
    if (status != PLEXUS_OK) {
      throw std::runtime_error(output.empty() ? "the job handler of plugin " + live->name() +
                                                    " returned status " + std::to_string(status)
                                              : output);
    }
    if (output.empty()) return nullptr;
    auto result = json::parse(output, nullptr, false);
    if (result.is_discarded())
      throw std::runtime_error("the job handler answered with text that is not JSON");
    return result;
  });
  return PLEXUS_OK;
}

int32_t job_progress(plexus_job* job, int32_t percent, plexus_str message) {
  if (!job || !job->context) return 1;
  job->context->progress(std::clamp(percent, 0, 100), std::string(view(message)));
  return job->context->cancelled() ? 1 : 0;
}

plexus_status job_info(plexus_job* job, plexus_write_fn write, void* write_data) {
  if (!job || !job->context || !write) return fail(PLEXUS_ERR_INVALID, "job_info: missing argument");
  const auto& running = job->context->job();
  const std::string text = json{
      {"id", running.id},
      {"tenant", running.tenant},
      {"kind", running.kind},
      {"attempts", running.attempts},
      {"max_attempts", running.max_attempts},
      {"priority",
       running.priority}}.dump();
  write(write_data, str(text));
  return PLEXUS_OK;
}

plexus_status job_enqueue(plexus_host* host, plexus_str tenant, plexus_str kind, plexus_str payload_json,
                          plexus_str options_json, int64_t* out_id) {
  auto* generation = generation_of(host);
  if (!generation || !out_id || tenant.len == 0)
    return fail(PLEXUS_ERR_INVALID, "job_enqueue: missing argument");
  auto* service = jobs_of(*generation);
  if (!service) return fail(PLEXUS_ERR_UNAVAILABLE, "this host runs no jobs");
  if (!kind_allowed(*generation, view(kind))) return kind_denied(view(kind));
  jobs::JobRequest request;
  try {
    request.payload = object_of(payload_json, "payload_json");
    const auto options = object_of(options_json, "options_json");
    for (const auto& [field, value] : options.items()) {
      if (field != "priority" && field != "max_attempts" && field != "delay_ms") {
        throw BadField("options_json: unknown option '" + field +
                       "' (expected priority, max_attempts, delay_ms)");
      }
    }
    request.priority = static_cast<int>(integer_in(options, "priority", -1000, 1000, 0));
    request.max_attempts =
        static_cast<int>(integer_in(options, "max_attempts", 1, 100, service->max_attempts()));
    request.delay =
        std::chrono::milliseconds(integer_in(options, "delay_ms", 0, 366LL * 24 * 3600 * 1000, 0));
  } catch (const BadField& e) {
    return fail(PLEXUS_ERR_INVALID, std::string("job_enqueue: ") + e.what());
  }
  request.tenant = view(tenant);
  request.kind = view(kind);
  try {
    *out_id = service->queue().enqueue(request).id;
  } catch (const std::invalid_argument& e) {
    return fail(PLEXUS_ERR_INVALID, std::string("job_enqueue: ") + e.what());
  } catch (const std::exception& e) {
    return fail(PLEXUS_ERR_INTERNAL, std::string("job_enqueue: ") + e.what());
  }
  return PLEXUS_OK;
}

namespace {
// A job of `tenant` whose kind the plugin may touch; others are "not found".
std::optional<jobs::Job> visible_job(Generation& generation, jobs::JobService& service, plexus_str tenant,
                                     int64_t id) {
  auto job = service.queue().get(std::string(view(tenant)), id);
  if (!job || !kind_allowed(generation, job->kind)) return std::nullopt;
  return job;
}
}  // namespace

plexus_status job_get(plexus_host* host, plexus_str tenant, int64_t id, plexus_write_fn write,
                      void* write_data) {
  auto* generation = generation_of(host);
  if (!generation || !write) return fail(PLEXUS_ERR_INVALID, "job_get: missing argument");
  auto* service = jobs_of(*generation);
  if (!service) return fail(PLEXUS_ERR_UNAVAILABLE, "this host runs no jobs");
  try {
    const auto job = visible_job(*generation, *service, tenant, id);
    if (!job)
      return fail(PLEXUS_ERR_NOT_FOUND, "no job " + std::to_string(id) + " of a kind this plugin may see");
    write(write_data, str(jobs::to_json(*job).dump()));
  } catch (const std::exception& e) {
    return fail(PLEXUS_ERR_INTERNAL, std::string("job_get: ") + e.what());
  }
  return PLEXUS_OK;
}

plexus_status job_cancel(plexus_host* host, plexus_str tenant, int64_t id) {
  auto* generation = generation_of(host);
  if (!generation) return fail(PLEXUS_ERR_INVALID, "job_cancel without a host");
  auto* service = jobs_of(*generation);
  if (!service) return fail(PLEXUS_ERR_UNAVAILABLE, "this host runs no jobs");
  try {
    if (!visible_job(*generation, *service, tenant, id)) {
      return fail(PLEXUS_ERR_NOT_FOUND, "no job " + std::to_string(id) + " of a kind this plugin may see");
    }
    switch (service->queue().cancel(std::string(view(tenant)), id)) {
      case jobs::CancelOutcome::cancelled:
      case jobs::CancelOutcome::requested: return PLEXUS_OK;
      case jobs::CancelOutcome::already_finished:
        return fail(PLEXUS_ERR_CONFLICT, "job " + std::to_string(id) + " already finished");
      case jobs::CancelOutcome::not_found: break;
    }
  } catch (const std::exception& e) {
    return fail(PLEXUS_ERR_INTERNAL, std::string("job_cancel: ") + e.what());
  }
  return fail(PLEXUS_ERR_NOT_FOUND, "no job " + std::to_string(id));
}

// ---- schedules -------------------------------------------------------------------------

plexus_status schedule_put(plexus_host* host, plexus_str tenant, plexus_str name, plexus_str spec_json,
                           plexus_write_fn write, void* write_data) {
  auto* generation = generation_of(host);
  if (!generation || tenant.len == 0) return fail(PLEXUS_ERR_INVALID, "schedule_put: missing argument");
  auto* scheduler = scheduler_of(*generation);
  if (!scheduler) return fail(PLEXUS_ERR_UNAVAILABLE, "this host runs no schedules");
  schedule::ScheduleSpec spec;
  try {
    spec = schedule::spec_from_json(object_of(spec_json, "spec_json"));
  } catch (const BadField& e) {
    return fail(PLEXUS_ERR_INVALID, std::string("schedule_put: ") + e.what());
  } catch (const schedule::InvalidSchedule& e) {
    return fail(PLEXUS_ERR_INVALID, std::string("schedule_put: ") + e.what());
  }
  if (!kind_allowed(*generation, spec.job_kind)) return kind_denied(spec.job_kind);
  spec.tenant = view(tenant);
  spec.name = view(name);
  spec.owner = generation->name();
  try {
    if (const auto existing = scheduler->get(spec.tenant, spec.name, 0);
        existing && existing->spec.owner != spec.owner) {
      return fail(PLEXUS_ERR_CONFLICT, "schedule '" + spec.name + "' belongs to " + existing->spec.owner);
    }
    const auto info = scheduler->put(spec);
    const auto shown = scheduler->get(spec.tenant, spec.name);  // with its next fire times
    if (write) write(write_data, str(schedule::to_json(shown ? *shown : info).dump()));
  } catch (const schedule::InvalidSchedule& e) {
    return fail(PLEXUS_ERR_INVALID, "schedule_put: " + e.field() + ": " + e.what());
  } catch (const std::exception& e) {
    return fail(PLEXUS_ERR_INTERNAL, std::string("schedule_put: ") + e.what());
  }
  return PLEXUS_OK;
}

namespace {
// remove, pause or resume one of the plugin's own schedules.
plexus_status own_schedule(plexus_host* host, plexus_str tenant, plexus_str name, const char* what,
                           bool (schedule::Scheduler::*action)(const std::string&, const std::string&)) {
  auto* generation = generation_of(host);
  if (!generation) return fail(PLEXUS_ERR_INVALID, std::string(what) + " without a host");
  auto* scheduler = scheduler_of(*generation);
  if (!scheduler) return fail(PLEXUS_ERR_UNAVAILABLE, "this host runs no schedules");
  const std::string tenant_id(view(tenant)), schedule_name(view(name));
  try {
    const auto existing = scheduler->get(tenant_id, schedule_name, 0);
    if (!existing || existing->spec.owner != generation->name() ||
        !(scheduler->*action)(tenant_id, schedule_name)) {
      return fail(PLEXUS_ERR_NOT_FOUND,
                  "no schedule '" + schedule_name + "' of this plugin in tenant " + tenant_id);
    }
  } catch (const std::exception& e) {
    return fail(PLEXUS_ERR_INTERNAL, std::string(what) + ": " + e.what());
  }
  return PLEXUS_OK;
}
}  // namespace

plexus_status schedule_remove(plexus_host* host, plexus_str tenant, plexus_str name) {
  return own_schedule(host, tenant, name, "schedule_remove", &schedule::Scheduler::remove);
}
plexus_status schedule_pause(plexus_host* host, plexus_str tenant, plexus_str name) {
  return own_schedule(host, tenant, name, "schedule_pause", &schedule::Scheduler::pause);
}
plexus_status schedule_resume(plexus_host* host, plexus_str tenant, plexus_str name) {
  return own_schedule(host, tenant, name, "schedule_resume", &schedule::Scheduler::resume);
}

}  // namespace plexus::plugins
