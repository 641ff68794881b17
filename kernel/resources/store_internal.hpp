// Shared by the ResourceStore's source files only: the resources row, the write
// transaction wrapper, column readers and the errors a client can cause.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>

#include <soci/soci.h>

#include "kernel/http/message.hpp"
#include "kernel/resources/resource_store.hpp"
#include "kernel/store/transaction.hpp"
#include "kernel/store/row_values.hpp"

namespace plexus::resources {

using store::integer_at;
using store::optional_integer_at;
using store::text_at;

struct ResourceStore::Row {
  std::string kind, id;
  std::int64_t revision = 0;
  std::optional<std::int64_t> staging, production;
  bool deleted = false;
  std::string created_by, created_at, updated_by, updated_at;

  Stages stages() const { return {revision, staging, production}; }
};

template <class Work>
auto ResourceStore::write(Work&& work) {
  std::vector<ResourceChange> changes;
  // The session goes back to the pool before the listener runs.
  auto run = [&] {
    soci::session sql(database_.pool());
    store::Transaction transaction(sql);
    if constexpr (std::is_void_v<decltype(work(sql, changes))>) {
      work(sql, changes);
      transaction.commit();
    } else {
      auto result = work(sql, changes);
      transaction.commit();
      return result;
    }
  };
  if constexpr (std::is_void_v<decltype(run())>) {
    run();
    announce(changes);
  } else {
    auto result = run();
    announce(changes);
    return result;
  }
}

// Integer columns come back as different C++ types from SQLite and PostgreSQL.

inline std::string target_of(std::string_view kind, const std::string& id) {
  return std::string(kind) + "/" + id;
}

[[noreturn]] void resource_not_found(std::string_view kind, const std::string& id);
[[noreturn]] void revision_not_found(std::string_view kind, const std::string& id, std::int64_t number);
// 412: the client's revision is not the current one.
[[noreturn]] void stale_revision(std::int64_t expected, std::int64_t current);
[[noreturn]] void conflict(std::string code, const std::string& message, nlohmann::json details = nullptr);

// Runs the kind's save hook (save_check.cpp) on `content` replacing `previous` (null for
// a new resource), outside the write transaction; the server's own caller (bootstrap)
// reaches the hook as none.
void run_save_check(const RegisteredKind& kind, const auth::Caller& caller, const std::string& id,
                    std::string_view operation, const nlohmann::json& content, const nlohmann::json& previous,
                    const std::string& pointer_prefix = "");
// 409 "changed": the resource moved past the revision its save hook checked against.
[[noreturn]] void changed_while_checking(std::string_view kind, const std::string& id);

// A fresh random id (32 hex digits) for promotion requests.
std::string random_id();

}  // namespace plexus::resources
