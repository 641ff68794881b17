/* A plugin written in C against an older, shorter descriptor: no stop, no destroy.
 * The host must read only the members that struct_size covers. */
#include <string.h>

#include "plexus/abi.h"

__attribute__((section(PLEXUS_METADATA_SECTION), used)) static const char metadata[] =
    "{\"name\":\"old\",\"version\":\"0.9.0\",\"abi_major\":1,\"abi_minor\":0,\"sdk_version\":\"c\",\"compiler\":\"cc\","
    "\"config_schema\":{}}";

static const plexus_host_api* api;
static plexus_host* host;
static int instance_token;

static plexus_status ping(void* user_data, const plexus_http_request* request, plexus_http_response* response) {
  (void)user_data;
  (void)request;
  api->response_set_status(response, 200);
  api->response_set_body(response, (plexus_str){"pong", 4});
  return PLEXUS_OK;
}

static plexus_status create(const plexus_host_api* a, plexus_host* h, void** out) {
  api = a;
  host = h;
  *out = &instance_token;
  return PLEXUS_OK;
}

static plexus_status start(void* instance) {
  (void)instance;
  plexus_route route = {sizeof(plexus_route), {"GET", 3}, {"/api/v1/old/ping", 16}, ping, NULL, 0, {"public", 6}};
  return api->route_add(host, &route);
}

/* Built for ABI 1.0 minus its last two members, as a future shorter layout would be. */
static const plexus_plugin_descriptor descriptor = {
    offsetof(plexus_plugin_descriptor, stop), 1, 0, 0, "old", "0.9.0", metadata, create, start, NULL, NULL};

__attribute__((visibility("default"))) const plexus_plugin_descriptor* plexus_plugin_v1(void) { return &descriptor; }
