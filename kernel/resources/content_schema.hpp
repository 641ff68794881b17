// A kind's JSON Schema, compiled once (valijson) and checked against content many
// times, concurrently. Problems come back located by JSON pointer.
#pragma once

#include <memory>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernel/resources/kind.hpp"

namespace plexus::resources {

class ContentSchema {
 public:
  // Throws std::invalid_argument when valijson cannot compile `schema`.
  explicit ContentSchema(const nlohmann::json& schema);
  ~ContentSchema();
  ContentSchema(const ContentSchema&) = delete;
  ContentSchema& operator=(const ContentSchema&) = delete;

  // Empty when `content` satisfies the schema.
  std::vector<Problem> problems(const nlohmann::json& content) const;

 private:
  struct Compiled;
  std::unique_ptr<Compiled> compiled_;
};

// RFC 6901 escaping of one reference token: "~" -> "~0", "/" -> "~1".
std::string pointer_token(std::string_view token);

}  // namespace plexus::resources
