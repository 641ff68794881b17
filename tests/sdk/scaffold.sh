#!/usr/bin/env bash
# tests/sdk/scaffold.sh BUILD_DIR: `plexus new-plugin` from BUILD_DIR/bin/plexus.
#
# Checks the CLI's help, version and refusals (bad names, a non-empty directory),
# scaffolds a plugin whose name needs every renaming (dash, digits), then builds it
# against the installed SDK with ASan and UBSan and checks the library as
# out_of_tree.sh does: one exported symbol, the metadata, a full lifecycle in a fake
# host (under the sanitizers too).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

check_build_dir "${1:-}"
build_dir=$(cd "$1" && pwd)
plexus=$build_dir/bin/plexus
[[ -x $plexus ]] || fail "$plexus is not built (cmake --build $build_dir --target plexus)"
make_workdir

# expect_status STATUS COMMAND...: runs COMMAND, keeps its output in $out and $err.
expect_status() {
  local want=$1 status=0
  shift
  "$@" >"$work/out" 2>"$work/err" || status=$?
  out=$(<"$work/out")
  err=$(<"$work/err")
  [[ $status == "$want" ]] || fail "'$*' exited $status, expected $want; stdout: $out; stderr: $err"
}

step "plexus --help, --version, usage errors"
expect_status 0 "$plexus" --help
[[ $out == *"new-plugin NAME [DIR]"* ]] || fail "--help does not list new-plugin: $out"
expect_status 0 "$plexus" --version
[[ $out =~ ^plexus\ [0-9]+\.[0-9]+\.[0-9]+\ .*ABI\ 1\. ]] || fail "unexpected --version: $out"
expect_status 0 "$plexus" new-plugin --help
[[ $out == *"usage: plexus new-plugin NAME [DIR]"* ]] || fail "new-plugin --help: $out"
expect_status 0 "$plexus" help new-plugin
expect_status 2 "$plexus"
expect_status 2 "$plexus" no-such-command
[[ $err == *"unknown command 'no-such-command'"* ]] || fail "unknown command message: $err"
expect_status 2 "$plexus" new-plugin
expect_status 2 "$plexus" new-plugin a b c

step "invalid names are refused and nothing is written"
cd "$work"
for bad in Bad 1abc a_b "a b" -x "" "a.b" "$(printf 'a%.0s' {1..64})"; do
  expect_status 2 "$plexus" new-plugin "$bad" "$work/bad"
  [[ $err == *"invalid plugin name"* || $err == *"unknown option"* ]] || fail "name '$bad': unclear error: $err"
  [[ ! -e $work/bad ]] || fail "name '$bad' was refused but $work/bad was created"
done

step "scaffold disk-usage2 into the default directory"
mkdir "$work/cwd"
cd "$work/cwd"
expect_status 0 "$plexus" new-plugin disk-usage2
project=$work/cwd/disk-usage2
for file in CMakeLists.txt disk-usage2.cpp disk-usage2.yaml README.md; do
  [[ -s $project/$file ]] || fail "scaffold lacks $file"
done
[[ $(ls "$project" | wc -l) == 4 ]] || fail "unexpected files: $(ls "$project")"
if grep -rnw hello "$project"; then fail "the scaffold still names hello"; fi
grep -q '^class DiskUsage2Plugin : public plexus::sdk::Plugin' "$project/disk-usage2.cpp" || fail "class not renamed"
grep -q '"/api/v1/disk-usage2"' "$project/disk-usage2.cpp" || fail "route not renamed"
grep -q '"plexus_disk_usage2_requests_total"' "$project/disk-usage2.cpp" || fail "metric not renamed"
grep -q '^plexus_add_plugin(disk-usage2 SOURCES disk-usage2.cpp)' "$project/CMakeLists.txt" ||
  fail "CMakeLists.txt not renamed"
grep -q '^name: disk-usage2$' "$project/disk-usage2.yaml" || fail "manifest name not renamed"
grep -q '^library: libplexus_disk_usage2.so$' "$project/disk-usage2.yaml" || fail "manifest library not renamed"
grep -q '^  routes: /api/v1/disk-usage2$' "$project/disk-usage2.yaml" || fail "manifest route prefix not renamed"
grep -q '^enabled: false$' "$project/disk-usage2.yaml" || fail "the manifest must ship disabled"

step "an existing non-empty directory is refused and left alone"
before=$(cd "$project" && sha256sum ./*)
expect_status 1 "$plexus" new-plugin other "$project"
[[ $err == *"already exists and is not empty"* ]] || fail "unclear error for a non-empty directory: $err"
[[ $(cd "$project" && sha256sum ./*) == "$before" ]] || fail "the refused scaffold changed $project"
touch "$work/a-file"
expect_status 1 "$plexus" new-plugin other "$work/a-file"
mkdir "$work/empty"
expect_status 0 "$plexus" new-plugin other "$work/empty"
[[ -f $work/empty/other.cpp ]] || fail "scaffolding into an empty directory failed"

install_sdk "$build_dir" "$work/prefix"
sanitize=(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
build_plugin "$project" "$work/build" "$work/prefix" -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_FLAGS="-Wall -Wextra -Werror ${sanitize[*]}" -DCMAKE_MODULE_LINKER_FLAGS="${sanitize[*]}"
check_plugin_library "$work/build/libplexus_disk_usage2.so" disk-usage2
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
run_fake_host "$work/build/libplexus_disk_usage2.so" disk-usage2 \
  "$work/prefix" "${sanitize[@]}"

echo "PASS: plexus new-plugin scaffold"
