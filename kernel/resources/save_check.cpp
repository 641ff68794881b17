// The save hook of a kind (Kind::check_save): its answer turned into the store's errors.
#include <spdlog/logger.h>

#include "kernel/http/message.hpp"
#include "kernel/log/log.hpp"
#include "kernel/resources/kinds.hpp"
#include "kernel/resources/store_internal.hpp"

namespace plexus::resources {

namespace {

// What the refused operation would have done, for the error's message.
std::string refused_change(std::string_view operation) {
  if (operation == "delete") return "deleted";
  if (operation == "restore") return "restored";
  return "saved";
}

// The field at fault in the error: within an import, the item's pointer; for a delete or a
// restore, the id (the caller sent no content); otherwise the content sent.
std::string field_at_fault(std::string_view operation, const std::string& pointer_prefix) {
  if (!pointer_prefix.empty()) return pointer_prefix;
  return operation == "delete" || operation == "restore" ? "id" : "content";
}

}  // namespace

void RegisteredKind::require_save_allowed(const SaveCheck& check, const std::string& pointer_prefix) const {
  if (!kind.check_save) return;
  const auto done = refused_change(check.operation);
  const auto field = field_at_fault(check.operation, pointer_prefix);
  SaveVerdict verdict;
  try {
    verdict = kind.check_save(check);
  } catch (const std::exception& e) {
    // A hook that fails cannot vouch for the save: refuse it, and keep its words for operators.
    log::get("resources")->error("the save check of kind '{}' failed for {}/{} in tenant {}: {}", kind.name,
                                 kind.name, check.id, check.tenant, e.what());
    throw http::HttpError(500, "save_check_failed",
                          "the save check of kind '" + kind.name + "' failed, so nothing was " + done + ": " + e.what(),
                          {{"field", field}});
  }
  if (!verdict.denied.empty()) {
    throw http::HttpError(403, "forbidden", verdict.denied,
                          {{"field", field}});
  }
  if (verdict.problems.empty()) return;
  nlohmann::json listed = nlohmann::json::array();
  for (const auto& problem : verdict.problems) {
    listed.push_back({{"pointer", pointer_prefix + problem.pointer}, {"message", problem.message}});
  }
  const auto& first = verdict.problems.front();
  throw http::HttpError(422, "invalid_content",
                        "the " + kind.name + " cannot be " + done + ": " +
                            (first.pointer.empty() ? std::string() : pointer_prefix + first.pointer + ": ") +
                            first.message,
                        {{"field", field},
                         {"problems", std::move(listed)}});
}

void run_save_check(const RegisteredKind& kind, const auth::Caller& caller, const std::string& id,
                    std::string_view operation, const nlohmann::json& content, const nlohmann::json& previous,
                    const std::string& pointer_prefix) {
  if (!kind.kind.check_save) return;
  const auth::Caller* who = caller.kind == auth::CallerKind::system ? nullptr : &caller;
  kind.require_save_allowed(
      SaveCheck{who, caller.tenant, kind.kind.name, id, std::string(operation), content, previous}, pointer_prefix);
}

void changed_while_checking(std::string_view kind, const std::string& id) {
  conflict("changed", target_of(kind, id) + " changed while its save checks ran; save again");
}

}  // namespace plexus::resources
