#include "kernel/audit/audit_tables.hpp"

#include <array>
#include <stdexcept>

#include <soci/soci.h>

namespace plexus::audit::tables {
namespace {

constexpr std::string_view kColumns =
    "sequence, time, tenant_id, actor, action, target, outcome, ip, request_id, "
    "before_json, after_json, details_json, previous_hash, hash";

// JSON is stored as text; SQL NULL stands for a null value.
std::string json_text(const nlohmann::json& value, soci::indicator& indicator) {
  indicator = value.is_null() ? soci::i_null : soci::i_ok;
  return value.is_null() ? std::string() : value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Text that does not parse (a row edited by hand) is kept as a string, so the
// row still reads and verify reports it as altered rather than failing outright.
nlohmann::json json_value(const std::string& text, soci::indicator indicator) {
  if (indicator == soci::i_null) return nullptr;
  auto parsed = nlohmann::json::parse(text, nullptr, false);
  return parsed.is_discarded() ? nlohmann::json(text) : parsed;
}

// One fetched row; every column has an indicator so a NULL written by hand
// reads as "" (and fails verification) instead of throwing.
struct RowBuffer {
  long long sequence = 0;
  std::array<std::string, 13> text;
  std::array<soci::indicator, 13> null{};

  std::string column(std::size_t i) const { return null[i] == soci::i_ok ? text[i] : std::string(); }

  AuditRecord record() const {
    AuditRecord record;
    record.sequence = sequence;
    record.time = column(0);
    record.tenant = column(1);
    record.actor = column(2);
    record.action = column(3);
    record.target = column(4);
    record.outcome = column(5);
    record.ip = column(6);
    record.request_id = column(7);
    record.before = json_value(text[8], null[8]);
    record.after = json_value(text[9], null[9]);
    record.details = json_value(text[10], null[10]);
    record.previous_hash = column(11);
    record.hash = column(12);
    return record;
  }
};

}  // namespace

const std::vector<store::Migration>& migrations() {
  static const std::vector<store::Migration> list = {
      {1,
       "audit log and its head",
       {
           "CREATE TABLE audit_log ("
           "sequence BIGINT PRIMARY KEY, time TEXT NOT NULL, tenant_id TEXT NOT NULL, actor TEXT NOT NULL, "
           "action TEXT NOT NULL, target TEXT NOT NULL, outcome TEXT NOT NULL, ip TEXT NOT NULL, "
           "request_id TEXT NOT NULL, before_json TEXT, after_json TEXT, details_json TEXT, "
           "previous_hash TEXT NOT NULL, hash TEXT NOT NULL)",
           "CREATE INDEX audit_log_tenant_time ON audit_log (tenant_id, time)",
           "CREATE INDEX audit_log_action ON audit_log (action)",
           // One row (id = 1): the chain's end and the retention anchor.
           "CREATE TABLE audit_head ("
           "id INTEGER PRIMARY KEY, last_sequence BIGINT NOT NULL, last_hash TEXT NOT NULL, "
           "anchor_sequence BIGINT NOT NULL, anchor_hash TEXT NOT NULL)",
           "INSERT INTO audit_head (id, last_sequence, last_hash, anchor_sequence, anchor_hash) VALUES (1, 0, '" +
               std::string(genesis_hash) + "', 0, '" + std::string(genesis_hash) + "')",
       }},
  };
  return list;
}

Head read_head(soci::session& sql, bool postgresql, bool lock) {
  long long last_sequence = 0, anchor_sequence = 0;
  Head head;
  sql << std::string("SELECT last_sequence, last_hash, anchor_sequence, anchor_hash FROM audit_head WHERE id = 1") +
             (postgresql && lock ? " FOR UPDATE" : ""),
      soci::into(last_sequence), soci::into(head.last_hash), soci::into(anchor_sequence),
      soci::into(head.anchor_hash);
  if (!sql.got_data()) throw std::runtime_error("the audit head row is missing (table audit_head was emptied)");
  head.last_sequence = last_sequence;
  head.anchor_sequence = anchor_sequence;
  return head;
}

void advance_head(soci::session& sql, std::int64_t last_sequence, const std::string& last_hash) {
  const long long sequence = last_sequence;
  sql << "UPDATE audit_head SET last_sequence = :s, last_hash = :h WHERE id = 1", soci::use(sequence, "s"),
      soci::use(last_hash, "h");
}

void move_anchor(soci::session& sql, std::int64_t anchor_sequence, const std::string& anchor_hash) {
  const long long sequence = anchor_sequence;
  sql << "UPDATE audit_head SET anchor_sequence = :s, anchor_hash = :h WHERE id = 1", soci::use(sequence, "s"),
      soci::use(anchor_hash, "h");
}

void insert(soci::session& sql, const AuditRecord& record) {
  const long long sequence = record.sequence;
  soci::indicator before_null, after_null, details_null;
  const auto before = json_text(record.before, before_null);
  const auto after = json_text(record.after, after_null);
  const auto details = json_text(record.details, details_null);
  sql << "INSERT INTO audit_log (" + std::string(kColumns) +
             ") VALUES (:sequence, :time, :tenant, :actor, :action, :target, :outcome, :ip, :request_id, "
             ":before, :after, :details, :previous_hash, :hash)",
      soci::use(sequence, "sequence"), soci::use(record.time, "time"), soci::use(record.tenant, "tenant"),
      soci::use(record.actor, "actor"), soci::use(record.action, "action"), soci::use(record.target, "target"),
      soci::use(record.outcome, "outcome"), soci::use(record.ip, "ip"), soci::use(record.request_id, "request_id"),
      soci::use(before, before_null, "before"), soci::use(after, after_null, "after"),
      soci::use(details, details_null, "details"), soci::use(record.previous_hash, "previous_hash"),
      soci::use(record.hash, "hash");
}

std::int64_t delete_range(soci::session& sql, std::int64_t first, std::int64_t last) {
  const long long from = first, to = last;
  soci::statement statement =
      (sql.prepare << "DELETE FROM audit_log WHERE sequence >= :first AND sequence <= :last", soci::use(from, "first"),
       soci::use(to, "last"));
  statement.execute(true);
  return statement.get_affected_rows();
}

RecordSelect& RecordSelect::where(std::string condition) {
  conditions_.push_back(std::move(condition));
  return *this;
}

RecordSelect& RecordSelect::bind(std::string name, std::string value) {
  texts_.emplace_back(std::move(name), std::move(value));
  return *this;
}

RecordSelect& RecordSelect::bind(std::string name, std::int64_t value) {
  numbers_.emplace_back(std::move(name), value);
  return *this;
}

void RecordSelect::run(soci::session& sql, std::string_view order, int limit,
                       const std::function<bool(AuditRecord&&)>& each) {
  std::string query = "SELECT " + std::string(kColumns) + " FROM audit_log";
  for (std::size_t i = 0; i < conditions_.size(); ++i) query += (i == 0 ? " WHERE " : " AND ") + conditions_[i];
  query += " ORDER BY " + std::string(order) + " LIMIT " + std::to_string(limit);

  RowBuffer row;
  soci::statement statement(sql);
  statement.exchange(soci::into(row.sequence));
  for (std::size_t i = 0; i < row.text.size(); ++i) statement.exchange(soci::into(row.text[i], row.null[i]));
  for (auto& [name, value] : texts_) statement.exchange(soci::use(value, name));
  for (auto& [name, value] : numbers_) statement.exchange(soci::use(value, name));
  statement.alloc();
  statement.prepare(query);
  statement.define_and_bind();
  statement.execute(false);
  while (statement.fetch()) {
    if (!each(row.record())) break;
  }
}

}  // namespace plexus::audit::tables
