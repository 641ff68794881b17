#include "params.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "plain_schema.hpp"

namespace plexus::api_manager {
namespace {

using nlohmann::json;

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

bool wrapper_error(std::string_view description) {
  return starts_with(description, "Failed to validate against schema associated with property name") ||
         starts_with(description, "Failed to validate item #") ||
         starts_with(description, "Failed to validate against additional properties schema") ||
         starts_with(description, "Failed to validate against schema associated with pattern") ||
         starts_with(description, "Failed to validate against child schema");
}

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

// valijson's context: "<root>", "[id]", "[0]" -> "id", "tags/0".
std::string field_of(const std::vector<std::string>& context) {
  std::string field;
  for (std::size_t i = 1; i < context.size(); ++i) {
    std::string_view token = context[i];
    if (token.size() >= 2 && token.front() == '[' && token.back() == ']')
      token = token.substr(1, token.size() - 2);
    if (!field.empty()) field += "/";
    field += token;
  }
  return field;
}

std::vector<std::string> types_of(const json& property) {
  std::vector<std::string> types;
  if (!property.is_object()) return types;
  const auto it = property.find("type");
  if (it == property.end()) return types;
  if (it->is_string()) types.push_back(it->get<std::string>());
  if (it->is_array()) {
    for (const auto& t : *it) {
      if (t.is_string()) types.push_back(t.get<std::string>());
    }
  }
  return types;
}

bool has(const std::vector<std::string>& types, std::string_view type) {
  return std::find(types.begin(), types.end(), type) != types.end();
}

// A string from the path or query as the schema's type wants it; the string itself when
// it cannot be read so (validation then names the field).
json coerce(const std::string& text, const json& property) {
  const auto types = types_of(property);
  if (types.empty() || has(types, "string")) return text;
  if (has(types, "integer")) {
    std::int64_t value = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (!text.empty() && ec == std::errc() && ptr == end) return value;
  }
  if (has(types, "number")) {
    if (!text.empty() && text.find_first_of(" \t\n") == std::string::npos) {
      char* end = nullptr;
      errno = 0;
      const double value = std::strtod(text.c_str(), &end);
      if (end == text.c_str() + text.size() && errno == 0 && std::isfinite(value)) return value;
    }
  }
  if (has(types, "boolean")) {
    if (text == "true") return true;
    if (text == "false") return false;
  }
  if (has(types, "null") && text == "null") return nullptr;
  return text;
}

const json& property_schema(const json& schema, const std::string& name) {
  static const json none = json::object();
  if (!schema.is_object()) return none;
  const auto properties = schema.find("properties");
  if (properties == schema.end() || !properties->is_object()) return none;
  const auto it = properties->find(name);
  return it == properties->end() ? none : *it;
}

std::string expected(const json& property) {
  const auto types = types_of(property);
  if (has(types, "integer")) return "an integer";
  if (has(types, "number")) return "a number";
  if (has(types, "boolean")) return "true or false";
  return {};
}

}  // namespace

struct ParamSchema::Compiled {
  valijson::Schema schema;
  std::optional<PlainSchema> plain;  // a quick yes for valid values of plain schemas
};

ParamSchema::ParamSchema(const json& schema) : compiled_(std::make_unique<Compiled>()) {
  if (!schema.is_object() && !schema.is_boolean())
    throw std::invalid_argument("must be a JSON Schema object");
  try {
    valijson::SchemaParser parser;
    const valijson::adapters::NlohmannJsonAdapter adapter(schema);
    parser.populateSchema(adapter, compiled_->schema);
  } catch (const std::exception& e) {
    throw std::invalid_argument(std::string("is not a JSON Schema valijson can read: ") + e.what());
  }
  compiled_->plain = PlainSchema::of(schema);
}

ParamSchema::~ParamSchema() = default;

std::vector<FieldError> ParamSchema::check(const json& value) const {
  if (compiled_->plain && compiled_->plain->accepts(value)) return {};
  valijson::Validator validator;
  valijson::ValidationResults results;
  const valijson::adapters::NlohmannJsonAdapter target(value);
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
  std::vector<FieldError> out;
  for (const auto& error : errors) {
    if (!only_wrappers && wrapper_error(error.description)) continue;
    FieldError field{field_of(error.context), sentence(error.description)};
    if (starts_with(error.description, "Missing required property")) {
      const auto name = quoted_name(error.description);
      field = {field.field.empty() ? name : field.field + "/" + name, "is required"};
    } else if (starts_with(error.description, "Object contains a property that could not be validated")) {
      const auto name = quoted_name(error.description);
      field = {field.field.empty() ? name : field.field + "/" + name, "is not a parameter of this API"};
    } else if (starts_with(error.description, "Value type not permitted")) {
      field.message = "has the wrong type";
    }
    const bool repeated = std::any_of(out.begin(), out.end(), [&](const FieldError& e) {
      return e.field == field.field && e.message == field.message;
    });
    if (!repeated) out.push_back(std::move(field));
  }
  if (out.empty()) out.push_back({"", "do not match the API's parameter schema"});
  return out;
}

MergedParams merge_params(const json& schema, const ParamSchema& compiled, const CallInput& input) {
  MergedParams out;
  std::map<std::string, std::string> source;  // name -> "path" | "query" | "body"
  auto claim = [&](const std::string& name, const std::string& where) {
    const auto it = source.find(name);
    if (it == source.end()) {
      source[name] = where;
      return true;
    }
    if (it->second == where) return true;
    out.errors.push_back(
        {name, "is given both in the " + it->second + " and in the " + where + "; send it once"});
    return false;
  };
  for (const auto& [name, text] : input.path) {
    claim(name, "path");
    out.values[name] = coerce(text, property_schema(schema, name));
  }
  std::map<std::string, std::vector<std::string>> query;
  std::vector<std::string> query_order;
  for (const auto& [name, text] : input.query) {
    if (!query.count(name)) query_order.push_back(name);
    query[name].push_back(text);
  }
  for (const auto& name : query_order) {
    if (!claim(name, "query")) continue;
    const auto& texts = query[name];
    const auto& property = property_schema(schema, name);
    if (has(types_of(property), "array")) {
      const auto& items =
          property.is_object() && property.contains("items") ? property["items"] : json::object();
      json array = json::array();
      for (const auto& text : texts) array.push_back(coerce(text, items));
      out.values[name] = std::move(array);
    } else if (texts.size() > 1) {
      out.errors.push_back(
          {name, "is given " + std::to_string(texts.size()) + " times in the query; send it once"});
    } else {
      out.values[name] = coerce(texts.front(), property);
    }
  }
  if (!input.body.is_null()) {
    if (!input.body.is_object()) {
      out.errors.push_back({"", "the request body must be a JSON object of parameters"});
    } else {
      for (const auto& [name, value] : input.body.items()) {
        if (claim(name, "body")) out.values[name] = value;
      }
    }
  }
  if (!out.errors.empty()) return out;
  for (auto error : compiled.check(out.values)) {
    // A string that should have been a number names what was expected.
    if (error.message == "has the wrong type" && out.values.contains(error.field) &&
        out.values[error.field].is_string()) {
      if (const auto want = expected(property_schema(schema, error.field)); !want.empty()) {
        auto got = out.values[error.field].get<std::string>();
        if (got.size() > 40) got = got.substr(0, 40) + "...";
        error.message = "expected " + want + ", got '" + got + "'";
      }
    }
    out.errors.push_back(std::move(error));
  }
  return out;
}

json bind_values(const std::vector<std::string>& placeholders, const json& values) {
  json bound = json::object();
  for (const auto& name : placeholders) {
    const auto it = values.find(name);
    bound[name] = it == values.end() ? json(nullptr) : *it;
  }
  return bound;
}

}  // namespace plexus::api_manager
