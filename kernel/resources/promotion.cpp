// Stages: promotion, the pre-promotion hook, and approval by a second person.
#include "kernel/resources/store_internal.hpp"

namespace plexus::resources {
namespace {

// The revision a promotion moves `stage` to: the one named, else draft -> staging
// -> production, each stage taking what the one before it points at.
std::int64_t promotion_target(std::int64_t latest, const std::optional<std::int64_t>& staging,
                              std::string_view kind, const std::string& id, std::string_view stage,
                              std::optional<std::int64_t> named) {
  if (named) {
    if (*named < 1 || *named > latest) revision_not_found(kind, id, *named);
    return *named;
  }
  if (stage == kStaging) return latest;
  if (!staging) {
    conflict("not_staged",
             std::string(kind) + " '" + id +
                 "' has nothing in staging: promote it to staging first, or name a revision",
             {{"field", "stage"}});
  }
  return *staging;
}

void point_stage(Stages& stages, std::string_view stage, std::int64_t revision) {
  (stage == kStaging ? stages.staging : stages.production) = revision;
}

bool same_person(const auth::Caller& caller, const PromotionRequest& request) {
  if (!caller.user_id.empty() && caller.user_id == request.requester_user_id) return true;
  return caller.actor() == request.requested_by;
}

}  // namespace

std::optional<PromotionRequest> ResourceStore::pending_promotion(soci::session& sql,
                                                                 const std::string& tenant,
                                                                 std::string_view kind,
                                                                 const std::string& id) {
  const std::string kind_text(kind);
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT request_id, stage, revision, status, requested_by, requester_user_id, reason, "
                      "requested_at FROM resource_promotions WHERE tenant_id = :tenant AND kind = :kind "
                      "AND id = :id AND status = 'pending' ORDER BY requested_at DESC",
       soci::use(tenant, "tenant"), soci::use(kind_text, "kind"), soci::use(id, "id"));
  for (const auto& r : rows) {
    PromotionRequest request;
    request.id = text_at(r, 0);
    request.stage = text_at(r, 1);
    request.revision = integer_at(r, 2);
    request.status = text_at(r, 3);
    request.requested_by = text_at(r, 4);
    request.requester_user_id = text_at(r, 5);
    request.reason = text_at(r, 6);
    request.requested_at = text_at(r, 7);
    return request;  // promote() keeps at most one pending
  }
  return std::nullopt;
}

void ResourceStore::run_pre_promotion(soci::session& sql, const RegisteredKind& kind,
                                      const std::string& tenant, const std::string& id,
                                      std::string_view stage, std::int64_t revision) {
  const auto checked = existing_revision(sql, tenant, kind.kind.name, id, revision);
  if (!kind.kind.pre_promotion) return;
  std::vector<std::string> problems;
  try {
    problems = kind.kind.pre_promotion(
        PromotionCheck{tenant, kind.kind.name, id, std::string(stage), revision, checked.content});
  } catch (const std::exception& e) {
    problems = {std::string("the pre-promotion check failed: ") + e.what()};
  }
  if (problems.empty()) return;
  conflict("promotion_blocked",
           "promotion of " + target_of(kind.kind.name, id) + " revision " + std::to_string(revision) +
               " to " + std::string(stage) + " is blocked: " + problems.front() +
               (problems.size() > 1 ? " (and " + std::to_string(problems.size() - 1) + " more)" : ""),
           {{"stage", std::string(stage)}, {"revision", revision}, {"problems", problems}});
}

PromotionResult ResourceStore::promote(const auth::Caller& caller, std::string_view kind_name,
                                       const std::string& id, std::string_view stage,
                                       const std::string& reason, std::optional<std::int64_t> revision) {
  const auto kind = kinds_.require(kind_name);
  if (stage != kStaging && stage != kProduction) {
    throw http::HttpError(400, "invalid_field", "stage must be \"staging\" or \"production\"",
                          {{"field", "stage"}});
  }
  // The hook may take a while (it may run tests), so it runs outside the write
  // transaction; the transaction then makes sure the checked revision is the one promoted.
  std::int64_t checked = 0;
  {
    soci::session sql(database_.pool());
    const auto row = existing_row(sql, caller.tenant, kind_name, id, false, false);
    checked = promotion_target(row.revision, row.staging, kind_name, id, stage, revision);
    run_pre_promotion(sql, *kind, caller.tenant, id, stage, checked);
  }
  return write([&](soci::session& sql, std::vector<ResourceChange>& changes) {
    auto row = existing_row(sql, caller.tenant, kind_name, id, true, false);
    const auto target = promotion_target(row.revision, row.staging, kind_name, id, stage, revision);
    if (target != checked) {
      conflict("changed",
               target_of(kind_name, id) + " changed while its pre-promotion checks ran; promote again");
    }
    PromotionResult result;
    if (kind->kind.requires_approval && stage == kProduction) {
      const auto now = store::utc_now();
      const auto actor = caller.actor();
      const std::string kind_text(kind_name);
      sql << "UPDATE resource_promotions SET status = 'superseded', decided_by = :actor, decided_at = :now "
             "WHERE tenant_id = :tenant AND kind = :kind AND id = :id AND status = 'pending'",
          soci::use(actor, "actor"), soci::use(now, "now"), soci::use(caller.tenant, "tenant"),
          soci::use(kind_text, "kind"), soci::use(id, "id");
      PromotionRequest request;
      request.id = random_id();
      request.stage = std::string(stage);
      request.revision = target;
      request.status = "pending";
      request.requested_by = actor;
      request.requester_user_id = caller.user_id;
      request.reason = reason;
      request.requested_at = now;
      const long long number = target;
      sql << "INSERT INTO resource_promotions (tenant_id, request_id, kind, id, stage, revision, status, "
             "requested_by, requester_user_id, reason, requested_at) VALUES (:tenant, :request_id, :kind, "
             ":id, "
             ":stage, :revision, 'pending', :requested_by, :requester_user_id, :reason, :requested_at)",
          soci::use(caller.tenant, "tenant"), soci::use(request.id, "request_id"),
          soci::use(kind_text, "kind"), soci::use(id, "id"), soci::use(request.stage, "stage"),
          soci::use(number, "revision"), soci::use(request.requested_by, "requested_by"),
          soci::use(request.requester_user_id, "requester_user_id"), soci::use(request.reason, "reason"),
          soci::use(request.requested_at, "requested_at");
      audit(sql, caller, "promotion_request", kind_name, id, nullptr, to_json(request), {{"reason", reason}});
      result.pending = std::move(request);
    } else {
      const auto before = to_json(row.stages());
      auto stages = row.stages();
      point_stage(stages, stage, target);
      row.staging = stages.staging;
      row.production = stages.production;
      update_row(sql, caller.tenant, row);
      audit(sql, caller, "promote", kind_name, id, {{"stages", before}}, {{"stages", to_json(row.stages())}},
            {{"stage", std::string(stage)}, {"revision", target}, {"reason", reason}});
      changes.push_back({caller.tenant, row.kind, id, target, std::string(stage), "promoted"});
    }
    result.resource = resource_of(sql, caller.tenant, row, true);
    return result;
  });
}

Resource ResourceStore::approve(const auth::Caller& caller, std::string_view kind_name, const std::string& id,
                                const std::string& reason) {
  const auto kind = kinds_.require(kind_name);
  PromotionRequest asked;
  {
    soci::session sql(database_.pool());
    existing_row(sql, caller.tenant, kind_name, id, false, false);
    auto pending = pending_promotion(sql, caller.tenant, kind_name, id);
    if (!pending) {
      conflict("nothing_to_approve", target_of(kind_name, id) + " has no promotion waiting for approval");
    }
    if (same_person(caller, *pending)) {
      throw http::HttpError(403, "same_person",
                            "a promotion needs a second person: whoever asked for it cannot approve it",
                            {{"requested_by", pending->requested_by}});
    }
    // The world may have changed since the request: check again before it takes effect.
    run_pre_promotion(sql, *kind, caller.tenant, id, pending->stage, pending->revision);
    asked = std::move(*pending);
  }
  return write([&](soci::session& sql, std::vector<ResourceChange>& changes) {
    auto row = existing_row(sql, caller.tenant, kind_name, id, true, false);
    const auto pending = pending_promotion(sql, caller.tenant, kind_name, id);
    if (!pending || pending->id != asked.id) {
      conflict("changed", "the promotion request of " + target_of(kind_name, id) +
                              " changed while it was being approved; look again");
    }
    const auto before = to_json(row.stages());
    auto stages = row.stages();
    point_stage(stages, pending->stage, pending->revision);
    row.staging = stages.staging;
    row.production = stages.production;
    update_row(sql, caller.tenant, row);
    const auto actor = caller.actor();
    const auto now = store::utc_now();
    sql << "UPDATE resource_promotions SET status = 'approved', decided_by = :actor, decided_at = :now "
           "WHERE tenant_id = :tenant AND request_id = :request_id",
        soci::use(actor, "actor"), soci::use(now, "now"), soci::use(caller.tenant, "tenant"),
        soci::use(pending->id, "request_id");
    audit(sql, caller, "approve", kind_name, id, {{"stages", before}}, {{"stages", to_json(row.stages())}},
          {{"request_id", pending->id},
           {"requested_by", pending->requested_by},
           {"stage", pending->stage},
           {"revision", pending->revision},
           {"reason", reason}});
    changes.push_back({caller.tenant, row.kind, id, pending->revision, pending->stage, "promoted"});
    return resource_of(sql, caller.tenant, row, true);
  });
}

}  // namespace plexus::resources
