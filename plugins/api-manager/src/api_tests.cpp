#include "api_tests.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <regex>
#include <set>
#include <stdexcept>

#include "definition.hpp"
#include "json_path.hpp"
#include "pointer_token.hpp"

namespace plexus::api_manager {
namespace {

using nlohmann::json;

const std::vector<std::string> kChecks{"equals", "exists", "length", "matches", "type"};
const std::vector<std::string> kTypes{"string", "number", "integer", "boolean", "array", "object", "null"};
constexpr std::size_t kMaxCases = 200;

bool contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// A value as shown in a failure message, cut so a large answer does not flood the report.
std::string shown(const json& value) {
  auto text = value.dump();
  if (text.size() > 200) text = text.substr(0, 200) + "...";
  return text;
}

std::string type_name(const json& value) {
  switch (value.type()) {
    case json::value_t::string: return "string";
    case json::value_t::boolean: return "boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "integer";
    case json::value_t::number_float: return "number";
    case json::value_t::array: return "array";
    case json::value_t::object: return "object";
    default: return "null";
  }
}

bool has_type(const json& value, const std::string& type) {
  if (type == "number") return value.is_number();
  if (type == "integer") {
    if (value.is_number_integer()) return true;
    if (!value.is_number_float()) return false;
    const auto number = value.get<double>();
    return std::isfinite(number) && std::floor(number) == number;
  }
  return type_name(value) == type;
}

std::size_t utf8_length(const std::string& text) {
  std::size_t count = 0;
  for (const char c : text) count += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return count;
}

void validate_assertion(const json& assertion, const std::string& at, json& problems) {
  auto problem = [&](const std::string& pointer, const std::string& message) {
    problems.push_back({{"pointer", pointer}, {"message", message}});
  };
  if (!assertion.is_object()) {
    problem(at,
            "must be an object {\"path\": \"$.rows[0].name\", \"equals\": value} (or exists, length, "
            "matches, type)");
    return;
  }
  std::vector<std::string> checks;
  for (const auto& [key, value] : assertion.items()) {
    if (key == "path") continue;
    if (!contains(kChecks, key)) {
      problem(at + "/" + pointer_token(key),
              "is not an assertion field (path, equals, exists, length, matches, type)");
    } else {
      checks.push_back(key);
    }
  }
  const auto path = assertion.find("path");
  if (path == assertion.end()) {
    problem(at + "/path", "is required: a JSONPath such as $.rows[0].name");
  } else if (!path->is_string()) {
    problem(at + "/path", "must be a string: a JSONPath such as $.rows[0].name");
  } else {
    try {
      JsonPath::parse(path->get<std::string>());
    } catch (const std::invalid_argument& e) {
      problem(at + "/path", e.what());
    }
  }
  if (checks.size() != 1) {
    problem(at, checks.empty()
                    ? "needs one check: equals, exists, length, matches or type"
                    : "has " + std::to_string(checks.size()) + " checks; write one assertion per check");
    return;
  }
  const auto& check = checks.front();
  const auto& value = assertion[check];
  const auto pointer = at + "/" + check;
  if (check == "exists" && !value.is_boolean()) problem(pointer, "must be true or false");
  if (check == "length" && (!value.is_number_integer() || value.get<std::int64_t>() < 0)) {
    problem(pointer, "must be a whole number, 0 or more");
  }
  if (check == "type" && (!value.is_string() || !contains(kTypes, value.get<std::string>()))) {
    problem(pointer, "must be one of string, number, integer, boolean, array, object, null");
  }
  if (check == "matches") {
    if (!value.is_string()) {
      problem(pointer, "must be a regular expression (ECMAScript), as a string");
    } else {
      try {
        std::regex(value.get<std::string>(), std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        problem(pointer, std::string("is not a valid regular expression: ") + e.what());
      }
    }
  }
}

void validate_case(const json& test_case, const std::string& at, std::set<std::string>& names,
                   json& problems) {
  auto problem = [&](const std::string& pointer, const std::string& message) {
    problems.push_back({{"pointer", pointer}, {"message", message}});
  };
  if (!test_case.is_object()) {
    problem(at, "must be an object {\"name\", \"params\", \"expect\"}");
    return;
  }
  for (const auto& [key, value] : test_case.items()) {
    if (key != "name" && key != "params" && key != "expect") {
      problem(at + "/" + pointer_token(key), "is not a field of a test case (name, params, expect)");
    }
  }
  const auto name = test_case.find("name");
  if (name == test_case.end() || !name->is_string() || name->get<std::string>().empty()) {
    problem(at + "/name", "is required: a non-empty string naming the case");
  } else if (!names.insert(name->get<std::string>()).second) {
    problem(at + "/name", "'" + name->get<std::string>() + "' names another case of this suite too");
  }
  if (const auto params = test_case.find("params"); params != test_case.end() && !params->is_object()) {
    problem(at + "/params", "must be an object of parameter values, as a JSON body would send them");
  }
  const auto expect = test_case.find("expect");
  if (expect == test_case.end()) return;  // status 200, nothing else
  if (!expect->is_object()) {
    problem(at + "/expect", "must be an object {\"status\", \"max_duration_ms\", \"assertions\"}");
    return;
  }
  for (const auto& [key, value] : expect->items()) {
    const auto pointer = at + "/expect/" + pointer_token(key);
    if (key == "status") {
      if (!value.is_number_integer() || value.get<std::int64_t>() < 100 || value.get<std::int64_t>() > 599) {
        problem(pointer, "must be an HTTP status from 100 to 599");
      }
    } else if (key == "max_duration_ms") {
      if (!value.is_number() || value.get<double>() <= 0 || value.get<double>() > 600000) {
        problem(pointer, "must be a number of milliseconds above 0, at most 600000");
      }
    } else if (key == "assertions") {
      if (!value.is_array()) {
        problem(pointer, "must be an array of assertions");
        continue;
      }
      for (std::size_t i = 0; i < value.size(); ++i) {
        validate_assertion(value[i], pointer + "/" + std::to_string(i), problems);
      }
    } else {
      problem(pointer, "is not an expectation (status, max_duration_ms, assertions)");
    }
  }
}

}  // namespace

json validate_test_content(const json& content) {
  json problems = json::array();
  auto problem = [&](const std::string& pointer, const std::string& message) {
    problems.push_back({{"pointer", pointer}, {"message", message}});
  };
  if (!content.is_object()) {
    problem("", "must be an object: {\"api\", \"description\", \"cases\": [...]}");
    return problems;
  }
  for (const auto& [key, value] : content.items()) {
    if (key != "api" && key != "description" && key != "cases") {
      problem("/" + pointer_token(key), "is not a field of a test suite (api, description, cases)");
    }
  }
  const auto api = content.find("api");
  if (api == content.end() || !api->is_string() || api->get<std::string>().empty()) {
    problem("/api", "is required: the id of the API the suite tests");
  }
  if (const auto it = content.find("description"); it != content.end() && !it->is_string()) {
    problem("/description", "must be a string");
  }
  const auto cases = content.find("cases");
  if (cases == content.end() || !cases->is_array() || cases->empty()) {
    problem("/cases", "is required: an array of at least one case {\"name\", \"params\", \"expect\"}");
    return problems;
  }
  if (cases->size() > kMaxCases) {
    problem("/cases", "has " + std::to_string(cases->size()) + " cases; a suite holds at most " +
                          std::to_string(kMaxCases) + ", split it");
  }
  std::set<std::string> names;
  for (std::size_t i = 0; i < cases->size(); ++i) {
    validate_case((*cases)[i], "/cases/" + std::to_string(i), names, problems);
  }
  return problems;
}

json test_references(const json& content) {
  json out = json::array();
  if (content.is_object() && content.contains("api") && content["api"].is_string() &&
      !content["api"].get<std::string>().empty()) {
    out.push_back({{"kind", "api"}, {"id", content["api"]}});
  }
  return out;
}

std::string check_assertion(const json& assertion, const json& body) {
  const auto path_text = assertion.at("path").get<std::string>();
  const auto found = JsonPath::parse(path_text).select(body);
  const auto prefix = path_text + ": ";
  if (const auto it = assertion.find("exists"); it != assertion.end()) {
    if (it->get<bool>() && found.empty()) return prefix + "nothing at this path";
    if (!it->get<bool>() && !found.empty())
      return prefix + "expected nothing, found " + shown(*found.front());
    return {};
  }
  if (found.empty()) return prefix + "nothing at this path";
  // With several values ([*]), the first that fails is named by its position.
  auto which = [&](std::size_t i) {
    return found.size() > 1 ? " (value " + std::to_string(i + 1) + " of " + std::to_string(found.size()) + ")"
                            : std::string();
  };
  for (std::size_t i = 0; i < found.size(); ++i) {
    const auto& value = *found[i];
    if (const auto it = assertion.find("equals"); it != assertion.end()) {
      if (value != *it) return prefix + "expected " + shown(*it) + ", got " + shown(value) + which(i);
    } else if (const auto it = assertion.find("length"); it != assertion.end()) {
      std::size_t length = 0;
      if (value.is_string()) {
        length = utf8_length(value.get<std::string>());
      } else if (value.is_array() || value.is_object()) {
        length = value.size();
      } else {
        return prefix + "has no length: it is " + type_name(value) + " " + shown(value) + which(i);
      }
      if (length != it->get<std::size_t>()) {
        return prefix + "expected length " + std::to_string(it->get<std::size_t>()) + ", got " +
               std::to_string(length) + which(i);
      }
    } else if (const auto it = assertion.find("matches"); it != assertion.end()) {
      if (!value.is_string()) return prefix + "expected a string to match, got " + shown(value) + which(i);
      try {
        if (!std::regex_search(value.get<std::string>(),
                               std::regex(it->get<std::string>(), std::regex::ECMAScript))) {
          return prefix + shown(value) + " does not match /" + it->get<std::string>() + "/" + which(i);
        }
      } catch (const std::regex_error& e) {
        return prefix + "the regular expression could not be applied: " + e.what();
      }
    } else if (const auto it = assertion.find("type"); it != assertion.end()) {
      if (!has_type(value, it->get<std::string>())) {
        return prefix + "expected type " + it->get<std::string>() + ", got " + type_name(value) + which(i);
      }
    }
  }
  return {};
}

json body_of(const Outcome& outcome, const std::string& request_id) {
  if (outcome.ok()) return json::parse(outcome.text());
  return error_body(outcome.code, outcome.message, outcome.details, request_id);
}

json run_cases(const json& suite, const CaseRunner& run) {
  json cases = json::array();
  bool passed = true;
  const auto& list = suite.at("cases");
  for (std::size_t i = 0; i < list.size(); ++i) {
    const auto& test_case = list[i];
    const auto at = "/cases/" + std::to_string(i);
    const auto expect = test_case.value("expect", json::object());
    const int want_status = expect.value("status", 200);
    json failures = json::array();
    auto fail = [&](const std::string& pointer, const std::string& message) {
      failures.push_back({{"assertion", pointer}, {"message", message}});
    };

    const auto started = std::chrono::steady_clock::now();
    Outcome outcome;
    try {
      outcome = run(test_case.value("params", json::object()));
    } catch (const std::exception& e) {
      outcome = Outcome::failure(500, "internal", "internal", std::string("the run failed: ") + e.what());
    }
    const double duration_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    const auto body = body_of(outcome);

    if (outcome.status != want_status) {
      fail(at + "/expect/status",
           "expected status " + std::to_string(want_status) + ", got " + std::to_string(outcome.status) +
               (outcome.ok() ? std::string() : " (" + outcome.code + ": " + outcome.message + ")"));
    }
    if (const auto max = expect.find("max_duration_ms");
        max != expect.end() && duration_ms > max->get<double>()) {
      char text[64];
      std::snprintf(text, sizeof text, "took %.1f ms, more than the %g ms allowed", duration_ms,
                    max->get<double>());
      fail(at + "/expect/max_duration_ms", text);
    }
    if (const auto assertions = expect.find("assertions"); assertions != expect.end()) {
      for (std::size_t k = 0; k < assertions->size(); ++k) {
        auto why = check_assertion((*assertions)[k], body);
        if (!why.empty()) fail(at + "/expect/assertions/" + std::to_string(k), why);
      }
    }
    json report{{"name", test_case.value("name", std::string())},
                {"passed", failures.empty()},
                {"status", outcome.status},
                {"duration_ms", std::round(duration_ms * 10) / 10},
                {"failures", failures}};
    if (!failures.empty()) {
      passed = false;
      report["body"] = body;
    }
    cases.push_back(std::move(report));
  }
  return {{"passed", passed}, {"cases", std::move(cases)}};
}

std::vector<StoredSuite> suites_of(sdk::Host& host, const std::string& tenant, const std::string& api_id) {
  std::vector<StoredSuite> out;
  const auto list = json::parse(host.resource_list(tenant, kTestKind, ""));
  for (const auto& item : list) {
    const auto& content = item.at("content");
    if (!content.is_object() || content.value("api", std::string()) != api_id) continue;
    out.push_back({item.value("id", std::string()), item.value("revision", std::int64_t{0}), content});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

RouteTable compile_api(const std::string& id, std::int64_t revision, const json& content) {
  std::vector<std::string> skipped;
  RouteTable table(std::vector<ApiDefinition>{parse_definition(id, revision, content)}, &skipped);
  if (table.apis().empty()) {
    throw std::invalid_argument(skipped.empty() ? "API '" + id + "' cannot run" : skipped.front());
  }
  return table;
}

json run_suite(Runtime& runtime, const std::string& tenant, const std::string& stage, const CompiledApi& api,
               const StoredSuite& suite, const plexus_caller* caller, const std::string& request_id) {
  // A suite saved before validation tightened, or edited by hand in a bundle, reports
  // instead of throwing.
  if (const auto problems = validate_test_content(suite.content); !problems.empty()) {
    return {{"suite", suite.id},      {"revision", suite.revision},
            {"api", api.def.id},      {"api_revision", api.def.revision},
            {"stage", stage},         {"passed", false},
            {"cases", json::array()}, {"problems", problems}};
  }
  auto report = run_cases(suite.content, [&](const json& params) {
    return runtime.run(tenant, stage, api, params, caller, nullptr, request_id);
  });
  json out{{"suite", suite.id},
           {"revision", suite.revision},
           {"api", api.def.id},
           {"api_revision", api.def.revision},
           {"stage", stage}};
  out.update(report);
  return out;
}

namespace {

struct Refusal {
  int status;
  std::string code;
  std::string message;
  json details;
};

std::string tenant_of(const sdk::Request& req) {
  return std::string(req.caller().tenant().empty() ? "default" : req.caller().tenant());
}

std::string stage_of(const sdk::Request& req) {
  const std::string stage(req.query("stage"));
  if (stage.empty()) return "staging";
  if (stage != "staging" && stage != "production") {
    throw Refusal{400, "invalid_parameter", "stage must be 'staging' or 'production', got '" + stage + "'",
                  json{{"field", "stage"}}};
  }
  return stage;
}

// {"id", "revision", "content"} of a resource, or a 404 saying what is missing.
json read_or_404(sdk::Host& host, const std::string& tenant, const char* kind, const std::string& id,
                 const std::string& stage, const std::string& missing) {
  try {
    return json::parse(host.resource_get(tenant, kind, id, stage));
  } catch (const sdk::Error& e) {
    if (e.status() == PLEXUS_ERR_NOT_FOUND) throw Refusal{404, "not_found", missing, nullptr};
    throw;
  }
}

json read_api(sdk::Host& host, const std::string& tenant, const std::string& id, const std::string& stage) {
  return read_or_404(
      host, tenant, "api", id, stage,
      "the API '" + id + "' has no " + stage + " revision in this tenant" +
          (stage == "staging" ? ": promote it to staging first, or run with stage=production" : ""));
}

void answer(const sdk::Request& req, sdk::Response& res, const std::function<json()>& work) {
  try {
    res.json(200, work().dump());
  } catch (const Refusal& r) {
    res.json(r.status, error_body(r.code, r.message, r.details, req.request_id()).dump());
  } catch (const std::invalid_argument& e) {
    // The API's stored content does not parse (saved before a check existed).
    res.json(409, error_body("invalid_api", e.what(), nullptr, req.request_id()).dump());
  }
}

}  // namespace

void register_api_tests(sdk::Host& host, Runtime& runtime, const std::string& prefix) {
  host.resource_kind(
      {.name = kTestKind,
       .json_schema = "",  // validate_test_content names each problem once
       .permission_prefix = "api",
       .requires_approval = false,
       .validate =
           [](std::string_view content) { return validate_test_content(json::parse(content)).dump(); },
       .references = [](std::string_view content) { return test_references(json::parse(content)).dump(); },
       .pre_promotion = {},
       .route_prefix = prefix + "/tests"});

  host.route(
      "POST", prefix + "/tests/{id}/run", "api.write:{id}",
      [&host, &runtime](const sdk::Request& req, sdk::Response& res) {
        answer(req, res, [&] {
          const auto tenant = tenant_of(req);
          const std::string id(req.param("id"));
          const auto stage = stage_of(req);
          const auto item = read_or_404(host, tenant, kTestKind, id, "",
                                        "there is no test suite '" + id + "' in this tenant");
          const StoredSuite suite{id, item.value("revision", std::int64_t{0}), item["content"]};
          const auto api_id = suite.content.value("api", std::string());
          // The suite runs the API's SQL like a staging call does: it needs the same grant.
          if (!host.allowed(req.caller(), "api.write", api_id)) {
            throw Refusal{
                403, "forbidden",
                "running the tests of the API '" + api_id + "' needs the permission api.write:" + api_id,
                json{{"permission", "api.write:" + api_id}}};
          }
          const auto api_item = read_api(host, tenant, api_id, stage);
          const auto table =
              compile_api(api_id, api_item.value("revision", std::int64_t{0}), api_item["content"]);
          return run_suite(runtime, tenant, stage, table.apis().front(), suite, req.caller().raw(),
                           std::string(req.request_id()));
        });
      },
      0, "Run a test suite now");

  host.route(
      "POST", prefix + "/apis/{id}/tests/run", "api.write:{id}",
      [&host, &runtime](const sdk::Request& req, sdk::Response& res) {
        answer(req, res, [&] {
          const auto tenant = tenant_of(req);
          const std::string id(req.param("id"));
          const auto stage = stage_of(req);
          const auto api_item = read_api(host, tenant, id, stage);
          const auto table =
              compile_api(id, api_item.value("revision", std::int64_t{0}), api_item["content"]);
          json suites = json::array();
          bool passed = true;
          for (const auto& suite : suites_of(host, tenant, id)) {
            auto report = run_suite(runtime, tenant, stage, table.apis().front(), suite, req.caller().raw(),
                                    std::string(req.request_id()));
            passed = passed && report.value("passed", false);
            suites.push_back(std::move(report));
          }
          return json{{"api", id},
                      {"api_revision", table.apis().front().def.revision},
                      {"stage", stage},
                      {"passed", passed},
                      {"suites", std::move(suites)}};
        });
      },
      0, "Run every test suite of the API now");
}

}  // namespace plexus::api_manager
