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


}  // namespace plexus::resources
