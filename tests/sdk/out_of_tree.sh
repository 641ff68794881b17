#!/usr/bin/env bash
# tests/sdk/out_of_tree.sh BUILD_DIR: the SDK as a third-party plugin author gets it.
#
# Installs the sdk component of BUILD_DIR into a temporary prefix, copies
# sdk/examples/hello elsewhere and builds it against that prefix only (C++17,
# -Wall -Wextra -Werror; again with clang++ when installed), then checks each library:
# one exported symbol (plexus_plugin_v1), the .plexus_metadata section, and a full
# lifecycle through the C ABI in a fake host. Everything temporary is removed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

check_build_dir "${1:-}"
build_dir=$(cd "$1" && pwd)
make_workdir

install_sdk "$build_dir" "$work/prefix"

# A copy, so nothing can reach the source tree through relative paths.
cp -r "$repo_root/sdk/examples/hello" "$work/hello"
build_plugin "$work/hello" "$work/build-gcc" "$work/prefix" -DCMAKE_CXX_COMPILER=g++ \
  -DCMAKE_CXX_FLAGS="-Wall -Wextra -Werror"
check_plugin_library "$work/build-gcc/libplexus_hello.so" hello
run_fake_host "$work/build-gcc/libplexus_hello.so" hello "$work/prefix"

# The boundary is C: a plugin from another compiler loads the same way.
if command -v clang++ >/dev/null; then
  build_plugin "$work/hello" "$work/build-clang" "$work/prefix" -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_CXX_FLAGS="-Wall -Wextra -Werror"
  check_plugin_library "$work/build-clang/libplexus_hello.so" hello
  run_fake_host "$work/build-clang/libplexus_hello.so" hello "$work/prefix"
else
  step "clang++ not installed: skipping the second compiler"
fi

echo "PASS: sdk out-of-tree build"
