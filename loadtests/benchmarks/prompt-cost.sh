#!/usr/bin/env bash
# What counting a text prompt costs the server: for each length N, one Generate (max_tokens 1) whose text is N
# copies of one character, PROMPT_CHAR ('a' by default: a run without spaces, one pre-token, BPE's worst shape),
# and the server's CPU time (utime + stime of /proc/PID/stat) read before and after the call.
#
#   loadtests/benchmarks/prompt-cost.sh [REF]
#
# With a git ref (e.g. `prompt-cost.sh main`), builds that ref too and measures it first as the baseline. Needs buf
# from tests/interop (`npm ci --ignore-scripts` there); the server runs at time scale 0.001, so the one generated
# token costs next to nothing.
#
# Environment: PROMPT_SIZES ("40000 80000 160000 320000"), PROMPT_CHAR (a), PROMPT_PORT (50161),
# PROMPT_METRICS_PORT (9574), PROMPT_TIMEOUT (seconds one call may take, 600).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
read -r -a sizes <<<"${PROMPT_SIZES:-40000 80000 160000 320000}"
char="${PROMPT_CHAR:-a}"
port="${PROMPT_PORT:-50161}" metrics_port="${PROMPT_METRICS_PORT:-9574}"
timeout="${PROMPT_TIMEOUT:-600}"
buf="$repo/tests/interop/node_modules/.bin/buf"
[ -x "$buf" ] || { echo "missing $buf: run 'npm ci --ignore-scripts' in tests/interop first" >&2; exit 1; }
[ "${#char}" -eq 1 ] || { echo "PROMPT_CHAR must be one character" >&2; exit 1; }

work="$(mktemp -d)"
server_pid=""
# No stream is in flight between sizes, so the server's drain ends at once.
stop_server() {
  [ -n "$server_pid" ] || return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}
trap 'stop_server; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

ticks=$(getconf CLK_TCK)
# Fields 14 and 15 of /proc/PID/stat, counted from the end of the command name, which may hold spaces.
cpu_seconds() { sed 's/^.*) //' "/proc/$1/stat" | awk -v t="$ticks" '{ printf "%.2f", ($12 + $13) / t }'; }

curl_flags=(--protocol grpc --http2-prior-knowledge --connect-timeout 5)

start_server() { # start_server BIN_DIR LOG
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port is already in use: stop what listens there or set PROMPT_PORT" >&2
    exit 1
  fi
  dotnet "$1/mockserve.dll" serve --http-port 0 --port "$port" --metrics-port "$metrics_port" --time-scale 0.001 >"$2" 2>&1 &
  server_pid=$!
  for _ in $(seq 300); do
    if "$buf" curl "${curl_flags[@]}" --timeout 2s -d '{"service":"mockserve.v1.InferenceService"}' \
      "http://127.0.0.1:$port/grpc.health.v1.Health/Check" 2>/dev/null | grep -q SERVING; then
      return 0
    fi
    kill -0 "$server_pid" 2>/dev/null || { echo "the server exited: $(cat "$2")" >&2; exit 1; }
    sleep 0.2
  done
  echo "the server was not ready in 60 s" >&2
  exit 1
}

body() { { printf '{"maxTokens":1,"text":"'; head -c "$1" </dev/zero | tr '\0' "$char"; printf '"}'; } >"$work/body.json"; }

measure() { # measure BIN_DIR LABEL
  start_server "$1" "$work/$2.log"
  # A first call, not measured, so compiling the counting path is not charged to the first size.
  body 1000
  "$buf" curl "${curl_flags[@]}" --timeout 30s -d @"$work/body.json" "http://127.0.0.1:$port/mockserve.v1.InferenceService/Generate" >/dev/null
  for n in "${sizes[@]}"; do
    body "$n"
    local before after began ended status
    before=$(cpu_seconds "$server_pid")
    began=$(date +%s.%N)
    status=OK
    "$buf" curl "${curl_flags[@]}" --timeout "${timeout}s" -d @"$work/body.json" \
      "http://127.0.0.1:$port/mockserve.v1.InferenceService/Generate" >/dev/null 2>"$work/error" || status="$(head -c 100 "$work/error" | tr '\n' ' ')"
    ended=$(date +%s.%N)
    after=$(cpu_seconds "$server_pid")
    printf '%-9s %9d %12.2f %9.2f  %s\n' "$2" "$n" "$(echo "$after - $before" | bc -l)" "$(echo "$ended - $began" | bc -l)" "$status"
  done
  stop_server
}

build() { # build SOURCE_DIR OUT
  dotnet publish "$1/src/MockServe.Server" -c Release -o "$2" --nologo -v quiet >/dev/null
}

if [ $# -gt 0 ]; then
  mkdir -p "$work/base-src"
  git -C "$repo" archive "$1" | tar -x -C "$work/base-src"
  build "$work/base-src" "$work/base-bin"
fi
build "$repo" "$work/bin"

echo "prompt: N x '$char', max_tokens 1; server CPU from /proc, wall from the client's side; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-9s %9s %12s %9s  %s\n' build chars "server CPU s" "wall s" status
if [ $# -gt 0 ]; then measure "$work/base-bin" "$1"; fi
measure "$work/bin" "this"
