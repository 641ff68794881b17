/* Metadata announcing an ABI this kernel does not speak (or none at all). The
 * constructor would write a marker file: the kernel must refuse before dlopen. */
#include <stdio.h>
#include <stdlib.h>

#include "plexus/abi.h"

#ifndef TEST_NO_METADATA
__attribute__((section(PLEXUS_METADATA_SECTION), used)) static const char metadata[] =
    "{\"name\":\"" TEST_NAME "\",\"version\":\"1.0.0\",\"abi_major\":" TEST_ABI_MAJOR ",\"abi_minor\":" TEST_ABI_MINOR
    ",\"sdk_version\":\"test\",\"compiler\":\"cc\",\"config_schema\":{}}";
#endif

__attribute__((constructor)) static void write_marker(void) {
  const char* marker = getenv("PLEXUS_TEST_MARKER");
  if (marker) {
    FILE* file = fopen(marker, "a");
    if (file) {
      fputs(TEST_NAME " constructor ran\n", file);
      fclose(file);
    }
  }
}

__attribute__((visibility("default"))) const plexus_plugin_descriptor* plexus_plugin_v1(void) { return NULL; }
