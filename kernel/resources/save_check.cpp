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

}  // namespace

void RegisteredKind::require_save_allowed(const SaveCheck& check, const std::string& pointer_prefix) const {
  if (!kind.check_save) return;
  const auto done = refused_change(check.operation);
  SaveVerdict verdict;
  try {
    verdict = kind.check_save(check);
  } catch (const std::exception& e) {
    // A hook that fails cannot vouch for the save: refuse it, and keep its words for operators.
    log::get("resources")->error("the save check of kind '{}' failed for {}/{} in tenant {}: {}", kind.name,
                                 kind.name, check.id, check.tenant, e.what());
    throw http::HttpError(500, "save_check_failed",
                          "the save check of kind '" + kind.name + "' failed, so nothing was " + done + ": " + e.what(),
                          {{"field", pointer_prefix.empty() ? std::string("content") : pointer_prefix}});
  }
  if (!verdict.denied.empty()) {
    throw http::HttpError(403, "forbidden", verdict.denied,
                          {{"field", pointer_prefix.empty() ? std::string("content") : pointer_prefix}});
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
                        {{"field", pointer_prefix.empty() ? std::string("content") : pointer_prefix},
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
