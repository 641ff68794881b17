# The execution log's and the OpenAPI document's tests (issue 7 items 3 and 8); included
# from this directory's CMakeLists.txt: include(exec_log_openapi.cmake).
#
# api_manager_exec_log_test: the log's SQL on a real SQLite file and PostgreSQL schema
# through store_host, a host table whose database calls are the kernel's store functions.
plexus_add_test(api_manager_exec_log_test SOURCES exec_log_test.cpp store_host.cpp
                LIBS plexus_api_manager_logic plexus_store LABELS unit)
target_include_directories(api_manager_exec_log_test PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
# api_manager_openapi_test: the document through three npm validators (tests/js).
plexus_add_test(api_manager_openapi_test SOURCES openapi_test.cpp LIBS plexus_api_manager_logic LABELS unit)
