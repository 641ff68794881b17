# Warnings are errors on our own code only; third-party headers come in as SYSTEM.
add_library(plexus_warnings INTERFACE)
target_compile_options(plexus_warnings INTERFACE -Wall -Wextra -Werror -Wno-missing-field-initializers)
