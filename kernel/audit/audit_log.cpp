#include "kernel/audit/audit_log.hpp"

#include <algorithm>
#include <functional>
#include <stdexcept>
#include <utility>

#include <soci/soci.h>

#include "kernel/audit/audit_tables.hpp"
#include "kernel/store/transaction.hpp"
#include "kernel/audit/export_file.hpp"
#include "kernel/audit/hashable.hpp"
#include "kernel/audit/record_json.hpp"
#include "kernel/store/migrations.hpp"

namespace plexus::audit {
namespace {

constexpr int kBatch = 1000;  // rows per SELECT when walking the whole log

// Driver messages, never the bound values: details and before/after stay out of errors.
[[noreturn]] void rethrow_storage_error(const std::string& what, const soci::soci_error& error) {
  throw std::runtime_error("audit log: " + what + ": " + error.get_error_message());
}

AuditRecord draft_of(AuditEvent&& event) {
  AuditRecord draft;
  draft.tenant = hashable_text(std::move(event.tenant));
  draft.actor = hashable_text(std::move(event.actor));
  draft.action = hashable_text(std::move(event.action));
  draft.target = hashable_text(std::move(event.target));
  draft.outcome = hashable_text(std::move(event.outcome));
  draft.ip = hashable_text(std::move(event.ip));
  draft.request_id = hashable_text(std::move(event.request_id));
  draft.before = hashable_json(event.before);
  draft.after = hashable_json(event.after);
  draft.details = hashable_json(event.details);
  return draft;
}

// The stored form of a from/to bound, so that text comparison is time comparison.
std::string normalised_time(const std::string& text, const char* field) {
  const auto parsed = store::parse_time(text);
  if (!parsed) throw std::invalid_argument(std::string(field) + ": not an ISO-8601 UTC time: " + text);
  return store::format_time(*parsed);
}

// Feeds every row after the anchor, in sequence order, to `each` until it returns false.
void walk_from_anchor(soci::session& sql, std::int64_t anchor_sequence, std::optional<std::int64_t> up_to,
                      const std::function<bool(AuditRecord&&)>& each) {
  std::int64_t after = anchor_sequence;
  for (;;) {
    int fetched = 0;
    bool go_on = true;
    tables::RecordSelect select;
    select.where("sequence > :after").bind("after", after);
    if (up_to) select.where("sequence <= :up_to").bind("up_to", *up_to);
    select.run(sql, "sequence", kBatch, [&](AuditRecord&& record) {
      ++fetched;
      after = record.sequence;
      go_on = each(std::move(record));
      return go_on;
    });
    if (!go_on || fetched < kBatch) return;
  }
}

// After every row verified: the last one must be the one the head records.
void compare_with_head(AuditVerifyResult& result, const Verifier& verifier, const tables::Head& head) {
  const std::int64_t last = head.anchor_sequence + result.checked;
  auto fail = [&](std::int64_t sequence, std::string reason) {
    result.ok = false;
    result.first_bad_sequence = sequence;
    result.reason = std::move(reason);
  };
  if (last < head.last_sequence) {
    fail(last + 1, "sequence " + std::to_string(last + 1) + " is missing: the log ends at " + std::to_string(last) +
                       " but its head records " + std::to_string(head.last_sequence) +
                       " (rows deleted from the end)");
  } else if (last > head.last_sequence) {
    result.checked = head.last_sequence - head.anchor_sequence;
    fail(head.last_sequence + 1, "sequence " + std::to_string(head.last_sequence + 1) +
                                     " is past the head, which records " + std::to_string(head.last_sequence) +
                                     " (rows added without the log)");
  } else if (verifier.last_hash() != head.last_hash) {
    result.checked = std::max<std::int64_t>(0, result.checked - 1);
    fail(head.last_sequence, "sequence " + std::to_string(head.last_sequence) +
                                 ": the hash differs from the one the head records (row replaced)");
  }
}

}  // namespace

AuditEvent event_of(const auth::Caller& caller, std::string action, std::string target) {
  AuditEvent event;
  event.tenant = caller.tenant;
  event.actor = caller.actor();
  event.action = std::move(action);
  event.target = std::move(target);
  event.ip = caller.ip;
  event.request_id = caller.request_id;
  return event;
}

AuditLog::AuditLog(store::Database& database, SchemaPolicy schema) : database_(database) {
  const auto& migrations = tables::migrations();
  if (schema == SchemaPolicy::migrate) {
    store::migrate(database_, tables::kComponent, migrations);
    return;
  }
  const int found = store::schema_version(database_, tables::kComponent);
  const int known = static_cast<int>(migrations.size());
  if (found == 0) throw store::MigrationError("this database holds no audit log");
  if (found != known) {
    throw store::MigrationError("the database holds audit schema version " + std::to_string(found) +
                                ", this release knows " + std::to_string(known) + "; use the matching release");
  }
}

AuditLog::~AuditLog() = default;

AuditRecord AuditLog::append(soci::session& sql, AuditRecord draft) {
  try {
    const auto head = tables::read_head(sql, database_.backend() == "postgresql", true);
    draft.time = store::utc_now();  // taken under the head's lock, so time follows sequence on one node
    Chain chain(head.last_hash, head.last_sequence);
    AuditRecord stored = chain.append(std::move(draft));
    tables::insert(sql, stored);
    tables::advance_head(sql, stored.sequence, stored.hash);
    return stored;
  } catch (const soci::soci_error& error) {
    rethrow_storage_error("cannot store a record", error);
  } catch (const std::invalid_argument& error) {
    throw std::runtime_error(std::string("audit log: cannot store a record: ") + error.what());
  }
}

AuditRecord AuditLog::record(AuditEvent event) {
  AuditRecord draft = draft_of(std::move(event));
  std::lock_guard lock(write_mutex_);
  try {
    soci::session sql(database_.pool());
    store::Transaction transaction(sql);
    auto stored = append(sql, std::move(draft));
    transaction.commit();
    return stored;
  } catch (const soci::soci_error& error) {
    rethrow_storage_error("cannot store a record", error);
  }
}

AuditRecord AuditLog::record_within(soci::session& sql, AuditEvent event) {
  // No write_mutex_ here: the caller's transaction holds the database lock already,
  // and taking the mutex after it would invert the order record() takes them in.
  return append(sql, draft_of(std::move(event)));
}

AuditPage AuditLog::query(const AuditQuery& query) {
  if (query.limit < 1 || query.limit > kMaxQueryLimit) {
    throw std::invalid_argument("limit: must be between 1 and " + std::to_string(kMaxQueryLimit));
  }
  tables::RecordSelect select;
  if (query.tenant) select.where("tenant_id = :tenant").bind("tenant", *query.tenant);
  if (!query.actor.empty()) select.where("actor = :actor").bind("actor", query.actor);
  if (!query.action_prefix.empty()) {
    // substr rather than LIKE: no wildcards to escape, case-sensitive on both databases.
    select.where("substr(action, 1, :prefix_length) = :prefix")
        .bind("prefix_length", static_cast<std::int64_t>(query.action_prefix.size()))
        .bind("prefix", query.action_prefix);
  }
  if (!query.target.empty()) select.where("target = :target").bind("target", query.target);
  if (!query.outcome.empty()) select.where("outcome = :outcome").bind("outcome", query.outcome);
  if (!query.from.empty()) select.where("time >= :from").bind("from", normalised_time(query.from, "from"));
  if (!query.to.empty()) select.where("time <= :to").bind("to", normalised_time(query.to, "to"));
  if (query.before_sequence) select.where("sequence < :cursor").bind("cursor", *query.before_sequence);

  AuditPage page;
  try {
    soci::session sql(database_.pool());
    select.run(sql, "sequence DESC", query.limit + 1, [&](AuditRecord&& record) {
      page.items.push_back(std::move(record));
      return true;
    });
  } catch (const soci::soci_error& error) {
    rethrow_storage_error("cannot read", error);
  }
  if (page.items.size() > static_cast<std::size_t>(query.limit)) {
    page.items.pop_back();
    page.next_cursor = page.items.back().sequence;
  }
  return page;
}

AuditVerifyResult AuditLog::verify() {
  const bool postgresql = database_.backend() == "postgresql";
  AuditVerifyResult result;
  try {
    soci::session sql(database_.pool());
    store::Transaction snapshot(sql, store::Transaction::Kind::snapshot);
    const auto head = tables::read_head(sql, postgresql, false);
    Verifier verifier(head.anchor_hash, head.anchor_sequence + 1);
    walk_from_anchor(sql, head.anchor_sequence, std::nullopt, [&](AuditRecord&& record) { return verifier.add(record); });
    snapshot.commit();
    static_cast<VerifyResult&>(result) = verifier.result();
    result.head_sequence = head.last_sequence;
    result.anchor_sequence = head.anchor_sequence;
    if (result.ok) compare_with_head(result, verifier, head);
  } catch (const soci::soci_error& error) {
    rethrow_storage_error("cannot read", error);
  }
  return result;
}

RetentionResult AuditLog::apply_retention(store::TimePoint cutoff, const std::filesystem::path& export_dir) {
  const bool postgresql = database_.backend() == "postgresql";
  const std::string cutoff_text = store::format_time(cutoff);
  RetentionResult result;
  try {
    soci::session sql(database_.pool());
    std::optional<ExportFile> file;
    tables::Head head;
    std::string last_hash;
    {
      // Export from one snapshot; appends meanwhile are past the head read here.
      store::Transaction snapshot(sql, store::Transaction::Kind::snapshot);
      head = tables::read_head(sql, postgresql, false);
      Verifier verifier(head.anchor_hash, head.anchor_sequence + 1);
      walk_from_anchor(sql, head.anchor_sequence, head.last_sequence, [&](AuditRecord&& record) {
        if (record.time >= cutoff_text) return false;  // only a prefix of the chain may go
        if (!verifier.add(record)) return false;
        if (!file) file.emplace(export_dir);
        file->append_line(record_to_json(record).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
        if (result.exported == 0) result.first_sequence = record.sequence;
        result.last_sequence = record.sequence;
        last_hash = record.hash;
        ++result.exported;
        return true;
      });
      snapshot.commit();
      if (const auto verified = verifier.result(); !verified.ok) {
        throw std::runtime_error("audit log: retention refused, nothing deleted: the chain is broken at sequence " +
                                 std::to_string(*verified.first_bad_sequence) + ": " + verified.reason);
      }
    }
    if (!file) return {};
    result.file = file->finish("audit-" + std::to_string(result.first_sequence) + "-" +
                               std::to_string(result.last_sequence) + ".jsonl");

    std::lock_guard lock(write_mutex_);
    store::Transaction transaction(sql);
    const auto now = tables::read_head(sql, postgresql, true);
    if (now.anchor_sequence != head.anchor_sequence) {
      // Another node's retention ran meanwhile; it exported these rows too.
      std::error_code ignored;
      std::filesystem::remove(result.file, ignored);
      return {};
    }
    const auto deleted = tables::delete_range(sql, result.first_sequence, result.last_sequence);
    if (deleted != result.exported) {
      throw std::runtime_error("audit log: retention refused, nothing deleted: " + std::to_string(result.exported) +
                               " rows exported but " + std::to_string(deleted) + " found to delete");
    }
    tables::move_anchor(sql, result.last_sequence, last_hash);
    transaction.commit();
  } catch (const soci::soci_error& error) {
    rethrow_storage_error("retention failed", error);
  }
  return result;
}

}  // namespace plexus::audit
