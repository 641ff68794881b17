#!/usr/bin/env bash
# tests/log_scan.sh: prove that no password, token or key reached a log file.
#
#   tests/log_scan.sh DIR           scan every file under DIR (but DIR/secrets.txt)
#   tests/log_scan.sh --reset DIR   empty DIR (the suite's first test)
#
# DIR is <build>/test-logs: plexusd's log files of the integration tests, and
# secrets.txt, where the tests record every password, token and key they used
# (record_secret in tests/support/plexusd_process.hpp). The scan fails, naming
# file and line, when a file holds a recorded secret or anything shaped like a
# JWT, an API key (plx_...) or a refresh token (plxr_...). A secret is never
# printed: only its first four characters and "***".
#
# A suite that started plexusd but recorded no secret proves nothing, so plexusd
# logs without secrets.txt fail too. Exit status: 0 clean, 1 leak found, 2 usage.
set -euo pipefail

usage() {
  sed -n '2,5s/^# \{0,1\}//p' "$0" >&2
  exit 2
}

if [[ ${1:-} == --reset ]]; then
  (($# == 2)) || usage
  rm -rf -- "$2"
  mkdir -p -- "$2"
  exit 0
fi
(($# == 1)) || usage
dir=$1

if [[ ! -d $dir ]]; then
  echo "log_scan: $dir does not exist: no test wrote a log, nothing to scan"
  exit 0
fi

secrets_file=$dir/secrets.txt
# Shorter values would match ordinary words; no test secret is that short.
min_secret_length=8

mapfile -t -d '' logs < <(find "$dir" -type f ! -path "$secrets_file" -print0 | sort -z)
plexusd_logs=0
for file in "${logs[@]}"; do
  if [[ $(basename "$file") == plexusd-*.log ]]; then plexusd_logs=$((plexusd_logs + 1)); fi
done

failures=0
# scan FILE WHY GREP-ARGS...: one finding per match, as "file:line: why (abcd***)".
scan() {
  local file=$1 why=$2 hit match
  shift 2
  while IFS= read -r hit; do
    match=${hit#*:}
    printf 'log_scan: %s:%s: %s (%s***)\n' "$file" "${hit%%:*}" "$why" "${match:0:4}"
    failures=$((failures + 1))
  done < <(grep -a -n -o "$@" -- "$file" || true)
}

if [[ ! -f $secrets_file ]]; then
  if ((plexusd_logs > 0)); then
    echo "log_scan: $plexusd_logs plexusd log(s) in $dir but no secrets.txt: the tests recorded no secret, so the scan would prove nothing"
    exit 1
  fi
  secrets=()
else
  mapfile -t secrets < <(awk -v min="$min_secret_length" 'length($0) >= min' "$secrets_file" | sort -u)
fi

if ((${#logs[@]} == 0)); then
  echo "log_scan: no log files in $dir; clean"
  exit 0
fi

# Recorded secrets go to grep through a pattern file, never on a command line.
patterns=$(mktemp)
trap 'rm -f "$patterns"' EXIT
((${#secrets[@]} == 0)) || printf '%s\n' "${secrets[@]}" >"$patterns"

for file in "${logs[@]}"; do
  ((${#secrets[@]} == 0)) || scan "$file" "a recorded secret" -F -f "$patterns"
  # Shapes of credentials, recorded or not.
  scan "$file" "something shaped like a JWT" -E 'eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.'
  scan "$file" "something shaped like an API key" -E 'plx_[A-Za-z0-9_-]{20,}'
  scan "$file" "something shaped like a refresh token" -E 'plxr_[A-Za-z0-9_-]{20,}'
done

if ((failures > 0)); then
  echo "log_scan: FAILED: $failures leak(s) in ${#logs[@]} file(s) under $dir"
  exit 1
fi
echo "log_scan: clean: ${#logs[@]} file(s) under $dir, ${#secrets[@]} recorded secret(s) and 3 credential shapes checked"
