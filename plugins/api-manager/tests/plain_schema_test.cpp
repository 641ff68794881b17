// The quick yes for plain parameter schemas (plain_schema.hpp) against valijson itself: over
// many generated parameter objects it never says yes where valijson says no, it says yes for
// the ordinary valid calls, and schemas with anything else are left to valijson whole.
#include "plain_schema.hpp"

#include <random>

#include <catch2/catch.hpp>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validator.hpp>

#include "params.hpp"

using nlohmann::json;
using plexus::api_manager::ParamSchema;
using plexus::api_manager::PlainSchema;

namespace {

bool valijson_accepts(const json& schema, const json& value) {
  valijson::Schema compiled;
  valijson::SchemaParser parser;
  const valijson::adapters::NlohmannJsonAdapter schema_adapter(schema);
  parser.populateSchema(schema_adapter, compiled);
  valijson::Validator validator;
  const valijson::adapters::NlohmannJsonAdapter target(value);
  return validator.validate(compiled, target, nullptr);
}

const std::vector<json>& scalars() {
  static const std::vector<json> values = {
      0,    -1,   42,    std::numeric_limits<std::int64_t>::max(), std::numeric_limits<std::uint64_t>::max(),
      1.5,  2.0,  -0.0,  "x",  "",  "42",  "true", true,           false,
      nullptr, json::array(), json::array({1}), json::object(), json{{"a", 1}}};
  return values;
}

const std::vector<json>& plain_schemas() {
  static const std::vector<json> schemas = {
      json::parse(R"({"type":"object","properties":{"id":{"type":"integer"}},"required":["id"]})"),
      json::parse(R"({"type":"object","required":["id","name"],"additionalProperties":false,
        "properties":{"id":{"type":"integer"},"name":{"type":"string","description":"who"},
        "flag":{"type":"boolean"},"score":{"type":["number","null"]},"any":{}}})"),
      json::parse(R"({"properties":{"score":{"type":"number"},"name":{"type":["string","integer"]}}})"),
      json::parse(R"({"type":"object","additionalProperties":true,"title":"t","examples":[{}],
        "properties":{"id":{"type":"null","default":null,"title":"nothing"}}})"),
      json::parse(R"({"type":"object"})"),
  };
  return schemas;
}

}  // namespace

TEST_CASE("the quick yes never accepts what valijson refuses, and accepts ordinary valid calls") {
  std::mt19937 random(20261128);
  const std::vector<std::string> names = {"id", "name", "flag", "score", "any", "extra"};
  for (const auto& schema : plain_schemas()) {
    INFO(schema.dump());
    const auto plain = PlainSchema::of(schema);
    REQUIRE(plain);
    int agreed_yes = 0, valid = 0;
    for (int round = 0; round < 3000; ++round) {
      json value = json::object();
      for (const auto& name : names) {
        if (random() % 3 == 0) continue;
        value[name] = scalars()[random() % scalars().size()];
      }
      if (round % 500 == 0) value = scalars()[round / 500 % scalars().size()];  // not even an object
      INFO(value.dump());
      const bool truth = valijson_accepts(schema, value);
      const bool quick = plain->accepts(value);
      if (quick) CHECK(truth);
      valid += truth ? 1 : 0;
      agreed_yes += quick && truth ? 1 : 0;
    }
    // Only floats that are whole (2.0 as an integer) are left to valijson among valid values.
    CHECK(agreed_yes >= valid * 9 / 10);
  }
  const auto by_id = PlainSchema::of(plain_schemas()[0]);
  CHECK(by_id->accepts(json{{"id", 4242}}));
  CHECK(by_id->accepts(json{{"id", 4242}, {"other", "kept"}}));
  CHECK_FALSE(by_id->accepts(json{{"id", "4242"}}));
  CHECK_FALSE(by_id->accepts(json::object()));
}

TEST_CASE("schemas with anything but plain typed properties are left to valijson whole") {
  for (const char* text : {
           R"({"type":"object","properties":{"id":{"type":"integer","minimum":1}}})",
           R"({"type":"object","properties":{"name":{"type":"string","maxLength":3}}})",
           R"({"type":"object","properties":{"tags":{"type":"array","items":{"type":"string"}}}})",
           R"({"type":"object","properties":{"filter":{"type":"object"}}})",
           R"({"type":"object","additionalProperties":{"type":"string"}})",
           R"({"type":"object","properties":{"id":{"$ref":"#/definitions/x"}},"definitions":{"x":{"type":"integer"}}})",
           R"({"type":["object","null"]})",
           R"({"type":"object","properties":{"id":true}})",
           R"({"type":"object","properties":{"id":{"type":[]}}})",
           R"({"type":"object","properties":{"id":{"enum":[1,2]}}})",
           R"({"type":"object","anyOf":[{"required":["a"]},{"required":["b"]}]})",
           R"({"$schema":"http://json-schema.org/draft-07/schema#","type":"object"})",
           R"(true)",
       }) {
    INFO(text);
    CHECK_FALSE(PlainSchema::of(json::parse(text)));
  }
}

TEST_CASE("ParamSchema answers as valijson does, quick yes or not, and words errors as before") {
  const auto schema = plain_schemas()[1];
  const ParamSchema compiled(schema);
  CHECK(compiled.check(json{{"id", 1}, {"name", "a"}, {"score", nullptr}}).empty());
  const auto errors = compiled.check(json{{"id", "one"}, {"extra", 1}});
  REQUIRE(errors.size() == 3);
  std::set<std::string> fields;
  for (const auto& error : errors) fields.insert(error.field + ": " + error.message);
  CHECK(fields == std::set<std::string>{"id: has the wrong type", "name: is required",
                                        "extra: is not a parameter of this API"});
  // A whole float is an integer to valijson: the quick check leaves it to valijson, which accepts it.
  CHECK(valijson_accepts(schema, json{{"id", 2.0}, {"name", "a"}}) ==
        compiled.check(json{{"id", 2.0}, {"name", "a"}}).empty());
}
