// The parameters of one runtime call: path, query and body merged into one object,
// strings coerced where the API's `params` schema asks for numbers or booleans, and
// the result checked against that schema (docs/api-manager.md, "Parameters").
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace plexus::api_manager {

struct FieldError {
  std::string field;  // the parameter's name; "" for the parameters as a whole
  std::string message;
};

// A compiled JSON Schema (valijson). Throws std::invalid_argument for a schema it cannot read.
class ParamSchema {
 public:
  explicit ParamSchema(const nlohmann::json& schema);
  ~ParamSchema();
  ParamSchema(const ParamSchema&) = delete;
  ParamSchema& operator=(const ParamSchema&) = delete;
  std::vector<FieldError> check(const nlohmann::json& value) const;

 private:
  struct Compiled;
  std::unique_ptr<Compiled> compiled_;
};

struct CallInput {
  std::map<std::string, std::string> path;                 // from the path template
  std::vector<std::pair<std::string, std::string>> query;  // in order; a name may repeat
  nlohmann::json body;                                     // null, or the JSON body (must be an object)
};

struct MergedParams {
  nlohmann::json values = nlohmann::json::object();
  std::vector<FieldError> errors;  // non-empty: answer 400 invalid_params
};

// Merges, coerces and validates. A name may come from one place only (path, query or
// body); repeated query names make an array when the schema says "array".
MergedParams merge_params(const nlohmann::json& schema, const ParamSchema& compiled, const CallInput& input);

// The values bound to the SQL: exactly its placeholders, null for those not given.
nlohmann::json bind_values(const std::vector<std::string>& placeholders, const nlohmann::json& values);

}  // namespace plexus::api_manager
