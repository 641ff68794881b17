#include "kernel/resources/kinds.hpp"

#include <mutex>
#include <stdexcept>

#include "kernel/http/message.hpp"

namespace plexus::resources {

bool is_kind_name(std::string_view name) {
  if (name.empty() || name.size() > 64 || name[0] < 'a' || name[0] > 'z') return false;
  for (const char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

std::vector<Problem> RegisteredKind::problems(const nlohmann::json& content) const {
  std::vector<Problem> found;
  if (schema) found = schema->problems(content);
  if (kind.validator) {
    try {
      for (auto& problem : kind.validator(content)) found.push_back(std::move(problem));
    } catch (const std::exception& e) {
      // A validator that fails cannot vouch for the content: refuse it, saying why.
      found.push_back({"", std::string("the validator of kind '") + kind.name + "' failed: " + e.what()});
    }
  }
  return found;
}

void RegisteredKind::require_valid(const nlohmann::json& content, const std::string& pointer_prefix) const {
  const auto found = problems(content);
  if (found.empty()) return;
  nlohmann::json listed = nlohmann::json::array();
  for (const auto& problem : found) {
    listed.push_back({{"pointer", pointer_prefix + problem.pointer}, {"message", problem.message}});
  }
  const auto& first = found.front();
  throw http::HttpError(400, "invalid_content",
                        "the content is not a valid " + kind.name + ": " +
                            (first.pointer.empty() ? std::string() : first.pointer + ": ") + first.message,
                        {{"field", pointer_prefix.empty() ? std::string("content") : pointer_prefix},
                         {"problems", std::move(listed)}});
}

nlohmann::json RegisteredKind::sealed(nlohmann::json content, const nlohmann::json& previous,
                                      const std::string& tenant, const std::string& id) const {
  if (!kind.seal) return content;
  try {
    kind.seal(content, previous, tenant, id);
  } catch (const std::invalid_argument& e) {
    throw http::HttpError(400, "invalid_content", e.what(), {{"field", "content"}});
  }
  return content;
}

nlohmann::json RegisteredKind::shown(nlohmann::json stored) const {
  if (kind.present) kind.present(stored);
  return stored;
}

namespace {

std::shared_ptr<RegisteredKind> compile(Kind kind, const std::string& owner) {
  if (!is_kind_name(kind.name)) {
    throw std::invalid_argument("resource kind name '" + kind.name + "' must match [a-z][a-z0-9-]{0,63}");
  }
  auto registered = std::make_shared<RegisteredKind>();
  if (!kind.json_schema.is_null()) {
    try {
      registered->schema = std::make_unique<ContentSchema>(kind.json_schema);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument("resource kind '" + kind.name + "': " + e.what());
    }
  }
  registered->kind = std::move(kind);
  registered->owner = owner;
  return registered;
}

}  // namespace

void ResourceKinds::add(Kind kind) {
  auto registered = compile(std::move(kind), "kernel");
  std::unique_lock lock(mutex_);
  const auto& name = registered->kind.name;
  if (kinds_.contains(name))
    throw std::invalid_argument("resource kind '" + name + "' is already registered");
  kinds_.emplace(name, std::move(registered));
}

void ResourceKinds::replace_owner(const std::string& owner, std::vector<Kind> kinds) {
  std::vector<std::shared_ptr<RegisteredKind>> compiled;
  for (auto& kind : kinds) compiled.push_back(compile(std::move(kind), owner));
  std::unique_lock lock(mutex_);
  for (const auto& registered : compiled) {
    const auto it = kinds_.find(registered->kind.name);
    if (it != kinds_.end() && it->second->owner != owner) {
      throw std::invalid_argument("resource kind '" + registered->kind.name + "' is already registered by " +
                                  it->second->owner);
    }
  }
  std::erase_if(kinds_, [&](const auto& item) { return item.second->owner == owner; });
  for (auto& registered : compiled) {
    auto name = registered->kind.name;
    kinds_.emplace(std::move(name), std::move(registered));
  }
}

bool ResourceKinds::remove(std::string_view name) {
  std::unique_lock lock(mutex_);
  const auto it = kinds_.find(name);
  if (it == kinds_.end()) return false;
  kinds_.erase(it);
  return true;
}

std::shared_ptr<const RegisteredKind> ResourceKinds::find(std::string_view name) const {
  std::shared_lock lock(mutex_);
  const auto it = kinds_.find(name);
  return it == kinds_.end() ? nullptr : it->second;
}

std::shared_ptr<const RegisteredKind> ResourceKinds::require(std::string_view name) const {
  auto found = find(name);
  if (!found) {
    throw http::HttpError(404, "unknown_kind", "there is no resource kind '" + std::string(name) + "'",
                          {{"field", "kind"}, {"kind", std::string(name)}});
  }
  return found;
}

std::vector<std::string> ResourceKinds::names() const {
  std::shared_lock lock(mutex_);
  std::vector<std::string> out;
  for (const auto& [name, kind] : kinds_) out.push_back(name);
  return out;
}

}  // namespace plexus::resources
