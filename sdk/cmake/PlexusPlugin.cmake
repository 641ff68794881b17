# plexus_add_plugin(NAME SOURCES src...): build a Plexus plugin library.
#
# Creates the MODULE library target plexus_<name> (file libplexus_<name>.so; a '-' in
# NAME becomes '_' in the target and file name) linked against Plexus::sdk, built the
# way the kernel's loader expects: hidden visibility, the entry point plexus_plugin_v1
# as the only exported symbol (plugin.map), and -z defs so an unresolved symbol fails
# the link instead of the dlopen. Used in-tree and, installed with the SDK, by
# third-party authors after find_package(PlexusSDK).
#
# Inside the Plexus tree the library lands in PLEXUS_PLUGIN_OUTPUT_DIRECTORY
# (build/lib/plexus); OUTPUT_DIRECTORY overrides it for one plugin.
include_guard(GLOBAL)
if(CMAKE_VERSION VERSION_LESS 3.17)
  message(FATAL_ERROR "PlexusSDK needs CMake 3.17 or newer (found ${CMAKE_VERSION})")
endif()

function(plexus_add_plugin name)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "OUTPUT_DIRECTORY" "SOURCES")
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "plexus_add_plugin(${name}): unexpected arguments: ${ARG_UNPARSED_ARGUMENTS} "
                        "(usage: plexus_add_plugin(NAME SOURCES file.cpp...))")
  endif()
  if(NOT name MATCHES "^[a-z][a-z0-9-]*$")
    message(FATAL_ERROR "plexus_add_plugin(${name}): a plugin name is lowercase letters, digits and '-', "
                        "starting with a letter")
  endif()
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "plexus_add_plugin(${name}): SOURCES is empty")
  endif()
  if(NOT TARGET Plexus::sdk)
    message(FATAL_ERROR "plexus_add_plugin(${name}): Plexus::sdk is not defined; call find_package(PlexusSDK) first")
  endif()

  # Next to this file both in the source tree and in the installed package.
  set(version_script "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/plugin.map")
  string(REPLACE "-" "_" file_name "plexus_${name}")
  set(target ${file_name})
  add_library(${target} MODULE ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE Plexus::sdk)
  set_target_properties(${target} PROPERTIES
    OUTPUT_NAME ${file_name}
    PREFIX "lib"
    SUFFIX ".so"
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    POSITION_INDEPENDENT_CODE ON
    LINK_DEPENDS "${version_script}")
  target_link_options(${target} PRIVATE "LINKER:-z,defs" "LINKER:--version-script=${version_script}")
  # GCC would mark some template statics STB_GNU_UNIQUE, which pins a library in memory forever.
  target_compile_options(${target} PRIVATE $<$<CXX_COMPILER_ID:GNU>:-fno-gnu-unique>)

  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${ARG_OUTPUT_DIRECTORY}")
  elseif(PLEXUS_PLUGIN_OUTPUT_DIRECTORY)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${PLEXUS_PLUGIN_OUTPUT_DIRECTORY}")
  endif()
endfunction()
