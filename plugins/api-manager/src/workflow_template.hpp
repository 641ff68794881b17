// Values of workflow steps: templates that refer to the parameters, earlier steps'
// results and foreach variables ("${params.id}", "${steps.lookup.rows[0].name}",
// "${item.id}"). Only lookups, never evaluation of code. docs/api-manager.md,
// "Workflow APIs", is the user's view.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace plexus::api_manager {

// "steps.lookup.rows[0].name": root "steps", path {"lookup", "rows", 0, "name"}. A
// negative index counts from the end ([-1] is the last element).
struct Reference {
  std::string root;
  std::vector<std::variant<std::string, std::int64_t>> path;
  std::string text;  // as written, for messages
};

// Parses the inside of "${...}"; nullopt and `why` when it does not read.
std::optional<Reference> parse_reference(std::string_view text, std::string* why);

// The results a step may refer to: the steps of its own block and of enclosing blocks,
// and variables (the root's "params", a foreach's item). Frames chain to their parent;
// a parallel branch reads its parents while other branches do, and writes only its own.
struct Scope {
  const Scope* parent = nullptr;
  nlohmann::ordered_json steps = nlohmann::ordered_json::object();  // step id -> result
  std::map<std::string, nlohmann::ordered_json> vars;

  const nlohmann::ordered_json* find_step(const std::string& id) const;
  const nlohmann::ordered_json* find_var(const std::string& name) const;
};

// The value a reference names; null when any part of it is missing.
nlohmann::ordered_json resolve_reference(const Reference& ref, const Scope& scope);

// Resolves every string of `tmpl` (objects and arrays recursively; keys stay as they
// are). A string that is exactly one reference keeps the value's JSON type; references
// inside text become text (null as "", strings as they are, anything else as JSON).
// "$${" writes a literal "${". Throws std::invalid_argument on a malformed template
// (validation refuses those on save).
nlohmann::ordered_json resolve_template(const nlohmann::json& tmpl, const Scope& scope);

// Calls `on_reference(ref, pointer)` for each reference in `tmpl` and adds a problem
// ([{"pointer","message"}]) for each malformed string; `pointer` names `tmpl`.
void check_template(const nlohmann::json& tmpl, const std::string& pointer, nlohmann::json& problems,
                    const std::function<void(const Reference&, const std::string&)>& on_reference);


}  // namespace plexus::api_manager
