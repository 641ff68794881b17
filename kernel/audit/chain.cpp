#include "kernel/audit/chain.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include <openssl/evp.h>

#include "kernel/audit/canonical_json.hpp"

namespace plexus::audit {
namespace {

std::string sha256_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("audit: SHA-256 failed");
  }
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 0xF];
  }
  return out;
}

bool is_hash(std::string_view text) {
  return text.size() == genesis_hash.size() &&
         std::all_of(text.begin(), text.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

std::string hash_input(const AuditRecord& record) {
  // Field names are part of the stored format: renaming one breaks every chain.
  return canonical_json(nlohmann::json{
      {"sequence", record.sequence},
      {"time", record.time},
      {"tenant", record.tenant},
      {"actor", record.actor},
      {"action", record.action},
      {"target", record.target},
      {"outcome", record.outcome},
      {"ip", record.ip},
      {"request_id", record.request_id},
      {"before", record.before},
      {"after", record.after},
      {"details", record.details},
      {"previous_hash", record.previous_hash},
  });
}

std::string compute_hash(const AuditRecord& record) { return sha256_hex(hash_input(record)); }

Chain::Chain(std::string last_hash, std::int64_t last_sequence)
    : last_hash_(std::move(last_hash)), last_sequence_(last_sequence) {
  if (!is_hash(last_hash_)) throw std::invalid_argument("audit chain: last hash must be 64 lowercase hex digits");
  if (last_sequence_ < 0) throw std::invalid_argument("audit chain: last sequence must not be negative");
}

AuditRecord Chain::append(AuditRecord draft) {
  std::lock_guard lock(mutex_);
  draft.sequence = last_sequence_ + 1;
  draft.previous_hash = last_hash_;
  draft.hash = compute_hash(draft);
  last_sequence_ = draft.sequence;
  last_hash_ = draft.hash;
  return draft;
}

std::string Chain::last_hash() const {
  std::lock_guard lock(mutex_);
  return last_hash_;
}

std::int64_t Chain::last_sequence() const {
  std::lock_guard lock(mutex_);
  return last_sequence_;
}

Verifier::Verifier(std::string anchor, std::int64_t expected_first_sequence)
    : last_hash_(std::move(anchor)), expected_sequence_(expected_first_sequence) {}

bool Verifier::add(const AuditRecord& record) {
  if (!result_.ok) return false;
  auto fail = [&](std::string reason) {
    result_.ok = false;
    result_.first_bad_sequence = expected_sequence_;
    result_.reason = std::move(reason);
    return false;
  };
  const std::string expected = std::to_string(expected_sequence_);
  if (record.sequence > expected_sequence_) {
    return fail("sequence " + expected + " is missing, the next row has sequence " +
                std::to_string(record.sequence) + " (row deleted or out of order)");
  }
  if (record.sequence < expected_sequence_) {
    return fail("expected sequence " + expected + ", found " + std::to_string(record.sequence) +
                " (row inserted or out of order)");
  }
  if (record.previous_hash != last_hash_) {
    return fail("sequence " + expected +
                ": previous_hash is not the hash of the row before (row inserted, reordered or altered)");
  }
  std::string hash;
  try {
    hash = compute_hash(record);
  } catch (const std::invalid_argument& error) {
    return fail("sequence " + expected + ": cannot be hashed: " + error.what());
  }
  if (hash != record.hash) return fail("sequence " + expected + ": hash does not match the row's content (row altered)");
  last_hash_ = std::move(hash);
  ++expected_sequence_;
  ++result_.checked;
  return true;
}

VerifyResult Verifier::result() const { return result_; }

const std::string& Verifier::last_hash() const { return last_hash_; }

VerifyResult verify(const std::vector<AuditRecord>& records_in_sequence_order, std::string_view anchor) {
  const std::int64_t first = anchor == genesis_hash || records_in_sequence_order.empty()
                                 ? 1
                                 : records_in_sequence_order.front().sequence;
  Verifier verifier{std::string(anchor), first};
  for (const auto& record : records_in_sequence_order) {
    if (!verifier.add(record)) break;
  }
  return verifier.result();
}

}  // namespace plexus::audit
