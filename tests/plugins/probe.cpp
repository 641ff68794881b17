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
  // Version 2 has one statement list per database: the table records which one ran it.
  const auto dialect_statements = [&table](const std::string& backend) {
    return R"json(["CREATE TABLE )json" + table + R"json(_dialect (name TEXT NOT NULL)", "INSERT INTO )json" +
           table + R"json(_dialect (name) VALUES (')json" + backend + R"json(')"])json";
  };
  h.db_migrate(R"json([{"version":1,"description":"hits","statements":["CREATE TABLE )json" + table +
               R"json( (who TEXT NOT NULL)"]}, {"version":2,"description":"dialect","sqlite":)json" +
               dialect_statements("sqlite") + R"json(,"postgresql":)json" + dialect_statements("postgresql") +
               "}]");
  h.route("GET", prefix + "/dialect", plexus::sdk::kPublic,
          [&h, table](const plexus::sdk::Request&, plexus::sdk::Response& res) {
            res.json(200, h.db_query("SELECT name FROM " + table + "_dialect"));
          });
  // Migrations as the body gives them, to check how malformed lists are refused.
  h.route("POST", prefix + "/migrate", plexus::sdk::kPublic,
          [&h](const plexus::sdk::Request& req, plexus::sdk::Response& res) {
            try {
              h.db_migrate(std::string(req.body()));
              res.text(200, "migrated");
            } catch (const plexus::sdk::Error& e) {
              res.json(400, "{\"status\":" + std::to_string(e.status()) + ",\"message\":" + json_quote(e.what()) + "}");
            }
          });
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
  // A statement the database refuses, with a value that must not come back in the error.
  h.route("POST", prefix + "/refused", plexus::sdk::kPublic,
          [&h, table](const plexus::sdk::Request& req, plexus::sdk::Response& res) {
            try {
              h.db_exec("INSERT INTO " + table + " (no_such_column) VALUES (:secret)",
                        "{\"secret\":" + json_quote(req.query("secret")) + "}");
              res.text(200, "no error");
            } catch (const plexus::sdk::Error& e) {
              res.json(400, "{\"status\":" + std::to_string(e.status()) + ",\"message\":" + json_quote(e.what()) + "}");
            }
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

// A resource kind of its own with every hook (ABI 1.3), its store routes mounted at
// `mount` when given (ABI 1.5 route_prefix), a route reading it back for the caller's
// tenant, and a route querying a datasource the caller may execute.
void add_resource_routes(plexus::sdk::Host& h, const std::string& prefix, const std::string& mount) {
  const std::string kind = PROBE_NAME "-note";
  plexus::sdk::Host::Kind note{kind,
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
                   }};
  note.route_prefix = mount;
  h.resource_kind(std::move(note));
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

// Tools (ABI 1.4): one that echoes its caller, one behind a permission of its own, one
// in the old form without the caller, one that blocks until told, ones that fail and
// refuse; a service; routes calling a tool for the caller, asking for the cluster
// leader, and making a queued subscription.
void add_tool_routes(plexus::sdk::Host& h, const std::string& prefix, const std::string& release) {
  const std::string name = PROBE_NAME;
  h.tool(name + ".whoami", "Who calls, as the tool sees it",
         R"({"type":"object","properties":{"n":{"type":"integer"}},"additionalProperties":false})",
         plexus::sdk::kAuthenticated, [&h](const plexus::sdk::Caller& caller, std::string_view input) {
           return "{\"tenant\":" + json_quote(caller.tenant()) + ",\"name\":" + json_quote(caller.name()) +
                  ",\"user_id\":" + json_quote(caller.user_id()) + ",\"kind\":" + json_quote(caller.kind()) +
                  ",\"may_read_audit\":" + (h.allowed(caller, "admin.audit.view") ? "true" : "false") +
                  ",\"input\":" + std::string(input) + "}";
         });
  h.service(name + ".echo", [](std::string_view input) { return std::string(input); });
  h.tool(name + ".guarded", "Needs probe.secret.use", "", "probe.secret.use",
         [](const plexus::sdk::Caller&, std::string_view) { return std::string(R"({"secret":42})"); });
  h.tool(name + ".old", "A tool in the ABI 1.0 form", R"({"type":"object"})",
         [](std::string_view input) { return "{\"echo\":" + std::string(input) + "}"; });
  h.tool(name + ".slow", "Blocks until the release file exists", "", plexus::sdk::kAuthenticated,
         [release](const plexus::sdk::Caller&, std::string_view) {
           for (int i = 0; i < 1000 && !std::ifstream(release).good(); ++i) {
             std::this_thread::sleep_for(std::chrono::milliseconds(10));
           }
           return std::string(R"({"released":true})");
         });
  h.tool(name + ".fail", "Throws", "", plexus::sdk::kAuthenticated,
         [](const plexus::sdk::Caller&, std::string_view) -> std::string {
           throw std::runtime_error("internal detail /etc/secret");
         });
  h.tool(name + ".refuse", "Refuses with a message", "", plexus::sdk::kAuthenticated,
         [](const plexus::sdk::Caller&, std::string_view) -> std::string {
           throw plexus::sdk::Error(PLEXUS_ERR_INVALID, "the probe refuses this input");
         });
  // A plugin calling a tool for the user who called it: the user's permissions apply.
  h.route("POST", prefix + "/call-tool/{name}", plexus::sdk::kAuthenticated,
          [&h](const plexus::sdk::Request& req, plexus::sdk::Response& res) {
            try {
              res.json(200, h.call_tool(req.caller(), req.param("name"), req.body()));
            } catch (const plexus::sdk::Error& e) {
              res.json(400, "{\"status\":" + std::to_string(e.status()) + ",\"message\":" + json_quote(e.what()) + "}");
            }
          });
  h.route("GET", prefix + "/leader", plexus::sdk::kAuthenticated,
          [&h](const plexus::sdk::Request&, plexus::sdk::Response& res) {
            res.json(200, "{\"leader\":" + std::string(h.leader() ? "true" : "false") +
                              ",\"status\":" + h.leader_json() + "}");
          });
  // Subscribes with the body as options_json; the answer is the error, if any.
  h.route("POST", prefix + "/subscribe-queued", plexus::sdk::kAuthenticated,
          [&h, name](const plexus::sdk::Request& req, plexus::sdk::Response& res) {
            try {
              const auto id = h.subscribe_queued(name + ".>", req.body(), [](std::string_view, std::string_view) {});
              h.unsubscribe(id);
              res.json(200, R"({"ok":true})");
            } catch (const plexus::sdk::Error& e) {
              res.json(400, "{\"status\":" + std::to_string(e.status()) + ",\"message\":" + json_quote(e.what()) + "}");
            }
          });
}

// Jobs and schedules (ABI 1.4): a handler doubling "n", routes enqueueing and reading
// jobs for the caller's tenant, and schedules of the probe's own.
void add_job_routes(plexus::sdk::Host& h, const std::string& prefix) {
  const std::string name = PROBE_NAME;
  h.job_handler(name + ".double", [](const plexus::sdk::Job& job, std::string_view payload) {
    if (payload.find("\"fail\"") != std::string_view::npos) {
      throw plexus::sdk::Error(PLEXUS_ERR_INVALID, "asked to fail");
    }
    // "hold_first": the first attempt works on until the process dies (the crash test
    // kills plexusd now), at most two minutes; a retry finishes at once.
    const auto info = job.info_json();
    const bool first_attempt = info.find("\"attempts\":1,") != std::string::npos ||
                               info.find("\"attempts\":1}") != std::string::npos;
    if (payload.find("\"hold_first\"") != std::string_view::npos && first_attempt) {
      for (int i = 0; i < 6000 && !job.progress(10, "holding"); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    job.progress(50, "halfway");
    const auto at = payload.find("\"n\":");
    const int n = at == std::string_view::npos ? 0 : std::stoi(std::string(payload.substr(at + 4)));
    return "{\"doubled\":" + std::to_string(2 * n) + ",\"job\":" + job.info_json() + "}";
  });
  auto failure = [](plexus::sdk::Response& res, const plexus::sdk::Error& e) {
    res.json(400, "{\"status\":" + std::to_string(e.status()) + ",\"message\":" + json_quote(e.what()) + "}");
  };
  h.route("POST", prefix + "/jobs/{kind}", plexus::sdk::kAuthenticated,
          [&h, failure](const plexus::sdk::Request& req, plexus::sdk::Response& res) {
            try {
              const auto attempts = req.query("max_attempts");
              const auto id = h.enqueue_job(req.caller().tenant(), req.param("kind"), req.body(),
                                            "{\"max_attempts\":" + std::string(attempts.empty() ? "1" : attempts) + "}");
              res.json(200, "{\"id\":" + std::to_string(id) + "}");
            } catch (const plexus::sdk::Error& e) {
              failure(res, e);
            }
          });
  h.route("GET", prefix + "/job/{id}", plexus::sdk::kAuthenticated,
          [&h, failure](const plexus::sdk::Request& req, plexus::sdk::Response& res) {
            try {
              res.json(200, h.job(req.caller().tenant(), std::stoll(std::string(req.param("id")))));
            } catch (const plexus::sdk::Error& e) {
              failure(res, e);
            }
          });
  h.route("PUT", prefix + "/schedules/{name}", plexus::sdk::kAuthenticated,
          [&h, failure](const plexus::sdk::Request& req, plexus::sdk::Response& res) {
            try {
              res.json(200, h.schedule(req.caller().tenant(), req.param("name"), req.body()));
            } catch (const plexus::sdk::Error& e) {
              failure(res, e);
            }
          });
  h.route("DELETE", prefix + "/schedules/{name}", plexus::sdk::kAuthenticated,
          [&h, failure](const plexus::sdk::Request& req, plexus::sdk::Response& res) {
            try {
              h.remove_schedule(req.caller().tenant(), req.param("name"));
              res.json(200, R"({"removed":true})");
            } catch (const plexus::sdk::Error& e) {
              failure(res, e);
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
    // A route anywhere, e.g. under a second prefix of the manifest's permissions.routes.
    if (const auto extra = config_value(config, "extra_route"); !extra.empty()) {
      h.route("GET", extra, plexus::sdk::kPublic,
              [](const plexus::sdk::Request&, plexus::sdk::Response& res) {
                res.json(200, R"({"plugin":")" PROBE_NAME R"("})");
              });
    }
    // Publishes the body on the topic in the path; the answer is the error, if any.
    if (config_value(config, "publish") == "yes") {
      h.route("POST", prefix + "/publish/{topic}", plexus::sdk::kPublic,
              [&h](const plexus::sdk::Request& req, plexus::sdk::Response& res) {
                try {
                  h.publish(req.param("topic"), req.body());
                  res.json(200, R"({"ok":true})");
                } catch (const plexus::sdk::Error& e) {
                  res.json(400, "{\"status\":" + std::to_string(e.status()) +
                                    ",\"message\":" + json_quote(e.what()) + "}");
                }
              });
    }
    if (config_value(config, "database") == "yes") add_database_routes(h, prefix);
    if (config_value(config, "resources") == "yes") add_resource_routes(h, prefix, config_value(config, "kind_routes"));
    if (config_value(config, "tools") == "yes") add_tool_routes(h, prefix, release);
    if (config_value(config, "jobs") == "yes") add_job_routes(h, prefix);
    const auto timer_file = config_value(config, "timer_file");
    if (!timer_file.empty()) {
      h.timer(20, true, [timer_file] { std::ofstream(timer_file, std::ios::app) << "tick\n"; });
    }
  }
};

}  // namespace

PLEXUS_PLUGIN(
    Probe, PROBE_NAME, PROBE_VERSION,
    R"({"type":"object","properties":{"release_file":{"type":"string"},"timer_file":{"type":"string"},
                  "bad_route":{"type":"string"},"database":{"type":"string"},"resources":{"type":"string"},
                  "tools":{"type":"string"},"jobs":{"type":"string"},"extra_route":{"type":"string"},"publish":{"type":"string"},
                  "kind_routes":{"type":"string"}},
                  "additionalProperties":false})")
