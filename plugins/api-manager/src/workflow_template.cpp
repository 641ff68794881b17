#include "workflow_template.hpp"

#include <stdexcept>

#include "pointer_token.hpp"

namespace plexus::api_manager {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

// A template string cut into literal text and references.
struct Piece {
  bool reference = false;
  std::string text;  // the literal, or the reference as written
  Reference ref;
};

std::optional<std::vector<Piece>> split(std::string_view text, std::string* why) {
  std::vector<Piece> pieces;
  std::string literal;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text.compare(i, 3, "$${") == 0) {
      literal += "${";
      i += 3;
      continue;
    }
    if (text.compare(i, 2, "${") != 0) {
      literal += text[i++];
      continue;
    }
    // The closing brace, skipping quoted keys (["a}b"]).
    std::size_t end = i + 2;
    char quote = 0;
    for (; end < text.size(); ++end) {
      const char c = text[end];
      if (quote != 0) {
        if (c == '\\') {
          ++end;
        } else if (c == quote) {
          quote = 0;
        }
      } else if (c == '\'' || c == '"') {
        quote = c;
      } else if (c == '}') {
        break;
      }
    }
    if (end >= text.size()) {
      *why = "'${' at character " + std::to_string(i + 1) + " is not closed by '}' (write $${ for a literal ${)";
      return std::nullopt;
    }
    const auto inside = text.substr(i + 2, end - i - 2);
    std::string reason;
    auto ref = parse_reference(inside, &reason);
    if (!ref) {
      *why = "'${" + std::string(inside) + "}': " + reason;
      return std::nullopt;
    }
    if (!literal.empty()) pieces.push_back({false, std::move(literal), {}});
    literal.clear();
    pieces.push_back({true, std::string(inside), std::move(*ref)});
    i = end + 1;
  }
  if (!literal.empty() || pieces.empty()) pieces.push_back({false, std::move(literal), {}});
  return pieces;
}

std::string as_text(const ordered_json& value) {
  if (value.is_null()) return "";
  if (value.is_string()) return value.get<std::string>();
  return value.dump();
}

}  // namespace

std::optional<Reference> parse_reference(std::string_view text, std::string* why) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  Reference ref;
  ref.text = std::string(text);
  std::size_t i = 0;
  while (i < text.size() && is_name_char(text[i]) && text[i] != '-') ++i;
  if (i == 0 || (text[0] >= '0' && text[0] <= '9')) {
    *why = "a reference starts with a name: params, steps or a foreach variable";
    return std::nullopt;
  }
  ref.root = std::string(text.substr(0, i));
  while (i < text.size()) {
    if (text[i] == '.') {
      const auto start = ++i;
      while (i < text.size() && is_name_char(text[i])) ++i;
      if (i == start) {
        *why = "a name must follow '.' at character " + std::to_string(start);
        return std::nullopt;
      }
      ref.path.emplace_back(std::string(text.substr(start, i - start)));
    } else if (text[i] == '[') {
      ++i;
      if (i < text.size() && (text[i] == '\'' || text[i] == '"')) {
        const char quote = text[i++];
        std::string key;
        while (i < text.size() && text[i] != quote) {
          if (text[i] == '\\' && i + 1 < text.size()) ++i;
          key += text[i++];
        }
        if (i + 1 >= text.size() || text[i + 1] != ']') {
          *why = "a quoted key must end with " + std::string(1, quote) + "]";
          return std::nullopt;
        }
        i += 2;
        ref.path.emplace_back(std::move(key));
      } else {
        const auto start = i;
        if (i < text.size() && text[i] == '-') ++i;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
        if (i >= text.size() || text[i] != ']' || i == start || (i == start + 1 && text[start] == '-') ||
            i - start > 10) {
          *why = "'[' takes an index such as [0] or [-1], or a quoted key such as [\"my key\"]";
          return std::nullopt;
        }
        ref.path.emplace_back(std::stoll(std::string(text.substr(start, i - start))));
        ++i;
      }
    } else {
      *why = "unexpected '" + std::string(1, text[i]) + "' at character " + std::to_string(i + 1) +
             "; write names as a.b, indexes as [0] and other keys as [\"key\"]";
      return std::nullopt;
    }
  }
  return ref;
}

const ordered_json* Scope::find_step(const std::string& id) const {
  for (const Scope* scope = this; scope != nullptr; scope = scope->parent) {
    if (const auto it = scope->steps.find(id); it != scope->steps.end()) return &*it;
  }
  return nullptr;
}

const ordered_json* Scope::find_var(const std::string& name) const {
  for (const Scope* scope = this; scope != nullptr; scope = scope->parent) {
    if (const auto it = scope->vars.find(name); it != scope->vars.end()) return &it->second;
  }
  return nullptr;
}

ordered_json resolve_reference(const Reference& ref, const Scope& scope) {
  const ordered_json* at = nullptr;
  std::size_t next = 0;
  if (ref.root == "steps") {
    if (ref.path.empty() || !std::holds_alternative<std::string>(ref.path[0])) return nullptr;
    at = scope.find_step(std::get<std::string>(ref.path[0]));
    next = 1;
  } else {
    at = scope.find_var(ref.root);
  }
  for (; at != nullptr && next < ref.path.size(); ++next) {
    const auto& part = ref.path[next];
    if (const auto* key = std::get_if<std::string>(&part)) {
      if (!at->is_object()) return nullptr;
      const auto it = at->find(*key);
      at = it == at->end() ? nullptr : &*it;
    } else {
      const auto index = std::get<std::int64_t>(part);
      if (!at->is_array()) return nullptr;
      const auto size = static_cast<std::int64_t>(at->size());
      const auto position = index < 0 ? size + index : index;
      at = position < 0 || position >= size ? nullptr : &(*at)[static_cast<std::size_t>(position)];
    }
  }
  return at == nullptr ? ordered_json(nullptr) : *at;
}

ordered_json resolve_template(const json& tmpl, const Scope& scope) {
  if (tmpl.is_object()) {
    ordered_json out = ordered_json::object();
    for (const auto& [key, value] : tmpl.items()) out[key] = resolve_template(value, scope);
    return out;
  }
  if (tmpl.is_array()) {
    ordered_json out = ordered_json::array();
    for (const auto& value : tmpl) out.push_back(resolve_template(value, scope));
    return out;
  }
  if (!tmpl.is_string()) return ordered_json(tmpl);
  std::string why;
  const auto pieces = split(tmpl.get_ref<const std::string&>(), &why);
  if (!pieces) throw std::invalid_argument(why);
  if (pieces->size() == 1 && (*pieces)[0].reference) return resolve_reference((*pieces)[0].ref, scope);
  std::string out;
  for (const auto& piece : *pieces) out += piece.reference ? as_text(resolve_reference(piece.ref, scope)) : piece.text;
  return out;
}

void check_template(const json& tmpl, const std::string& pointer, json& problems,
                    const std::function<void(const Reference&, const std::string&)>& on_reference) {
  if (tmpl.is_object()) {
    for (const auto& [key, value] : tmpl.items()) {
      check_template(value, pointer + "/" + pointer_token(key), problems, on_reference);
    }
  } else if (tmpl.is_array()) {
    for (std::size_t i = 0; i < tmpl.size(); ++i) {
      check_template(tmpl[i], pointer + "/" + std::to_string(i), problems, on_reference);
    }
  } else if (tmpl.is_string()) {
    std::string why;
    const auto pieces = split(tmpl.get_ref<const std::string&>(), &why);
    if (!pieces) {
      problems.push_back({{"pointer", pointer}, {"message", why}});
      return;
    }
    for (const auto& piece : *pieces) {
      if (piece.reference) on_reference(piece.ref, pointer);
    }
  }
}

}  // namespace plexus::api_manager
