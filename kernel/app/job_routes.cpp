#include "kernel/app/job_routes.hpp"

#include <charconv>
#include <mutex>
#include <vector>

#include "kernel/http/request_fields.hpp"
#include "kernel/jobs/job_json.hpp"
#include "kernel/log/log.hpp"
#include "kernel/tasks/periodic_task.hpp"

namespace plexus {
namespace {

using http::HttpError;
using http::Request;
using http::Response;
using nlohmann::json;

constexpr std::string_view kCrossTenantPermission = "admin.tenants.manage";
constexpr std::string_view kSystemTenant = "default";

std::optional<std::int64_t> positive_integer(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < 1) return std::nullopt;
  return value;
}

const auth::Caller& caller_of(const Request& request) {
  if (!request.caller || request.caller->anonymous()) {
    throw HttpError(401, "unauthenticated", "this route needs credentials: a bearer token or an API key");
  }
  return *request.caller;
}

// The job named in the path, of the caller's tenant; 404 for any other (another tenant's included).
jobs::Job job_of(jobs::JobService& jobs, const Request& request) {
  const auto& text = request.path_params.at("id");
  const auto id = positive_integer(text);
  auto job = id ? jobs.queue().get(caller_of(request).tenant, *id) : std::nullopt;
  if (!job) throw HttpError(404, "not_found", "no job '" + text + "' in this tenant");
  return *job;
}

Response list(jobs::JobService& jobs, const Request& request) {
  const auto& caller = caller_of(request);
  jobs::JobQuery query;
  query.tenant = caller.tenant;
  if (const auto it = request.query.find("tenant");
      it != request.query.end() && !it->second.empty() && it->second != caller.tenant) {
    if (caller.tenant != kSystemTenant || !caller.can(kCrossTenantPermission)) {
      throw HttpError(403, "forbidden",
                      "only administrators of tenant default with " + std::string(kCrossTenantPermission) +
                          " may see another tenant's jobs",
                      {{"field", "tenant"}, {"permission", std::string(kCrossTenantPermission)}});
    }
    if (it->second == "*") {
      query.tenant.reset();
    } else {
      query.tenant = it->second;
    }
  }
  if (const auto it = request.query.find("state"); it != request.query.end() && !it->second.empty()) {
    query.state = jobs::parse_job_state(it->second);
    if (!query.state)
      http::bad_parameter("state", "state must be queued, running, succeeded, failed, dead or cancelled");
  }
  query.kind = request.query_or("kind", "");
  query.limit = http::limit_parameter(request, 50, jobs::kMaxListLimit);
  if (const auto it = request.query.find("cursor"); it != request.query.end() && !it->second.empty()) {
    query.before_id = positive_integer(it->second);
    if (!query.before_id) http::bad_parameter("cursor", "cursor must be the next_cursor of a previous page");
  }
  const auto page = jobs.queue().list(query);
  json items = json::array();
  for (const auto& job : page.items) items.push_back(jobs::to_json(job));
  return Response::json(
      200, {{"items", std::move(items)},
            {"next_cursor", page.next_cursor ? json(std::to_string(*page.next_cursor)) : json(nullptr)}});
}

Response kinds(jobs::JobService& jobs) {
  json items = json::array();
  for (const auto& handler : jobs.handlers())
    items.push_back({{"kind", handler.kind}, {"owner", handler.owner}});
  return Response::json(200, {{"items", std::move(items)}});
}

Response cancel(jobs::JobService& jobs, audit::AuditLog& audit, const Request& request) {
  const auto& caller = caller_of(request);
  const auto before = job_of(jobs, request);
  const auto outcome = jobs.queue().cancel(caller.tenant, before.id);
  if (outcome == jobs::CancelOutcome::not_found)
    throw HttpError(404, "not_found", "no such job in this tenant");
  auto event = audit::event_of(caller, "job.cancel", "job/" + std::to_string(before.id));
  const auto after = jobs.queue().get(caller.tenant, before.id);
  if (outcome == jobs::CancelOutcome::already_finished) {
    event.outcome = "failure";
    event.details = {{"error", "already finished"}, {"state", std::string(jobs::to_string(before.state))}};
    audit.record(std::move(event));
    throw HttpError(409, "already_finished",
                    "job " + std::to_string(before.id) + " already finished (" +
                        std::string(jobs::to_string(after ? after->state : before.state)) + ")");
  }
  event.before = {{"state", std::string(jobs::to_string(before.state))}};
  event.after = {{"state", std::string(jobs::to_string(after ? after->state : before.state))},
                 {"cancel_requested", true}};
  event.details = {{"kind", before.kind}};
  audit.record(std::move(event));
  return Response::json(200,
                        {{"outcome", outcome == jobs::CancelOutcome::cancelled ? "cancelled" : "requested"},
                         {"job", after ? jobs::to_json(*after) : jobs::to_json(before)}});
}

}  // namespace

// The open progress streams and the one thread that feeds them.
struct JobRoutes::Streams {
  struct Subscription {
    std::string tenant;
    std::int64_t id = 0;
    std::shared_ptr<http::EventStream> stream;
    json last;  // the last "progress" event sent
  };

  Streams(jobs::JobService& jobs, std::chrono::milliseconds interval)
      : jobs_(jobs), task_(std::make_unique<tasks::PeriodicTask>(interval, interval, [this] { poll(); })) {}

  ~Streams() {
    task_.reset();  // no poll runs from here on
    std::lock_guard lock(mutex_);
    for (auto& subscription : subscriptions_) subscription.stream->close();
  }

  void add(std::string tenant, std::int64_t id, std::shared_ptr<http::EventStream> stream) {
    std::lock_guard lock(mutex_);
    subscriptions_.push_back({std::move(tenant), id, std::move(stream), nullptr});
  }

  // Sends what changed; closes and forgets streams whose job finished or whose client left.
  void poll() {
    std::vector<Subscription> current;
    {
      std::lock_guard lock(mutex_);
      current.swap(subscriptions_);
    }
    std::vector<Subscription> keep;
    for (auto& subscription : current) {
      if (!subscription.stream->is_open()) continue;
      try {
        const auto job = jobs_.queue().get(subscription.tenant, subscription.id);
        if (!job) {
          subscription.stream->send("finished", json{{"id", subscription.id}, {"state", "removed"}}.dump());
          subscription.stream->close();
          continue;
        }
        json progress = {{"id", job->id},
                         {"state", std::string(jobs::to_string(job->state))},
                         {"progress", job->progress},
                         {"message", job->progress_message},
                         {"attempts", job->attempts}};
        if (progress != subscription.last) {
          subscription.stream->send("progress", progress.dump());
          subscription.last = std::move(progress);
        }
        if (jobs::is_finished(job->state)) {
          subscription.stream->send("finished", jobs::to_json(*job).dump());
          subscription.stream->close();
          continue;
        }
      } catch (const std::exception& error) {
        log::get("jobs")->warn("job {} progress stream: {}", subscription.id, error.what());
      }
      keep.push_back(std::move(subscription));
    }
    std::lock_guard lock(mutex_);
    for (auto& subscription : keep) subscriptions_.push_back(std::move(subscription));
  }

  jobs::JobService& jobs_;
  std::mutex mutex_;
  std::vector<Subscription> subscriptions_;
  std::unique_ptr<tasks::PeriodicTask> task_;
};

JobRoutes::JobRoutes(jobs::JobService& jobs, audit::AuditLog& audit, std::chrono::milliseconds poll_interval)
    : jobs_(jobs), audit_(audit), streams_(std::make_shared<Streams>(jobs, poll_interval)) {}

JobRoutes::~JobRoutes() = default;

void JobRoutes::register_routes(http::Router& router) {
  auto route = [](std::string method, std::string pattern, http::Handler handler, std::string summary,
                  std::string permission) {
    return http::Route{
        std::move(method),  std::move(pattern),   std::move(handler), http::Surface::both, "kernel", false,
        std::move(summary), std::move(permission)};
  };
  auto& jobs = jobs_;
  auto& audit = audit_;
  // Weak: the router outlives this object, and the poller must not outlive the job service.
  std::weak_ptr<Streams> streams = streams_;
  router.add_all({
      route(
          "GET", "/api/v1/jobs", [&jobs](Request& r) { return list(jobs, r); },
          "The tenant's jobs, newest first: filters state, kind (tenant=* for administrators of tenant "
          "default); "
          "paging with limit and cursor",
          "jobs.read"),
      route(
          "GET", "/api/v1/jobs/kinds", [&jobs](Request&) { return kinds(jobs); },
          "Job kinds with a handler on this node, and who registered them", "jobs.read"),
      route(
          "GET", "/api/v1/jobs/{id}",
          [&jobs](Request& r) { return Response::json(200, jobs::to_json(job_of(jobs, r))); },
          "One job: state, progress, result, last error", "jobs.read"),
      route(
          "POST", "/api/v1/jobs/{id}/cancel", [&jobs, &audit](Request& r) { return cancel(jobs, audit, r); },
          "Cancel a job: at once when waiting, by request when running; 409 when already finished",
          "jobs.cancel"),
      route(
          "GET", "/api/v1/jobs/{id}/events",
          [&jobs, streams](Request& r) {
            const auto job = job_of(jobs, r);
            const std::string tenant = job.tenant;
            return Response::event_stream(
                [streams, tenant, id = job.id](std::shared_ptr<http::EventStream> stream) {
                  if (const auto open = streams.lock()) {
                    open->add(tenant, id, std::move(stream));
                  } else {
                    stream->close();  // shutting down
                  }
                });
          },
          "Server-Sent Events: 'progress' {state, progress, message} on every change, then 'finished' with "
          "the "
          "job, then the stream ends",
          "jobs.read"),
  });
}

}  // namespace plexus
