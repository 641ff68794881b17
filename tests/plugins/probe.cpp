// A test plugin built with the SDK, several times under different names: it
// reports its generation, throws on request, blocks until told, and runs a timer.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>

#include "plexus/plugin.hpp"

// The same global symbol in every copy: RTLD_LOCAL must keep them apart.
int probe_state = 0;

namespace {

std::string config_value(const std::string& json, const std::string& key) {
  const auto at = json.find("\"" + key + "\":\"");
  if (at == std::string::npos) return {};
  const auto start = at + key.size() + 4;
  return json.substr(start, json.find('"', start) - start);
}

// A JSON string token for `text` (the test sends plain and hostile-looking values).
std::string json_quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// Its own table in the kernel database (ABI 1.2), written and read with bound values.
void add_database_routes(plexus::sdk::Host& h, const std::string& prefix) {
  std::string table = PROBE_NAME "_hits";
  for (auto& c : table) c = c == '-' ? '_' : c;
  h.db_migrate(R"json([{"version":1,"description":"hits","statements":["CREATE TABLE )json" + table +
               R"json( (who TEXT NOT NULL)"]}])json");
  h.route("POST", prefix + "/hits", plexus::sdk::kPublic,
          [&h, table](const plexus::sdk::Request& req, plexus::sdk::Response& res) {
            const auto changed = h.db_exec("INSERT INTO " + table + " (who) VALUES (:who)",
                                           "{\"who\":" + json_quote(req.query("who")) + "}");
            res.json(200, "{\"changed\":" + std::to_string(changed) + "}");
          });
  h.route("GET", prefix + "/hits", plexus::sdk::kPublic,
          [&h, table](const plexus::sdk::Request& req, plexus::sdk::Response& res) {
            res.json(200, h.db_query("SELECT COUNT(*) AS n FROM " + table + " WHERE who = :who",
                                     "{\"who\":" + json_quote(req.query("who")) + "}"));
          });
  h.route("GET", prefix + "/bad-sql", plexus::sdk::kPublic,
          [&h](const plexus::sdk::Request&, plexus::sdk::Response& res) {
            try {
              h.db_query("SELECT :missing");
              res.text(200, "no error");
            } catch (const plexus::sdk::Error& e) {
              res.json(400, "{\"status\":" + std::to_string(e.status()) + ",\"message\":" + json_quote(e.what()) + "}");
            }
          });
}

// A resource kind of its own with every hook (ABI 1.3), a route reading it back for
// the caller's tenant, and a route querying a datasource the caller may execute.
void add_resource_routes(plexus::sdk::Host& h, const std::string& prefix) {
  const std::string kind = PROBE_NAME "-note";
  h.resource_kind({kind,
                   R"({"type":"object","required":["title"],"properties":{"title":{"type":"string"}}})",
                   "",
                   true,
                   [](std::string_view content) {
                     return std::string(content.find("forbidden") == std::string_view::npos
                                            ? "[]"
                                            : R"([{"pointer":"/title","message":"must not say forbidden"}])");
                   },
                   [](std::string_view content) {
                     const auto uses = config_value(std::string(content), "datasource");
                     return uses.empty() ? std::string("[]")
                                         : R"([{"kind":"datasource","id":)" + json_quote(uses) + "}]";
                   },
                   [](std::string_view check) {
                     return std::string(check.find("\"block\":true") == std::string_view::npos
                                            ? "[]"
                                            : R"(["the probe's test failed"])");
                   }});
  h.route("GET", prefix + "/notes/{id}", plexus::sdk::kAuthenticated,
          [&h, kind](const plexus::sdk::Request& req, plexus::sdk::Response& res) {
            try {
              res.json(200, h.resource_get(req.caller().tenant(), kind, req.param("id"), req.query("stage")));
            } catch (const plexus::sdk::Error& e) {
              res.json(e.status() == PLEXUS_ERR_NOT_FOUND ? 404 : 500, "{\"message\":" + json_quote(e.what()) + "}");
            }
          });
  h.route("GET", prefix + "/notes", plexus::sdk::kAuthenticated,
          [&h, kind](const plexus::sdk::Request& req, plexus::sdk::Response& res) {
            res.json(200, h.resource_list(req.caller().tenant(), kind, req.query("stage")));
          });
  h.route("POST", prefix + "/datasources/{name}/query", plexus::sdk::kAuthenticated,
          [&h](const plexus::sdk::Request& req, plexus::sdk::Response& res) {
            if (!h.allowed(req.caller(), "datasource.execute", req.param("name"))) {
              res.json(403, R"({"message":"not allowed"})");
              return;
            }
            try {
              res.json(200, h.datasource_query(req.caller().tenant(), req.param("name"), req.body()));
            } catch (const plexus::sdk::Error& e) {
              res.json(400, "{\"status\":" + std::to_string(e.status()) + ",\"message\":" + json_quote(e.what()) + "}");
            }
          });
}

class Probe : public plexus::sdk::Plugin {
 public:
  void start() override {
    const std::string prefix = "/api/v1/" PROBE_NAME;
    const auto config = host().config_json();
    auto& h = host();
    h.route("GET", prefix + "/generation", plexus::sdk::kPublic, [&h](const plexus::sdk::Request&, plexus::sdk::Response& res) {
      res.json(200, "{\"generation\":" + std::to_string(h.generation()) + ",\"version\":\"" PROBE_VERSION "\"}");
    });
    h.route(
        "GET", prefix + "/state", plexus::sdk::kPublic,
        [](const plexus::sdk::Request&, plexus::sdk::Response& res) {
          res.json(200, "{\"state\":" + std::to_string(++probe_state) + "}");
        },
        PLEXUS_ROUTE_NONBLOCKING);
    h.route("GET", prefix + "/throw", plexus::sdk::kPublic, [](const plexus::sdk::Request&, plexus::sdk::Response&) {
      throw std::runtime_error("probe failure");
    });
    h.route("GET", prefix + "/throw-int", plexus::sdk::kPublic, [](const plexus::sdk::Request&, plexus::sdk::Response&) { throw 42; });
    const auto release = config_value(config, "release_file");
    h.route("GET", prefix + "/block", plexus::sdk::kPublic, [release](const plexus::sdk::Request&, plexus::sdk::Response& res) {
      for (int i = 0; i < 1000 && !std::ifstream(release).good(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      res.text(200, "released");
    });
    if (config_value(config, "bad_route") == "yes") {
      h.route("GET", "/api/v1/somebody-else/x", plexus::sdk::kPublic, [](const plexus::sdk::Request&, plexus::sdk::Response&) {});
    }
    if (config_value(config, "database") == "yes") add_database_routes(h, prefix);
    if (config_value(config, "resources") == "yes") add_resource_routes(h, prefix);
    const auto timer_file = config_value(config, "timer_file");
    if (!timer_file.empty()) {
      h.timer(20, true, [timer_file] { std::ofstream(timer_file, std::ios::app) << "tick\n"; });
    }
  }
};

}  // namespace

PLEXUS_PLUGIN(Probe, PROBE_NAME, PROBE_VERSION,
              R"({"type":"object","properties":{"release_file":{"type":"string"},"timer_file":{"type":"string"},
                  "bad_route":{"type":"string"},"database":{"type":"string"},"resources":{"type":"string"}},
                  "additionalProperties":false})")
