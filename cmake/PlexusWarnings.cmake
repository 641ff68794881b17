# Warnings are errors on our own code only; third-party headers come in as SYSTEM.
add_library(plexus_warnings INTERFACE)
target_compile_options(plexus_warnings INTERFACE -Wall -Wextra -Werror -Wno-missing-field-initializers
                       # GCC 12 reports false -Wrestrict on string concatenation at -O3 (GCC bug 105329).
                       $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>)
