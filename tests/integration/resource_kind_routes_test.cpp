// A plugin kind's route_prefix (ABI 1.5) through a running plexusd with the probe
// plugin: the store's routes of the kind served a second time under the plugin's
// prefix, answering as /api/v1/resources/<kind> does (bodies, errors, ETags, history,
// stages and approval), with the same permissions and audit, listed in the OpenAPI
// document, refused outside the manifest's route prefix or where the plugin's own
// routes would hide them, and gone with the plugin.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/plexusd_process.hpp"

using nlohmann::json;
using plexus::test::bearer;
using plexus::test::Plexusd;

namespace {

const std::string kMount = "/api/v1/probe-a/notebook";
const std::string kKernel = "/api/v1/resources/probe-a-note";

std::string probe_manifest(const std::string& kind_routes) {
  const auto library = plexus::test::binary_dir() / "lib" / "plexus" / "test" / "libplexus_test_probe_a.so";
  return "name: probe-a\nlibrary: " + library.string() +
         "\nenabled: true\npermissions:\n  routes: /api/v1/probe-a\nconfig:\n  resources: \"yes\"\n"
         "  kind_routes: \"" +
         kind_routes + "\"\n";
}

struct Answer {
  int status = 0;
  json body;
  std::string etag;
};

Answer answer_of(const httplib::Result& result) {
  REQUIRE(result);
  return {result->status, json::parse(result->body, nullptr, false), result->get_header_value("ETag")};
}

httplib::Headers with(const std::string& token, const std::string& if_match = "") {
  auto headers = token.empty() ? httplib::Headers{} : bearer(token);
  if (!if_match.empty()) headers.emplace("If-Match", if_match);
  return headers;
}

Answer send(httplib::Client& client, const std::string& method, const std::string& path, const std::string& token,
            const json& body = nullptr, const std::string& if_match = "") {
  const auto headers = with(token, if_match);
  const auto text = body.is_null() ? std::string() : body.dump();
  if (method == "GET") return answer_of(client.Get(path, headers));
  if (method == "DELETE") return answer_of(client.Delete(path, headers));
  if (method == "PUT") return answer_of(client.Put(path, headers, text, "application/json"));
  return answer_of(client.Post(path, headers, text.empty() ? "{}" : text, "application/json"));
}

// The plugin's entry in GET /api/v1/admin/plugins.
json plugin_status(httplib::Client& client, const std::string& admin) {
  const auto listed = answer_of(client.Get("/api/v1/admin/plugins", bearer(admin)));
  REQUIRE(listed.status == 200);
  for (const auto& item : listed.body["items"]) {
    if (item["name"] == "probe-a") return item;
  }
  FAIL("probe-a is not listed");
  return nullptr;
}

void make_user(httplib::Client& client, const std::string& admin, const std::string& name,
               const std::string& password, const std::string& role) {
  const auto made = send(client, "POST", "/api/v1/admin/users", admin,
                         {{"username", name}, {"password", password}, {"roles", {role}}});
  INFO(made.body.dump());
  REQUIRE(made.status == 201);
}

}  // namespace

TEST_CASE("a kind's route prefix serves the store's routes of that kind, with its permissions",
          "[resources][plugins]") {
  plexus::test::TempDir dir;
  dir.write("manifests/probe-a.yaml", probe_manifest(kMount));
  Plexusd plexus({{"PLEXUS_PLUGINS__WATCH", "false"}}, {"--manifests", (dir.path() / "manifests").string()});
  const auto admin = plexus.admin_token();
  auto client = plexus.client();

  // Create with a reason: 201, ETag, and a Location in the mounted home.
  auto created = client.Post(kMount, bearer(admin), json{{"id", "n1"}, {"content", {{"title", "one"}}}, {"reason", "first"}}.dump(),
                             "application/json");
  REQUIRE(created);
  INFO(created->body);
  REQUIRE(created->status == 201);
  CHECK(created->get_header_value("ETag") == "\"1\"");
  CHECK(created->get_header_value("Location") == kMount + "/n1");
  CHECK(json::parse(created->body)["kind"] == "probe-a-note");

  // The same answers as the kernel's home of the kind.
  for (const std::string suffix : {"", "/n1", "/n1/revisions", "/n1/revisions/1", "/n1/referrers", "/nope"}) {
    INFO(suffix);
    const auto mounted = send(client, "GET", kMount + suffix, admin);
    const auto kernel = send(client, "GET", kKernel + suffix, admin);
    CHECK(mounted.status == kernel.status);
    CHECK(mounted.etag == kernel.etag);
    auto a = mounted.body, b = kernel.body;
    if (a.contains("error")) a["error"].erase("request_id"), b["error"].erase("request_id");
    CHECK(a == b);
  }
  CHECK(send(client, "GET", kMount + "/nope", admin).status == 404);

  // The kind's hooks and the store's checks, with the same errors.
  const auto invalid = send(client, "POST", kMount, admin, {{"id", "n2"}, {"content", {{"title", "forbidden"}}}});
  CHECK(invalid.status == 400);
  CHECK(invalid.body["error"]["details"]["problems"][0]["pointer"] == "/title");
  const auto no_match = send(client, "PUT", kMount + "/n1", admin, {{"content", {{"title", "two"}}}});
  CHECK(no_match.status == send(client, "PUT", kKernel + "/n1", admin, {{"content", {{"title", "two"}}}}).status);
  CHECK(no_match.status == 428);
  CHECK(send(client, "PUT", kMount + "/n1", admin, {{"content", {{"title", "two"}}}}, "\"7\"").status == 412);

  // Update, history with reasons, one revision, diff.
  const auto updated =
      send(client, "PUT", kMount + "/n1", admin, {{"content", {{"title", "two"}}}, {"reason", "second"}}, "\"1\"");
  REQUIRE(updated.status == 200);
  CHECK(updated.etag == "\"2\"");
  const auto revisions = send(client, "GET", kMount + "/n1/revisions", admin);
  REQUIRE(revisions.body["items"].size() == 2);
  CHECK(revisions.body["items"][0]["reason"] == "second");
  CHECK(revisions.body["items"][1]["reason"] == "first");
  CHECK(send(client, "GET", kMount + "/n1/revisions/1", admin).body["content"]["title"] == "one");
  const auto diff = send(client, "GET", kMount + "/n1/diff?from=1", admin);
  REQUIRE(diff.status == 200);
  CHECK(diff.body["to"] == 2);
  CHECK(diff.body["patch"] == json::parse(R"([{"op":"replace","path":"/title","value":"two"}])"));

  // Stages: this kind requires approval by a second person.
  CHECK(send(client, "POST", kMount + "/n1/promote", admin, {{"stage", "staging"}}).status == 200);
  CHECK(send(client, "POST", kMount + "/n1/promote", admin, {{"stage", "production"}, {"reason", "go"}}).status ==
        202);
  CHECK(send(client, "POST", kMount + "/n1/approve", admin, json::object()).body["error"]["code"] == "same_person");
  const std::string password = "Notebook-Approver-Pass-47!";
  plexus::test::record_secret(password);
  CHECK(send(client, "POST", "/api/v1/admin/roles", admin,
             {{"name", "note-approver"}, {"description", "approves notes"},
              {"grants", {"probe-a-note.read", "probe-a-note.approve"}}})
            .status == 201);
  CHECK(send(client, "POST", "/api/v1/admin/roles", admin,
             {{"name", "stranger"}, {"description", "nothing here"}, {"grants", {"other.read"}}})
            .status == 201);
  make_user(client, admin, "nora", password, "note-approver");
  make_user(client, admin, "vic", password, "viewer");
  make_user(client, admin, "sam", password, "stranger");
  const auto approver = plexus.login("nora", password);
  const auto viewer = plexus.login("vic", password);
  const auto stranger = plexus.login("sam", password);
  const auto approved = send(client, "POST", kMount + "/n1/approve", approver, {{"reason", "looks right"}});
  INFO(approved.body.dump());
  REQUIRE(approved.status == 200);
  CHECK(approved.body["stages"]["production"] == 2);

  // Rollback, then undo of that last change.
  const auto rolled = send(client, "POST", kMount + "/n1/rollback", admin, {{"to_revision", 1}}, "\"2\"");
  REQUIRE(rolled.status == 200);
  CHECK(rolled.body["revision"] == 3);
  CHECK(rolled.body["content"]["title"] == "one");
  const auto undone = send(client, "POST", kMount + "/n1/undo", admin, json::object());
  REQUIRE(undone.status == 200);
  CHECK(undone.body["revision"] == 4);
  CHECK(undone.body["content"]["title"] == "two");

  // Delete, undo of the delete, restore of a live one refused as the kernel's route refuses it.
  CHECK(send(client, "DELETE", kMount + "/n1", admin, nullptr, "\"4\"").status == 200);
  CHECK(send(client, "GET", kMount + "/n1", admin).status == 404);
  CHECK(send(client, "POST", kMount + "/n1/undo", admin, json::object()).status == 200);
  CHECK(send(client, "GET", kMount + "/n1", admin).status == 200);
  CHECK(send(client, "POST", kMount + "/n1/restore", admin, json::object()).status ==
        send(client, "POST", kKernel + "/n1/restore", admin, json::object()).status);

  // Permissions: 401 without credentials, 403 naming the kind's permission.
  CHECK(send(client, "GET", kMount, "").status == 401);
  CHECK(send(client, "POST", kMount + "/n1/undo", "", json::object()).status == 401);
  const auto unread = send(client, "GET", kMount + "/n1", stranger);
  CHECK(unread.status == 403);
  CHECK(unread.body["error"]["details"]["permission"] == "probe-a-note.read");
  CHECK(send(client, "GET", kMount + "/n1/revisions", viewer).status == 200);
  const auto unwritten = send(client, "POST", kMount + "/n1/undo", viewer, json::object());
  CHECK(unwritten.status == 403);
  CHECK(unwritten.body["error"]["details"]["permission"] == "probe-a-note.write");
  CHECK(send(client, "POST", kMount, viewer, {{"id", "n9"}, {"content", {{"title", "x"}}}}).status == 403);
  CHECK(send(client, "POST", kMount + "/n1/approve", viewer, json::object()).status == 403);

  // The same audit as the kernel's routes: resource.<action> on the resource.
  const auto audit = send(client, "GET", "/api/v1/admin/audit?action=resource.approve&limit=10", admin);
  REQUIRE(audit.status == 200);
  REQUIRE(audit.body["items"].size() == 1);
  CHECK(audit.body["items"][0]["actor"] == "user:nora");
  CHECK(audit.body["items"][0]["target"] == "probe-a-note/n1");

  // Listed in the OpenAPI document with the kernel route's summary, the path parameters
  // and the kind's permission; and in the plugin's routes.
  const auto document = send(client, "GET", "/api/v1/openapi.json", "");
  REQUIRE(document.status == 200);
  const auto& paths = document.body["paths"];
  REQUIRE(paths.contains(kMount + "/{id}/revisions/{rev}"));
  const auto& revision = paths[kMount + "/{id}/revisions/{rev}"]["get"];
  CHECK(revision["summary"] == paths["/api/v1/resources/{kind}/{id}/revisions/{rev}"]["get"]["summary"]);
  CHECK(revision["x-permission"] == "probe-a-note.read");
  CHECK(revision["tags"] == json{"probe-a"});
  REQUIRE(revision["parameters"].size() == 2);
  CHECK(revision["parameters"][0]["name"] == "id");
  CHECK(revision["parameters"][1]["name"] == "rev");
  for (const auto& [path, method] : std::vector<std::pair<std::string, std::string>>{
           {"", "get"}, {"", "post"}, {"/{id}", "put"}, {"/{id}", "delete"}, {"/{id}/diff", "get"},
           {"/{id}/rollback", "post"}, {"/{id}/undo", "post"}, {"/{id}/restore", "post"},
           {"/{id}/referrers", "get"}, {"/{id}/promote", "post"}, {"/{id}/approve", "post"}}) {
    INFO(method << " " << path);
    CHECK(paths[kMount + path].contains(method));
  }
  CHECK(paths[kMount + "/{id}/approve"]["post"]["x-permission"] == "probe-a-note.approve");
  const auto routes = plugin_status(client, admin)["routes"];
  CHECK(std::find(routes.begin(), routes.end(), "GET " + kMount + "/{id}/revisions") != routes.end());

  // Gone with the plugin, back with it.
  CHECK(send(client, "POST", "/api/v1/admin/plugins/probe-a/disable", admin, json::object()).status == 200);
  CHECK(send(client, "GET", kMount + "/n1", admin).status == 404);
  CHECK(send(client, "GET", kKernel + "/n1", admin).status == 404);
  CHECK_FALSE(send(client, "GET", "/api/v1/openapi.json", "").body["paths"].contains(kMount + "/{id}"));
  CHECK(send(client, "POST", "/api/v1/admin/plugins/probe-a/enable", admin, json::object()).status == 200);
  CHECK(send(client, "GET", kMount + "/n1", admin).body["revision"] == 4);
  CHECK(send(client, "POST", "/api/v1/admin/plugins/probe-a/reload", admin, json::object()).status == 200);
  CHECK(send(client, "GET", kMount + "/n1", admin).body["revision"] == 4);
  CHECK(plexus.stop() == 0);
}

TEST_CASE("a kind's route prefix outside the plugin's prefix, malformed, or hidden is refused",
          "[resources][plugins][security]") {
  plexus::test::TempDir dir;
  dir.write("manifests/probe-a.yaml", probe_manifest("/api/v1/elsewhere/notes"));
  Plexusd plexus({{"PLEXUS_PLUGINS__WATCH", "false"}}, {"--manifests", (dir.path() / "manifests").string()});
  const auto admin = plexus.admin_token();
  auto client = plexus.client();

  // Outside permissions.routes: the plugin does not start, and nothing is served.
  auto status = plugin_status(client, admin);
  CHECK(status["state"] == "failed");
  CHECK_THAT(status["last_error"].get<std::string>(),
             Catch::Contains("route_prefix '/api/v1/elsewhere/notes' is outside the plugin's route prefix "
                             "/api/v1/probe-a"));
  CHECK(send(client, "GET", "/api/v1/elsewhere/notes", admin).status == 404);
  CHECK(send(client, "GET", kKernel, admin).status == 404);

  // A parameter in it: refused as malformed.
  dir.write("manifests/probe-a.yaml", probe_manifest("/api/v1/probe-a/{kind}"));
  CHECK(send(client, "POST", "/api/v1/admin/plugins/probe-a/enable", admin, json::object()).status == 409);
  CHECK_THAT(plugin_status(client, admin)["last_error"].get<std::string>(), Catch::Contains("must be a literal path"));

  // Where the plugin's own GET /api/v1/probe-a/notes (and notes/{id}) would answer first.
  dir.write("manifests/probe-a.yaml", probe_manifest("/api/v1/probe-a/notes"));
  CHECK(send(client, "POST", "/api/v1/admin/plugins/probe-a/enable", admin, json::object()).status == 409);
  CHECK_THAT(plugin_status(client, admin)["last_error"].get<std::string>(),
             Catch::Contains("would serve GET /api/v1/probe-a/notes, which the plugin's route GET "
                             "/api/v1/probe-a/notes answers first"));
  CHECK(send(client, "GET", kKernel, admin).status == 404);

  // A good one loads.
  dir.write("manifests/probe-a.yaml", probe_manifest(kMount));
  CHECK(send(client, "POST", "/api/v1/admin/plugins/probe-a/enable", admin, json::object()).status == 200);
  CHECK(send(client, "GET", kMount, admin).status == 200);
  CHECK(plexus.stop() == 0);
}
