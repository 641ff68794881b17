// The ABI only grows: every member recorded in abi_layout.txt must keep its offset
// and size. A reordered, removed or resized member fails here; a member appended at
// the end shows up as a new line to add to the dump (and a minor version bump).
#include <catch2/catch.hpp>
#include <cstddef>
#include <set>
#include <sstream>
#include <string>

#include "plexus/abi.h"
#include "tests/support/test_support.hpp"

namespace {

#define MEMBER(type, member) \
  lines.insert(std::string(#type "." #member " ") + std::to_string(offsetof(type, member)) + " " + \
               std::to_string(sizeof(((type*)nullptr)->member)))

std::set<std::string> current_layout() {
  std::set<std::string> lines;
  MEMBER(plexus_str, ptr);
  MEMBER(plexus_str, len);
  MEMBER(plexus_pair, name);
  MEMBER(plexus_pair, value);
  MEMBER(plexus_http_request, struct_size);
  MEMBER(plexus_http_request, method);
  MEMBER(plexus_http_request, path);
  MEMBER(plexus_http_request, target);
  MEMBER(plexus_http_request, body);
  MEMBER(plexus_http_request, request_id);
  MEMBER(plexus_http_request, remote_address);
  MEMBER(plexus_http_request, headers);
  MEMBER(plexus_http_request, header_count);
  MEMBER(plexus_http_request, path_params);
  MEMBER(plexus_http_request, path_param_count);
  MEMBER(plexus_http_request, query);
  MEMBER(plexus_http_request, query_count);
  MEMBER(plexus_http_request, caller);
  MEMBER(plexus_caller, struct_size);
  MEMBER(plexus_caller, tenant);
  MEMBER(plexus_caller, user_id);
  MEMBER(plexus_caller, name);
  MEMBER(plexus_caller, kind);
  MEMBER(plexus_caller, roles);
  MEMBER(plexus_caller, role_count);
  MEMBER(plexus_caller, request_id);
  MEMBER(plexus_caller, ip);
  MEMBER(plexus_caller, host_ref);
  MEMBER(plexus_route, struct_size);
  MEMBER(plexus_route, method);
  MEMBER(plexus_route, pattern);
  MEMBER(plexus_route, handler);
  MEMBER(plexus_route, user_data);
  MEMBER(plexus_route, flags);
  MEMBER(plexus_route, permission);
  MEMBER(plexus_route, summary);
  MEMBER(plexus_tool, struct_size);
  MEMBER(plexus_tool, name);
  MEMBER(plexus_tool, description);
  MEMBER(plexus_tool, input_schema_json);
  MEMBER(plexus_tool, handler);
  MEMBER(plexus_tool, user_data);
  MEMBER(plexus_tool, permission);
  MEMBER(plexus_tool, call);
  MEMBER(plexus_host_api, struct_size);
  MEMBER(plexus_host_api, abi_major);
  MEMBER(plexus_host_api, abi_minor);
  MEMBER(plexus_host_api, last_error);
  MEMBER(plexus_host_api, log);
  MEMBER(plexus_host_api, config_get);
  MEMBER(plexus_host_api, plugin_info);
  MEMBER(plexus_host_api, plugin_generation);
  MEMBER(plexus_host_api, metric_register);
  MEMBER(plexus_host_api, metric_add);
  MEMBER(plexus_host_api, metric_set);
  MEMBER(plexus_host_api, route_add);
  MEMBER(plexus_host_api, response_set_status);
  MEMBER(plexus_host_api, response_set_header);
  MEMBER(plexus_host_api, response_set_body);
  MEMBER(plexus_host_api, response_stream);
  MEMBER(plexus_host_api, stream_send);
  MEMBER(plexus_host_api, stream_close);
  MEMBER(plexus_host_api, stream_on_close);
  MEMBER(plexus_host_api, stream_release);
  MEMBER(plexus_host_api, timer_start);
  MEMBER(plexus_host_api, timer_cancel);
  MEMBER(plexus_host_api, service_register);
  MEMBER(plexus_host_api, service_call);
  MEMBER(plexus_host_api, tool_register);
  MEMBER(plexus_host_api, event_publish);
  MEMBER(plexus_host_api, event_subscribe);
  MEMBER(plexus_host_api, event_unsubscribe);
  MEMBER(plexus_host_api, authz_check);
  MEMBER(plexus_host_api, audit);
  MEMBER(plexus_host_api, db_migrate);
  MEMBER(plexus_host_api, db_query);
  MEMBER(plexus_host_api, db_exec);
  MEMBER(plexus_host_api, resource_kind_register);
  MEMBER(plexus_host_api, resource_get);
  MEMBER(plexus_host_api, resource_list);
  MEMBER(plexus_host_api, driver_register);
  MEMBER(plexus_host_api, datasource_query);
  MEMBER(plexus_host_api, datasource_execute);
  MEMBER(plexus_host_api, datasource_schema);
  MEMBER(plexus_host_api, tool_call);
  MEMBER(plexus_host_api, cluster_leader);
  MEMBER(plexus_host_api, event_publish_keyed);
  MEMBER(plexus_host_api, event_subscribe_queued);
  MEMBER(plexus_host_api, job_handler_register);
  MEMBER(plexus_host_api, job_progress);
  MEMBER(plexus_host_api, job_info);
  MEMBER(plexus_host_api, job_enqueue);
  MEMBER(plexus_host_api, job_get);
  MEMBER(plexus_host_api, job_cancel);
  MEMBER(plexus_host_api, schedule_put);
  MEMBER(plexus_host_api, schedule_remove);
  MEMBER(plexus_host_api, schedule_pause);
  MEMBER(plexus_host_api, schedule_resume);
  MEMBER(plexus_host_api, db_exec_batch);
  MEMBER(plexus_resource_kind, struct_size);
  MEMBER(plexus_resource_kind, name);
  MEMBER(plexus_resource_kind, json_schema);
  MEMBER(plexus_resource_kind, permission_prefix);
  MEMBER(plexus_resource_kind, flags);
  MEMBER(plexus_resource_kind, validate);
  MEMBER(plexus_resource_kind, references);
  MEMBER(plexus_resource_kind, pre_promotion);
  MEMBER(plexus_resource_kind, user_data);
  MEMBER(plexus_resource_kind, check_save);
  MEMBER(plexus_resource_kind, route_prefix);
  MEMBER(plexus_driver_query, struct_size);
  MEMBER(plexus_driver_query, sql);
  MEMBER(plexus_driver_query, params_json);
  MEMBER(plexus_driver_query, max_rows);
  MEMBER(plexus_driver_query, timeout_ms);
  MEMBER(plexus_driver, struct_size);
  MEMBER(plexus_driver, name);
  MEMBER(plexus_driver, options_schema);
  MEMBER(plexus_driver, secret_fields);
  MEMBER(plexus_driver, secret_field_count);
  MEMBER(plexus_driver, user_data);
  MEMBER(plexus_driver, open);
  MEMBER(plexus_driver, close);
  MEMBER(plexus_driver, query);
  MEMBER(plexus_driver, execute);
  MEMBER(plexus_driver, schema);
  MEMBER(plexus_driver, ping);
  MEMBER(plexus_plugin_descriptor, struct_size);
  MEMBER(plexus_plugin_descriptor, abi_major);
  MEMBER(plexus_plugin_descriptor, abi_minor);
  MEMBER(plexus_plugin_descriptor, flags);
  MEMBER(plexus_plugin_descriptor, name);
  MEMBER(plexus_plugin_descriptor, version);
  MEMBER(plexus_plugin_descriptor, metadata_json);
  MEMBER(plexus_plugin_descriptor, create);
  MEMBER(plexus_plugin_descriptor, start);
  MEMBER(plexus_plugin_descriptor, stop);
  MEMBER(plexus_plugin_descriptor, destroy);
  return lines;
}

}  // namespace

TEST_CASE("every recorded ABI member keeps its offset and size", "[abi]") {
  const auto dump = plexus::test::source_dir() / "tests" / "unit" / "abi_layout.txt";
  std::istringstream stored(plexus::test::read_file(dump));
  const auto current = current_layout();
  std::size_t checked = 0;
  for (std::string line; std::getline(stored, line);) {
    if (line.empty() || line.front() == '#') continue;
    INFO("recorded: " << line);
    REQUIRE(current.count(line) == 1);
    ++checked;
  }
  // Every current member is recorded, so the next change is checked against it.
  REQUIRE(checked == current.size());
}

TEST_CASE("the ABI version in the header matches the recorded one", "[abi]") {
  REQUIRE(PLEXUS_ABI_MAJOR == 1);
  REQUIRE(PLEXUS_ABI_MINOR == 5);
}
