# Shared by tests/sdk/*.sh (sourced, not run): install the SDK from a build tree
# into a temporary prefix and build plugins against it the way a third-party author
# would, with nothing of the Plexus source tree in sight.

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
sdk_tests=$repo_root/tests/sdk

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
step() { echo "--- $*"; }

# Runs a command quietly; prints its output only when it fails.
quiet() {
  local log
  log=$(mktemp)
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    fail "command failed: $*"
  fi
  rm -f "$log"
}

# make_workdir: a fresh temporary directory in $work, removed when the script exits.
make_workdir() {
  work=$(mktemp -d "${TMPDIR:-/tmp}/plexus-sdk-test.XXXXXX")
  trap 'rm -rf "$work"' EXIT
}

# check_build_dir BUILD: the argument names a configured Plexus build tree.
check_build_dir() {
  [[ -n ${1:-} ]] || fail "usage: $0 BUILD_DIR (a configured Plexus build tree)"
  [[ -f $1/CMakeCache.txt ]] || fail "$1 is not a configured CMake build tree"
}

# install_sdk BUILD PREFIX: installs the sdk component only, and checks what arrived.
install_sdk() {
  local build=$1 prefix=$2
  step "install the SDK from $build into $prefix"
  quiet cmake --install "$build" --component sdk --prefix "$prefix"
  local file
  for file in include/plexus/abi.h include/plexus/plugin.hpp lib/cmake/PlexusSDK/PlexusSDKConfig.cmake \
    lib/cmake/PlexusSDK/PlexusSDKConfigVersion.cmake lib/cmake/PlexusSDK/PlexusSDKTargets.cmake \
    lib/cmake/PlexusSDK/PlexusPlugin.cmake lib/cmake/PlexusSDK/plugin.map; do
    [[ -f $prefix/$file ]] || fail "the installed SDK lacks $file"
  done
  # The sdk component is the SDK and nothing else: no kernel headers, binaries or libraries.
  local stray
  stray=$(cd "$prefix" && find . -type f ! -path './include/plexus/*' ! -path './lib/cmake/PlexusSDK/*')
  [[ -z $stray ]] || fail "the sdk component installed more than the SDK: $stray"
}

# build_plugin SOURCE BUILD PREFIX [CMAKE ARGS...]: configures and builds a plugin
# project against the SDK in PREFIX, as C++17 with warnings as errors, and checks that
# its compile commands saw the installed headers and nothing of this repository.
build_plugin() {
  local source=$1 build=$2 prefix=$3
  shift 3
  local generator=()
  command -v ninja >/dev/null && generator=(-G Ninja)
  step "build $source against the installed SDK ($*)"
  quiet cmake -S "$source" -B "$build" "${generator[@]}" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DCMAKE_CXX_STANDARD=17 -DCMAKE_CXX_EXTENSIONS=OFF "$@"
  quiet cmake --build "$build"
  local commands=$build/compile_commands.json
  [[ -s $commands ]] || fail "no compile_commands.json in $build"
  if grep -q -e "$repo_root/kernel" -e "$repo_root/sdk" "$commands"; then
    grep -o -e "$repo_root/[^ \"]*" "$commands" | sort -u >&2
    fail "the out-of-tree build used files of the Plexus source tree"
  fi
  grep -q -e "-isystem $prefix/include" -e "-I$prefix/include" "$commands" ||
    fail "the build did not take the headers from the installed SDK ($prefix/include)"
}

# check_plugin_library LIBRARY NAME: exactly one exported symbol, and the metadata section.
check_plugin_library() {
  local library=$1 name=$2
  step "check $(basename "$library")"
  [[ -f $library ]] || fail "no $library"
  local symbols
  symbols=$(nm -D --defined-only "$library" | awk '{print $NF}')
  [[ $symbols == plexus_plugin_v1 ]] ||
    fail "$(basename "$library") must export exactly plexus_plugin_v1; it exports: $(echo $symbols)"
  readelf -S -W "$library" | grep -q '\.plexus_metadata' || fail "no .plexus_metadata section in $library"
  local metadata
  metadata=$(objcopy -O binary --only-section=.plexus_metadata "$library" /dev/stdout | tr -d '\0')
  [[ $metadata == "{\"name\":\"$name\",\"version\":\"0.1.0\",\"abi_major\":1,"* ]] ||
    fail "unexpected metadata in $library: $metadata"
  echo "exports: $symbols; metadata: ${metadata:0:100}..."
}

# run_fake_host LIBRARY NAME PREFIX [CC FLAGS...]: drives the plugin's lifecycle through
# the C ABI alone (tests/sdk/fake_host.c, compiled as C11 against the installed abi.h).
run_fake_host() {
  local library=$1 name=$2 prefix=$3
  shift 3
  local host=$work/fake_host_$RANDOM
  step "load $(basename "$library") into a fake host"
  quiet cc -std=c11 -Wall -Wextra -Werror -pedantic "$@" -I"$prefix/include" "$sdk_tests/fake_host.c" -ldl -o "$host"
  "$host" "$library" "$name" || fail "the fake host found problems in $(basename "$library")"
}
