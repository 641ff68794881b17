# tools/bench/lib.sh: helpers shared by the benchmarks in tools/bench/ (source it, do not run it).
# shellcheck shell=bash disable=SC2034 # the BENCH_* results are read by the sourcing script
#
# A benchmark calls bench_init first; everything it starts through bench_spawn is stopped on
# exit, and the temp dir is removed (kept with BENCH_KEEP=1). Servers listen on 127.0.0.1 only.
# Knobs every benchmark honours:
#   BENCH_SECONDS=10         measured seconds per target
#   BENCH_WARMUP_SECONDS=2   unmeasured load before each measurement
#   BENCH_THREADS=2          wrk threads
#   BENCH_CONNECTIONS=64     wrk connections (keep-alive)
#   BENCH_ROUNDS=1           measurements per target, alternating targets; the median counts
#   BENCH_PLEXUSD=path       plexusd to measure (default build/bin/plexusd, built if missing)
#   BENCH_KEEP=1             keep the temp dir (server logs, wrk output) and print its path

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH_SECONDS=${BENCH_SECONDS:-10}
BENCH_WARMUP_SECONDS=${BENCH_WARMUP_SECONDS:-2}
BENCH_THREADS=${BENCH_THREADS:-2}
BENCH_CONNECTIONS=${BENCH_CONNECTIONS:-64}
BENCH_ROUNDS=${BENCH_ROUNDS:-1}
BENCH_PLEXUSD=${BENCH_PLEXUSD:-$BENCH_ROOT/build/bin/plexusd}

BENCH_NAME=""
BENCH_TMP=""
BENCH_PIDS=()
BENCH_PORTS_TAKEN=" "
# Targets in measuring order and their URLs (bench_target); results per target (bench_measure
# adds one round, bench_summarize takes the medians; error counts add up over rounds).
BENCH_TARGETS=()
declare -A BENCH_URL=() BENCH_HEADER=() BENCH_RPS_ROUNDS=() BENCH_P99_ROUNDS=()
declare -A BENCH_RPS=() BENCH_P99_MS=() BENCH_SOCKET_ERRORS=()

bench_log() { printf '%s: %s\n' "${BENCH_NAME:-bench}" "$*" >&2; }
bench_die() {
  bench_log "error: $*"
  exit 1
}

# bench_init NAME: temp dir, cleanup trap, argument-free sanity checks.
bench_init() {
  BENCH_NAME=$1
  local n
  for n in BENCH_SECONDS BENCH_WARMUP_SECONDS BENCH_THREADS BENCH_CONNECTIONS BENCH_ROUNDS; do
    [[ ${!n} =~ ^[0-9]+$ ]] || bench_die "$n must be a whole number, got '${!n}'"
  done
  ((BENCH_SECONDS > 0 && BENCH_ROUNDS > 0 && BENCH_THREADS > 0 && BENCH_CONNECTIONS >= BENCH_THREADS)) ||
    bench_die "need BENCH_SECONDS > 0, BENCH_ROUNDS > 0 and BENCH_CONNECTIONS >= BENCH_THREADS > 0"
  BENCH_TMP=$(mktemp -d "/tmp/plexus-bench-$BENCH_NAME.XXXXXX")
  trap bench_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# Stops every server this benchmark started; silent, so a RESULT line stays the last line.
bench_cleanup() {
  local pid
  for pid in "${BENCH_PIDS[@]}"; do bench_stop "$pid"; done
  if [[ -n $BENCH_TMP && -d $BENCH_TMP ]]; then
    if [[ ${BENCH_KEEP:-0} == 1 ]]; then
      printf '%s: kept %s\n' "$BENCH_NAME" "$BENCH_TMP" >&2
    else
      rm -rf "$BENCH_TMP"
    fi
  fi
}

# bench_stop PID: SIGTERM, up to 10 s for a clean exit, then SIGKILL.
bench_stop() {
  local pid=$1 _
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 40); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.25
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# bench_require CMD...: fail clearly when a tool is missing (tools/deps installs them all).
bench_require() {
  local cmd
  for cmd in "$@"; do
    command -v "$cmd" >/dev/null 2>&1 || bench_die "'$cmd' not found; run tools/deps"
  done
}

# bench_free_port: a loopback port nothing listens on, below the ephemeral range.
bench_free_port() {
  local port _
  for _ in $(seq 200); do
    port=$((20000 + RANDOM % 12000))
    [[ $BENCH_PORTS_TAKEN == *" $port "* ]] && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      BENCH_PORTS_TAKEN+="$port "
      printf '%s\n' "$port"
      return 0
    fi
  done
  bench_die "no free loopback port found"
}

# bench_spawn LOGFILE CMD...: start CMD in the background, output to LOGFILE; sets BENCH_SPAWNED.
# The command must stay in the foreground (no daemonising) so its pid is the server's.
bench_spawn() {
  local logfile=$1
  shift
  "$@" </dev/null >"$logfile" 2>&1 &
  BENCH_SPAWNED=$!
  BENCH_PIDS+=("$BENCH_SPAWNED")
}

# bench_wait_http URL PID LOGFILE [SECONDS]: wait for a 2xx from URL while PID lives.
bench_wait_http() {
  local url=$1 pid=$2 logfile=$3 seconds=${4:-30} _
  for _ in $(seq $((seconds * 5))); do
    curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      local status=0
      wait "$pid" 2>/dev/null || status=$?
      bench_log "the server exited (status $status) before $url answered; its output:"
      bench_show_log "$logfile"
      return 1
    fi
    sleep 0.2
  done
  bench_log "no 2xx from $url within ${seconds}s; server output:"
  bench_show_log "$logfile"
  return 1
}

# bench_show_log FILE: its last 30 lines, indented, on stderr.
bench_show_log() {
  if [[ -s $1 ]]; then
    tail -n 30 "$1" | sed 's/^/  | /' >&2
  else
    printf '  | (no output)
' >&2
  fi
}

# bench_to_ms VALUE: wrk's "812.00us" / "1.25ms" / "2.01s" / "1.00m" -> milliseconds.
bench_to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000;
    else if (u == "h") n *= 3600000; else if (u != "ms") { print "nan"; exit }
    printf "%.2f\n", n }'
}

# bench_parse_wrk FILE: "RPS P99 NON2XX SOCKET_ERRORS" from wrk --latency output (P99 in ms).
bench_parse_wrk() {
  local file=$1 rps p99 non2xx errors
  rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$file")
  p99=$(awk '$1 == "99%" { print $2 }' "$file")
  non2xx=$(awk -F': *' '/Non-2xx or 3xx responses/ { print $2 }' "$file")
  # "Socket errors: connect 0, read 0, write 0, timeout 0"
  errors=$(awk '/Socket errors:/ { gsub(/,/, ""); print $4 + $6 + $8 + $10 }' "$file")
  [[ -n $rps && -n $p99 ]] || return 1
  p99=$(bench_to_ms "$p99")
  [[ $p99 != nan ]] || return 1
  printf '%s %s %s %s\n' "$rps" "$p99" "${non2xx:-0}" "${errors:-0}"
}

# bench_target NAME URL: register a target; bench_run_rounds measures them in this order.
bench_target() {
  BENCH_TARGETS+=("$1")
  BENCH_URL[$1]=$2
  BENCH_HEADER[$1]=${3:-}  # one request header, e.g. "Authorization: Bearer ..."
  BENCH_RPS_ROUNDS[$1]=""
  BENCH_P99_ROUNDS[$1]=""
  BENCH_SOCKET_ERRORS[$1]=0
}

# bench_measure NAME ROUND: warm up, then one measured wrk run on the target's URL.
# A target that answers anything but 2xx fails the benchmark: its figures would be meaningless.
bench_measure() {
  local name=$1 round=$2 url=${BENCH_URL[$1]} out="$BENCH_TMP/wrk-$1-$2.txt" figures
  local wrk=(wrk -t"$BENCH_THREADS" -c"$BENCH_CONNECTIONS")
  [[ -z ${BENCH_HEADER[$name]} ]] || wrk+=(-H "${BENCH_HEADER[$name]}")
  if ((BENCH_WARMUP_SECONDS > 0)); then
    "${wrk[@]}" -d"${BENCH_WARMUP_SECONDS}s" "$url" >/dev/null 2>&1 || bench_die "wrk warm-up on $url failed"
  fi
  bench_log "measuring $name (round $round/$BENCH_ROUNDS): ${BENCH_SECONDS}s on $url"
  "${wrk[@]}" -d"${BENCH_SECONDS}s" --latency "$url" >"$out" 2>&1 || {
    sed 's/^/  | /' "$out" >&2
    bench_die "wrk failed on $url"
  }
  figures=$(bench_parse_wrk "$out") || {
    sed 's/^/  | /' "$out" >&2
    bench_die "could not read Requests/sec and the 99% latency from wrk's output"
  }
  local rps p99 non2xx errors
  read -r rps p99 non2xx errors <<<"$figures"
  ((non2xx == 0)) || bench_die "$name answered $non2xx non-2xx responses on $url"
  BENCH_RPS_ROUNDS[$name]+="$rps "
  BENCH_P99_ROUNDS[$name]+="$p99 "
  BENCH_SOCKET_ERRORS[$name]=$((BENCH_SOCKET_ERRORS[$name] + errors))
}

# bench_median FORMAT VALUES...: the median, printed with an awk printf FORMAT.
bench_median() {
  local format=$1
  shift
  printf '%s\n' "$@" | sort -g | awk -v f="$format" '{ v[NR] = $1 }
    END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf f "\n", m }'
}

# bench_run_rounds: BENCH_ROUNDS rounds over every target in turn (so drift in the machine's
# load hits all targets alike), then the medians into BENCH_RPS and BENCH_P99_MS.
bench_run_rounds() {
  local round t
  for round in $(seq "$BENCH_ROUNDS"); do
    for t in "${BENCH_TARGETS[@]}"; do bench_measure "$t" "$round"; done
  done
  for t in "${BENCH_TARGETS[@]}"; do
    # shellcheck disable=SC2086 # the rounds are a space-separated list of numbers
    BENCH_RPS[$t]=$(bench_median '%.0f' ${BENCH_RPS_ROUNDS[$t]})
    # shellcheck disable=SC2086
    BENCH_P99_MS[$t]=$(bench_median '%.2f' ${BENCH_P99_ROUNDS[$t]})
  done
}

# bench_ensure_plexusd: build plexusd (Release, same flags as tools/test) if it is missing.
bench_ensure_plexusd() {
  [[ -x $BENCH_PLEXUSD ]] && return 0
  [[ $BENCH_PLEXUSD == "$BENCH_ROOT/build/bin/plexusd" ]] ||
    bench_die "BENCH_PLEXUSD=$BENCH_PLEXUSD is not executable"
  bench_log "build/bin/plexusd is missing; building it (Release)"
  (
    cd "$BENCH_ROOT"
    ./tools/deps
    cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DPLEXUS_BUILD_TESTS=ON -DPLEXUS_SANITIZE=OFF >&2
    cmake --build build -j "$(nproc 2>/dev/null || echo 2)" --target plexusd >&2
  ) || bench_die "building plexusd failed"
}

# bench_build_type: CMAKE_BUILD_TYPE of the tree BENCH_PLEXUSD came from ("?" if unknown).
bench_build_type() {
  local cache
  cache="$(dirname "$(dirname "$BENCH_PLEXUSD")")/CMakeCache.txt"
  if [[ -f $cache ]]; then
    sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$cache"
  else
    echo "?"
  fi
}

# bench_ratio A B: A/B with 2 decimals.
bench_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f\n", a / b; else print "nan" }'; }
