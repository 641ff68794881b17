# Every dependency comes from Debian packages (tools/deps installs them).
set(THREADS_PREFER_PTHREAD_FLAG ON)
find_package(Threads REQUIRED)
find_package(Boost 1.74 REQUIRED COMPONENTS filesystem program_options)
find_package(OpenSSL REQUIRED)
find_package(nlohmann_json 3.11 REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(PkgConfig REQUIRED)
find_package(SQLite3 REQUIRED)

# SOCI ships no CMake package on Debian 12.
find_path(SOCI_INCLUDE_DIR soci/soci.h REQUIRED)
find_library(SOCI_CORE_LIBRARY soci_core REQUIRED)
find_library(SOCI_SQLITE3_LIBRARY soci_sqlite3 REQUIRED)
find_library(SOCI_POSTGRESQL_LIBRARY soci_postgresql REQUIRED)
add_library(plexus_soci INTERFACE)
find_package(PostgreSQL REQUIRED)
target_include_directories(plexus_soci SYSTEM INTERFACE ${SOCI_INCLUDE_DIR} ${PostgreSQL_INCLUDE_DIRS})
target_link_libraries(plexus_soci INTERFACE ${SOCI_CORE_LIBRARY} ${SOCI_SQLITE3_LIBRARY}
                      ${SOCI_POSTGRESQL_LIBRARY} PostgreSQL::PostgreSQL SQLite::SQLite3 ${CMAKE_DL_LIBS})

# cpp-httplib: the plexus CLI's REST client and the tests' HTTP client (built with OpenSSL).
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)

if(PLEXUS_BUILD_TESTS)
  find_package(Catch2 2 REQUIRED)
endif()
