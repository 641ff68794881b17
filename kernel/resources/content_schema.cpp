#include "kernel/resources/content_schema.hpp"

#include "kernel/json/pointer_token.hpp"

#include <algorithm>
#include <stdexcept>
#include <string_view>

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

namespace plexus::resources {
namespace {

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// valijson repeats a failure on every enclosing level; only the innermost says what is wrong.
bool wrapper_error(std::string_view description) {
  return starts_with(description, "Failed to validate against schema associated with property name") ||
         starts_with(description, "Failed to validate item #") ||
         starts_with(description, "Failed to validate against additional properties schema") ||
         starts_with(description, "Failed to validate against schema associated with pattern") ||
         starts_with(description, "Failed to validate against child schema");
}

// "<root>", "[title]", "[0]" -> "/title/0".
std::string pointer_of(const std::vector<std::string>& context) {
  std::string pointer;
  for (std::size_t i = 1; i < context.size(); ++i) {
    std::string_view token = context[i];
    if (token.size() >= 2 && token.front() == '[' && token.back() == ']')
      token = token.substr(1, token.size() - 2);
    pointer += "/" + plexus::json::pointer_token(token);
  }
  return pointer;
}

// "Missing required property 'title'." -> "title".
std::string quoted_name(const std::string& description) {
  const auto last = description.rfind('\'');
  if (last == std::string::npos || last == 0) return {};
  const auto first = description.rfind('\'', last - 1);
  return first == std::string::npos ? std::string() : description.substr(first + 1, last - first - 1);
}

std::string sentence(std::string text) {
  if (!text.empty() && text.back() == '.') text.pop_back();
  if (!text.empty() && text[0] >= 'A' && text[0] <= 'Z') text[0] = static_cast<char>(text[0] - 'A' + 'a');
  return text;
}

Problem explain(const valijson::ValidationResults::Error& error) {
  auto pointer = pointer_of(error.context);
  if (starts_with(error.description, "Missing required property")) {
    return {pointer + "/" + plexus::json::pointer_token(quoted_name(error.description)), "is required"};
  }
  if (starts_with(error.description, "Object contains a property that could not be validated")) {
    return {pointer + "/" + plexus::json::pointer_token(quoted_name(error.description)), "is not allowed here"};
  }
  return {std::move(pointer), sentence(error.description)};
}

}  // namespace


struct ContentSchema::Compiled {
  valijson::Schema schema;
};

ContentSchema::ContentSchema(const nlohmann::json& schema) : compiled_(std::make_unique<Compiled>()) {
  if (!schema.is_object() && !schema.is_boolean()) {
    throw std::invalid_argument("the JSON Schema must be an object or a boolean");
  }
  try {
    valijson::SchemaParser parser;
    const valijson::adapters::NlohmannJsonAdapter adapter(schema);
    parser.populateSchema(adapter, compiled_->schema);
  } catch (const std::exception& e) {
    throw std::invalid_argument(std::string("the JSON Schema is not valid: ") + e.what());
  }
}

ContentSchema::~ContentSchema() = default;

std::vector<Problem> ContentSchema::problems(const nlohmann::json& content) const {
  // A Validator per call: it keeps state while it runs, the compiled schema does not.
  valijson::Validator validator;
  valijson::ValidationResults results;
  const valijson::adapters::NlohmannJsonAdapter target(content);
  bool valid = false;
  try {
    valid = validator.validate(compiled_->schema, target, &results);
  } catch (const std::exception& e) {
    return {{"", std::string("cannot be validated: ") + e.what()}};
  }
  if (valid) return {};

  const std::vector<valijson::ValidationResults::Error> errors(results.begin(), results.end());
  const bool only_wrappers = std::all_of(errors.begin(), errors.end(),
                                         [](const auto& error) { return wrapper_error(error.description); });
  std::vector<Problem> problems;
  for (const auto& error : errors) {
    if (!only_wrappers && wrapper_error(error.description)) continue;
    auto problem = explain(error);
    const bool repeated = std::any_of(problems.begin(), problems.end(), [&](const Problem& p) {
      return p.pointer == problem.pointer && p.message == problem.message;
    });
    if (!repeated) problems.push_back(std::move(problem));
  }
  if (problems.empty()) problems.push_back({"", "does not match the kind's schema"});
  return problems;
}

}  // namespace plexus::resources
