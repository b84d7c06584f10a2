#!/usr/bin/env bash
# Streaming benchmark: the mock server against a bare grpc-dotnet server (the baseline) that streams the same
# messages on a fixed ticker, for each stream count N (default 1000 and 4000), one server at a time.
#
#   loadtests/benchmarks/streaming/run.sh [N...]
#
# For each N: start the mock (llama-3.1-8b on one h200, time scale 1), run the closed-loop client (warm-up, then a
# measurement window), stop it; then start the baseline with its step set to the mean inter-token gap the mock
# showed and its TTFT to the mock's mean TTFT (the same token rate), run the same client, stop it. Then the table,
# and scrape-check: one fixed request on fresh mocks, alone twice (the control) and under /metrics and
# GetServerInfo hammering, whose token offsets must all be identical.
#
# Requests are prompt 100 + max_tokens 120 (ignore_eos): 224 tokens of KV with 16-token blocks, so 4000 streams
# hold 896K tokens, within the ~1.016M tokens of KV an h200 leaves beside llama-3.1-8b's weights
# (`mockserve estimate --model llama-3.1-8b --gpu h200 --context 220`: 4,618 users).
#
# Environment (seconds unless said): BENCH_WARMUP (10), BENCH_WINDOW (30), BENCH_RAMP (5), BENCH_GRACE (5),
# BENCH_PROMPT_TOKENS (100), BENCH_MAX_TOKENS (120), BENCH_PORT (50151), BENCH_METRICS_PORT (9564),
# BENCH_OUT (a directory to keep the JSON results and server logs in; they are discarded otherwise).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../../.." && pwd)"
counts=("$@")
[ "${#counts[@]}" -gt 0 ] || counts=(1000 4000)
warmup="${BENCH_WARMUP:-10}" window="${BENCH_WINDOW:-30}" ramp="${BENCH_RAMP:-5}" grace="${BENCH_GRACE:-5}"
prompt="${BENCH_PROMPT_TOKENS:-100}" max_tokens="${BENCH_MAX_TOKENS:-120}"
port="${BENCH_PORT:-50151}" metrics_port="${BENCH_METRICS_PORT:-9564}"
command -v jq >/dev/null || { echo "run.sh needs jq (apt-get install jq)" >&2; exit 1; }

work="$(mktemp -d)"
server_pid=""
began=$(date +%s)

stop_server() {
  [ -n "$server_pid" ] || return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  for _ in $(seq 50); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.2
  done
  kill -KILL "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}
finish() {
  stop_server
  if [ -n "${BENCH_OUT:-}" ]; then
    mkdir -p "$BENCH_OUT" && cp "$work"/*.json "$work"/*.log "$BENCH_OUT"/ 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap finish EXIT
trap 'exit 130' INT TERM

bench() { dotnet "$work/bench/mockserve-bench-streaming.dll" "$@"; }

# Refuses to start a server while something else listens on the port: the client would measure the wrong process.
port_free() {
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port is already in use: stop what listens there or set BENCH_PORT" >&2
    exit 1
  fi
}

# Both servers are started as dotnet itself (not through a shell function) so that $! is the server's own pid,
# the one the client samples and stop_server stops.
start_mock() { # LOG
  port_free
  dotnet "$work/mock/mockserve.dll" serve --http-port 0 --port "$port" --metrics-port "$metrics_port" \
    --model llama-3.1-8b --gpu h200 --max-running 5000 --max-batched-tokens 16384 --max-waiting 10000 \
    --time-scale 1 --drain 2s >"$1" 2>&1 &
  server_pid=$!
}

start_baseline() { # LOG STEP_MS TTFT_MS
  port_free
  dotnet "$work/bench/mockserve-bench-streaming.dll" baseline --port "$port" --step-ms "$2" --ttft-ms "$3" >"$1" 2>&1 &
  server_pid=$!
}

load() { # LABEL N JSON
  bench client --target "http://127.0.0.1:$port" --label "$1" --streams "$2" \
    --prompt-tokens "$prompt" --max-tokens "$max_tokens" --ignore-eos true --time-scale 1 \
    --ramp "$ramp" --warmup "$warmup" --window "$window" --grace "$grace" \
    --server-pid "$server_pid" --json "$3"
  kill -0 "$server_pid" 2>/dev/null || { echo "the $1 server (pid $server_pid) died during the run; see its log" >&2; exit 1; }
}

echo "== publishing the mock and the benchmark (Release) to $work"
dotnet publish "$repo/src/MockServe.Server" -c Release -o "$work/mock" --nologo -v quiet >/dev/null
dotnet publish "$repo/loadtests/benchmarks/streaming" -c Release -o "$work/bench" --nologo -v quiet >/dev/null

mocks=() baselines=()
for n in "${counts[@]}"; do
  echo "== N=$n: mock"
  start_mock "$work/mock-$n.log"
  load mock "$n" "$work/mock-$n.json"
  stop_server

  gap=$(jq -r '.meanTokenGapMs' "$work/mock-$n.json")
  ttft=$(jq -r '.meanTtftMs' "$work/mock-$n.json")
  if [ "$gap" = NaN ] || [ "$ttft" = NaN ]; then
    echo "the mock measured no token at N=$n: no step to give the baseline" >&2
    exit 1
  fi
  echo "== N=$n: baseline, step $gap ms and TTFT $ttft ms (the mock's means)"
  start_baseline "$work/baseline-$n.log" "$gap" "$ttft"
  load baseline "$n" "$work/baseline-$n.json"
  stop_server
  mocks+=("$work/mock-$n.json") baselines+=("$work/baseline-$n.json")
done

echo "== scrape-check: prompt 2000, max_tokens 200, ignore_eos, each run on a fresh mock"
scrape() { # LABEL ARGS...
  local label="$1"; shift
  start_mock "$work/scrape-$label.log"
  local status=0
  bench scrape-check --target "http://127.0.0.1:$port" --label "$label" --prompt-tokens 2000 --max-tokens 200 \
    --max-seconds 30 "$@" | tee "$work/scrape-$label.txt" || status=$?
  stop_server
  # 2 means the offsets differ, which is a result to report, not a failure of the script.
  [ "$status" -eq 0 ] || [ "$status" -eq 2 ]
}
scrape quiet-1 --save "$work/scrape-quiet.json"
scrape quiet-2 --compare "$work/scrape-quiet.json"
scrape scraped --scrape --metrics-url "http://127.0.0.1:$metrics_port/metrics" --compare "$work/scrape-quiet.json"

echo
echo "== results"
bench report --mock "${mocks[@]}" --baseline "${baselines[@]}"
control=$(grep '^verdict:' "$work/scrape-quiet-2.txt" | sed 's/^verdict: //')
scraped=$(grep '^verdict:' "$work/scrape-scraped.txt" | sed 's/^verdict: //')
echo "scrape-check control (two quiet runs): $control"
echo "scrape-check (quiet against scraped):  $scraped"
case "$control/$scraped" in
  PASS*/PASS*) echo "target scrapes change no token time: HELD" ;;
  PASS*/FAIL*) echo "target scrapes change no token time: MISSED" ;;
  *) echo "target scrapes change no token time: INCONCLUSIVE (two quiet runs already differ)" ;;
esac
echo "run.sh took $(( $(date +%s) - began )) s"
