#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "kernel/audit/canonical_json.hpp"
#include "kernel/audit/chain.hpp"

using nlohmann::json;
using plexus::audit::AuditRecord;
using plexus::audit::canonical_json;
using plexus::audit::Chain;
using plexus::audit::compute_hash;
using plexus::audit::genesis_hash;
using plexus::audit::hash_input;
using plexus::audit::verify;
using plexus::audit::Verifier;
using plexus::audit::VerifyResult;

namespace {

AuditRecord draft(int n) {
  AuditRecord record;
  record.time = "2026-01-31T12:00:00.000Z";
  record.tenant = "acme";
  record.actor = "user:" + std::to_string(n % 7);
  record.action = "resource.update";
  record.target = "dashboard/" + std::to_string(n);
  record.outcome = "success";
  record.ip = "10.0.0." + std::to_string(n % 250);
  record.request_id = "req-" + std::to_string(n);
  record.before = json{{"title", "old"}, {"n", n}};
  record.after = json{{"title", "new"}, {"n", n + 1}, {"ratio", n / 3.0}};
  record.details = json{{"fields", json::array({"title", "n"})}};
  return record;
}

std::vector<AuditRecord> build_chain(int count) {
  Chain chain;
  std::vector<AuditRecord> records;
  records.reserve(static_cast<std::size_t>(count));
  for (int n = 1; n <= count; ++n) records.push_back(chain.append(draft(n)));
  return records;
}

VerifyResult verify_streaming(const std::vector<AuditRecord>& records, std::string anchor = std::string(genesis_hash),
                              std::int64_t first = 1) {
  Verifier verifier(std::move(anchor), first);
  for (const auto& record : records) verifier.add(record);
  return verifier.result();
}

// first: the sequence verification started at, so all rows before the break passed.
void require_break(const VerifyResult& result, std::int64_t sequence, std::int64_t first = 1) {
  INFO(result.reason);
  REQUIRE_FALSE(result.ok);
  REQUIRE(result.first_bad_sequence == sequence);
  REQUIRE(result.checked == sequence - first);
  REQUIRE_FALSE(result.reason.empty());
}

}  // namespace

TEST_CASE("canonical JSON sorts keys by UTF-16 code units (RFC 8785 3.2.3)") {
  // U+FB33 sorts after U+1F600 in UTF-16 (surrogate D83D < FB33), although its
  // UTF-8 bytes sort before; this is where byte order and JCS differ.
  const json value = json::parse(R"({
    "\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh",
    "1": "One", "\ud83d\ude00": "Emoji: Grinning Face", "\u0080": "Control",
    "\u00f6": "Latin Small Letter O With Diaeresis"})");
  REQUIRE(canonical_json(value) ==
          "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u0080\":\"Control\","
          "\"\u00f6\":\"Latin Small Letter O With Diaeresis\",\"\u20ac\":\"Euro Sign\","
          "\"\U0001F600\":\"Emoji: Grinning Face\",\"\ufb33\":\"Hebrew Letter Dalet With Dagesh\"}");
}

TEST_CASE("canonical JSON sorts ASCII keys bytewise and case-sensitively") {
  REQUIRE(canonical_json(json{{"b", 1}, {"B", 2}, {"a", 3}, {"aa", 4}, {"_", 5}}) ==
          R"({"B":2,"_":5,"a":3,"aa":4,"b":1})");
}

TEST_CASE("canonical JSON escapes strings minimally (RFC 8785 3.2.2.2)") {
  const json value = json::parse(R"("\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/")");
  REQUIRE(canonical_json(value) == "\"\u20ac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"");
  REQUIRE(canonical_json("\b\t\n\f\r") == R"("\b\t\n\f\r")");
  REQUIRE(canonical_json(std::string("\x01\x1f\x7f", 3)) == "\"\\u0001\\u001f\x7f\"");
  REQUIRE(canonical_json("caf\u00e9 \U0001F600") == "\"caf\u00e9 \U0001F600\"");
}

TEST_CASE("canonical JSON writes numbers as ECMAScript does") {
  // Expected strings are what JSON.stringify prints for the same doubles.
  const std::vector<std::pair<double, std::string>> cases = {
      {0.0, "0"},
      {-0.0, "0"},
      {1.0, "1"},
      {-1.5, "-1.5"},
      {4.50, "4.5"},
      {2e-3, "0.002"},
      {0.1 + 0.2, "0.30000000000000004"},
      {333333333.33333329, "333333333.3333333"},
      {1e-6, "0.000001"},
      {1e-7, "1e-7"},
      {1.5e-7, "1.5e-7"},
      {1e-27, "1e-27"},
      {1e20, "100000000000000000000"},
      {1.2345678901234568e20, "123456789012345680000"},
      {1e21, "1e+21"},
      {1e30, "1e+30"},
      {-1.25e22, "-1.25e+22"},
      {9007199254740992.0, "9007199254740992"},
      {std::numeric_limits<double>::max(), "1.7976931348623157e+308"},
      {std::numeric_limits<double>::denorm_min(), "5e-324"},
  };
  for (const auto& [number, text] : cases) {
    INFO(text);
    REQUIRE(canonical_json(number) == text);
  }
}

TEST_CASE("canonical JSON writes integers exactly even beyond 2^53") {
  REQUIRE(canonical_json(json(-42)) == "-42");
  REQUIRE(canonical_json(json(std::numeric_limits<std::int64_t>::min())) == "-9223372036854775808");
  REQUIRE(canonical_json(json(std::numeric_limits<std::uint64_t>::max())) == "18446744073709551615");
}

TEST_CASE("canonical JSON of parsed text survives a round trip") {
  // A row read back from the database must hash as it did when written.
  const json value = json::parse(R"({"z":[1.0,2.50,1e2,-0.0,1e-9,12345678901234567890],"a":{"y":null,"x":true}})");
  const std::string once = canonical_json(value);
  REQUIRE(once == R"({"a":{"x":true,"y":null},"z":[1,2.5,100,0,1e-9,12345678901234567890]})");
  REQUIRE(canonical_json(json::parse(once)) == once);
}

TEST_CASE("canonical JSON writes nested values without whitespace and arrays in order") {
  const json value = {{"list", {3, "two", {{"k", false}}, json::array(), json::object()}}, {"empty", nullptr}};
  REQUIRE(canonical_json(value) == R"({"empty":null,"list":[3,"two",{"k":false},[],{}]})");
}

TEST_CASE("canonical JSON rejects what JSON cannot express") {
  REQUIRE_THROWS_AS(canonical_json(std::nan("")), std::invalid_argument);
  REQUIRE_THROWS_AS(canonical_json(std::numeric_limits<double>::infinity()), std::invalid_argument);
  REQUIRE_THROWS_AS(canonical_json(json{{"x", {-std::numeric_limits<double>::infinity()}}}), std::invalid_argument);
  REQUIRE_THROWS_AS(canonical_json(std::string("\xff")), std::invalid_argument);
  REQUIRE_THROWS_AS(canonical_json(std::string("\xc0\xaf")), std::invalid_argument);        // overlong '/'
  REQUIRE_THROWS_AS(canonical_json(std::string("\xed\xa0\x80")), std::invalid_argument);    // surrogate
  REQUIRE_THROWS_AS(canonical_json(std::string("\xe2\x82")), std::invalid_argument);        // truncated
  REQUIRE_THROWS_AS(canonical_json(json{{std::string("\x80"), 1}}), std::invalid_argument);  // bad key
  REQUIRE_THROWS_AS(canonical_json(json::binary({1, 2})), std::invalid_argument);
}

TEST_CASE("the hash of a fixed record is pinned") {
  // Every stored chain depends on this exact text and hash. If this test fails,
  // the change breaks verification of every existing audit log: revert it, or
  // introduce a new format version that old rows keep verifying under.
  AuditRecord record;
  record.sequence = 7;
  record.time = "2026-01-31T12:34:56.789Z";
  record.tenant = "acme";
  record.actor = "user:alice";
  record.action = "resource.update";
  record.target = "dashboard/42";
  record.outcome = "success";
  record.ip = "192.0.2.10";
  record.request_id = "req-0001";
  record.before = json{{"title", "Old"}, {"n", 1}};
  record.after = json{{"title", "N\u00e9w"}, {"n", 1.5}};
  record.details = json{{"reason", "edit"}};
  record.previous_hash = std::string(genesis_hash);
  REQUIRE(hash_input(record) ==
          "{\"action\":\"resource.update\",\"actor\":\"user:alice\",\"after\":{\"n\":1.5,\"title\":\"N\u00e9w\"},"
          "\"before\":{\"n\":1,\"title\":\"Old\"},\"details\":{\"reason\":\"edit\"},\"ip\":\"192.0.2.10\","
          "\"outcome\":\"success\",\"previous_hash\":\"" +
              std::string(genesis_hash) +
              "\",\"request_id\":\"req-0001\",\"sequence\":7,\"target\":\"dashboard/42\","
              "\"tenant\":\"acme\",\"time\":\"2026-01-31T12:34:56.789Z\"}");
  REQUIRE(compute_hash(record) == "0d5a8cfced7d85aad8133e539998cf76c5dedabfd508be2418a7c31bd9b07688");
  record.hash = "ignored";
  REQUIRE(compute_hash(record) == "0d5a8cfced7d85aad8133e539998cf76c5dedabfd508be2418a7c31bd9b07688");
}

TEST_CASE("Chain links each record to the one before") {
  Chain chain;
  const AuditRecord first = chain.append(draft(1));
  const AuditRecord second = chain.append(draft(2));
  REQUIRE(first.sequence == 1);
  REQUIRE(first.previous_hash == genesis_hash);
  REQUIRE(first.hash == compute_hash(first));
  REQUIRE(second.sequence == 2);
  REQUIRE(second.previous_hash == first.hash);
  REQUIRE(chain.last_hash() == second.hash);
  REQUIRE(chain.last_sequence() == 2);
}

TEST_CASE("Chain overwrites chain fields a caller put in the draft") {
  AuditRecord forged = draft(1);
  forged.sequence = 99;
  forged.previous_hash = std::string(64, 'a');
  forged.hash = "x";
  const AuditRecord record = Chain().append(forged);
  REQUIRE(record.sequence == 1);
  REQUIRE(record.previous_hash == genesis_hash);
  REQUIRE(record.hash == compute_hash(record));
}

TEST_CASE("Chain resumed from a stored head continues the same chain") {
  std::vector<AuditRecord> records = build_chain(10);
  Chain resumed(records.back().hash, records.back().sequence);
  records.push_back(resumed.append(draft(11)));
  REQUIRE(records.back().sequence == 11);
  REQUIRE(verify(records).ok);
}

TEST_CASE("Chain rejects a malformed head") {
  REQUIRE_THROWS_AS(Chain("abc"), std::invalid_argument);
  REQUIRE_THROWS_AS(Chain(std::string(64, 'A')), std::invalid_argument);
  REQUIRE_THROWS_AS(Chain(std::string(genesis_hash), -1), std::invalid_argument);
}

TEST_CASE("Chain leaves its head unchanged when a record cannot be hashed") {
  Chain chain;
  chain.append(draft(1));
  const std::string head = chain.last_hash();
  AuditRecord bad = draft(2);
  bad.details = json{{"ratio", std::nan("")}};
  REQUIRE_THROWS_AS(chain.append(bad), std::invalid_argument);
  REQUIRE(chain.last_hash() == head);
  REQUIRE(chain.last_sequence() == 1);
  REQUIRE(chain.append(draft(2)).sequence == 2);
}

TEST_CASE("a chain of 1000 records verifies in batch and streaming") {
  const std::vector<AuditRecord> records = build_chain(1000);
  const VerifyResult result = verify(records);
  REQUIRE(result.ok);
  REQUIRE(result.checked == 1000);
  REQUIRE_FALSE(result.first_bad_sequence);
  REQUIRE(result.reason.empty());

  Verifier verifier;
  for (const auto& record : records) REQUIRE(verifier.add(record));
  REQUIRE(verifier.result().checked == 1000);
  REQUIRE(verifier.last_hash() == records.back().hash);
}

TEST_CASE("an empty log verifies") {
  REQUIRE(verify({}).ok);
  REQUIRE(verify({}).checked == 0);
  REQUIRE(Verifier().last_hash() == genesis_hash);
}

TEST_CASE("JSON that only differs in key order or number spelling still verifies") {
  // Databases may store before/after/details with keys in any order.
  std::vector<AuditRecord> records = build_chain(3);
  records[1].after = json::parse(R"({"ratio": 0.66666666666666663, "n": 3.0, "title": "new"})");
  REQUIRE(verify(records).ok);
}

TEST_CASE("altering any field is detected at that record") {
  const std::vector<std::pair<std::string, std::function<void(AuditRecord&)>>> alterations = {
      {"sequence", [](AuditRecord& r) { r.sequence += 1000; }},
      {"time", [](AuditRecord& r) { r.time = "2026-01-31T12:00:00.001Z"; }},
      {"tenant", [](AuditRecord& r) { r.tenant = "other"; }},
      {"actor", [](AuditRecord& r) { r.actor = "user:mallory"; }},
      {"action", [](AuditRecord& r) { r.action = "resource.read"; }},
      {"target", [](AuditRecord& r) { r.target += "x"; }},
      {"outcome", [](AuditRecord& r) { r.outcome = "denied"; }},
      {"ip", [](AuditRecord& r) { r.ip = "203.0.113.9"; }},
      {"request_id", [](AuditRecord& r) { r.request_id.clear(); }},
      {"before", [](AuditRecord& r) { r.before["title"] = "forged"; }},
      {"after", [](AuditRecord& r) { r.after.erase("ratio"); }},
      {"details", [](AuditRecord& r) { r.details = nullptr; }},
      {"previous_hash", [](AuditRecord& r) { r.previous_hash = std::string(64, 'f'); }},
      {"hash", [](AuditRecord& r) { r.hash = std::string(64, 'f'); }},
      {"number type", [](AuditRecord& r) { r.before["n"] = r.before["n"].get<int>() + 0.5; }},
  };
  const std::vector<AuditRecord> original = build_chain(200);
  for (const auto& [field, alter] : alterations) {
    for (const std::int64_t sequence : {1, 137, 200}) {
      INFO(field << " at " << sequence);
      std::vector<AuditRecord> records = original;
      alter(records[static_cast<std::size_t>(sequence - 1)]);
      require_break(verify(records), sequence);
      require_break(verify_streaming(records), sequence);
    }
  }
}

TEST_CASE("a stored row that cannot be hashed is reported at that row") {
  std::vector<AuditRecord> records = build_chain(10);
  records[5].target = std::string("dashboard/\xff");  // not UTF-8, e.g. written by another tool
  const VerifyResult result = verify(records);
  require_break(result, 6);
  REQUIRE_THAT(result.reason, Catch::Contains("cannot be hashed"));
}

TEST_CASE("a rehashed altered row is still detected by the next row") {
  std::vector<AuditRecord> records = build_chain(50);
  records[19].actor = "user:mallory";
  records[19].hash = compute_hash(records[19]);
  const VerifyResult result = verify(records);
  require_break(result, 21);
  REQUIRE_THAT(result.reason, Catch::Contains("previous_hash"));
}

TEST_CASE("deleting a row is detected at the missing sequence") {
  SECTION("in the middle") {
    std::vector<AuditRecord> records = build_chain(100);
    records.erase(records.begin() + 41);
    const VerifyResult result = verify(records);
    require_break(result, 42);
    REQUIRE_THAT(result.reason, Catch::Contains("missing"));
  }
  SECTION("the first") {
    std::vector<AuditRecord> records = build_chain(100);
    records.erase(records.begin());
    require_break(verify(records), 1);
  }
  SECTION("with the sequences renumbered to hide the gap") {
    std::vector<AuditRecord> records = build_chain(100);
    records.erase(records.begin() + 41);
    for (std::size_t i = 41; i < records.size(); ++i) records[i].sequence -= 1;
    require_break(verify(records), 42);
  }
}

TEST_CASE("swapping two rows is detected") {
  std::vector<AuditRecord> records = build_chain(100);
  std::swap(records[60], records[61]);
  require_break(verify(records), 61);
  std::swap(records[60], records[61]);
  std::swap(records[10], records[90]);
  require_break(verify(records), 11);
}

TEST_CASE("inserting a row is detected") {
  const std::vector<AuditRecord> original = build_chain(100);
  SECTION("a copy of an existing row") {
    std::vector<AuditRecord> records = original;
    records.insert(records.begin() + 30, records[29]);
    const VerifyResult result = verify(records);
    require_break(result, 31);
    REQUIRE_THAT(result.reason, Catch::Contains("found 30"));
  }
  SECTION("a forged row correctly linked to its predecessor") {
    std::vector<AuditRecord> records = original;
    AuditRecord forged = draft(999);
    forged.sequence = 30;
    forged.previous_hash = records[28].hash;
    forged.hash = compute_hash(forged);
    records.insert(records.begin() + 29, forged);
    require_break(verify(records), 31);  // the forgery itself links; the real row 30 cannot follow it
  }
  SECTION("a forged row with the later rows renumbered") {
    std::vector<AuditRecord> records = original;
    AuditRecord forged = draft(999);
    forged.sequence = 30;
    forged.previous_hash = records[28].hash;
    forged.hash = compute_hash(forged);
    records.insert(records.begin() + 29, forged);
    for (std::size_t i = 30; i < records.size(); ++i) records[i].sequence += 1;
    require_break(verify(records), 31);
  }
}

TEST_CASE("a truncated tail verifies and only the separately stored head reveals it") {
  const std::vector<AuditRecord> records = build_chain(100);
  const std::string stored_head = records.back().hash;
  const std::vector<AuditRecord> truncated(records.begin(), records.end() - 5);
  Verifier verifier;
  for (const auto& record : truncated) verifier.add(record);
  REQUIRE(verifier.result().ok);
  REQUIRE(verifier.last_hash() != stored_head);
}

TEST_CASE("after retention the kept rows verify from the anchor") {
  const std::vector<AuditRecord> records = build_chain(500);
  const std::string anchor = records[299].hash;  // the last deleted row's hash
  const std::vector<AuditRecord> kept(records.begin() + 300, records.end());

  const VerifyResult result = verify(kept, anchor);
  REQUIRE(result.ok);
  REQUIRE(result.checked == 200);
  REQUIRE(verify_streaming(kept, anchor, 301).ok);

  SECTION("without the anchor the kept rows do not verify") {
    require_break(verify(kept), 1);
  }
  SECTION("a wrong anchor is detected at the first kept row") {
    require_break(verify(kept, records[298].hash), 301, 301);
  }
  SECTION("deleting the first kept row is detected") {
    const std::vector<AuditRecord> shorter(kept.begin() + 1, kept.end());
    // Batch verify starts at the first row it is given; the previous_hash link catches it.
    require_break(verify(shorter, anchor), 302, 302);
    // A caller that stored the anchor's sequence sees the gap itself.
    require_break(verify_streaming(shorter, anchor, 301), 301, 301);
  }
}

TEST_CASE("the streaming verifier agrees with batch verify") {
  const std::vector<AuditRecord> original = build_chain(300);
  std::vector<std::vector<AuditRecord>> logs(5, original);
  logs[1][150].outcome = "denied";
  logs[2].erase(logs[2].begin() + 7);
  std::swap(logs[3][298], logs[3][299]);
  logs[4].insert(logs[4].begin() + 100, logs[4][50]);
  for (const auto& log : logs) {
    const VerifyResult batch = verify(log);
    const VerifyResult streaming = verify_streaming(log);
    REQUIRE(batch.ok == streaming.ok);
    REQUIRE(batch.checked == streaming.checked);
    REQUIRE(batch.first_bad_sequence == streaming.first_bad_sequence);
    REQUIRE(batch.reason == streaming.reason);
  }
}

TEST_CASE("the verifier ignores records after the first break") {
  std::vector<AuditRecord> records = build_chain(10);
  records[3].ip = "203.0.113.9";
  Verifier verifier;
  for (std::size_t i = 0; i < 3; ++i) REQUIRE(verifier.add(records[i]));
  REQUIRE_FALSE(verifier.add(records[3]));
  REQUIRE_FALSE(verifier.add(records[4]));
  require_break(verifier.result(), 4);
  REQUIRE(verifier.last_hash() == records[2].hash);
}

TEST_CASE("concurrent appends from 4 threads produce a valid chain") {
  Chain chain;
  std::vector<std::vector<AuditRecord>> per_thread(4);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < per_thread.size(); ++t) {
    threads.emplace_back([&chain, &out = per_thread[t], t] {
      for (int n = 0; n < 250; ++n) out.push_back(chain.append(draft(static_cast<int>(t) * 1000 + n)));
    });
  }
  for (auto& thread : threads) thread.join();

  std::vector<AuditRecord> records;
  for (const auto& part : per_thread) records.insert(records.end(), part.begin(), part.end());
  std::sort(records.begin(), records.end(), [](const auto& a, const auto& b) { return a.sequence < b.sequence; });
  REQUIRE(records.size() == 1000);
  REQUIRE(records.front().sequence == 1);
  REQUIRE(records.back().sequence == 1000);
  const VerifyResult result = verify(records);
  REQUIRE(result.ok);
  REQUIRE(result.checked == 1000);
  REQUIRE(chain.last_hash() == records.back().hash);
}
