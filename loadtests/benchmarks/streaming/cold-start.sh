#!/usr/bin/env bash
# How late the first requests after a start reach a client, for the ways of starting the server warm:
#
#   loadtests/benchmarks/streaming/cold-start.sh [REPEATS]     (default 5 starts of each variant)
#
# Variants: the default (a warm-up over loopback before readiness), --no-warmup (plain JIT), --no-warmup with
# DOTNET_TieredPGO=0, and --no-warmup on a ReadyToRun publish. Each start: a helper server that the client warms
# its own code on, then a fresh server (yi-34b on an a100-80gb, time scale 1); once it reports SERVING the client
# sends 5 requests (prompt 2000, 5 tokens) one after the other and measures the lateness of each one's first
# token against the model's time. Prints the median over the starts for request 1 and for requests 2-5.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../../.." && pwd)"
repeats="${1:-5}"
port=50171 warm_port=50173
command -v jq >/dev/null || { echo "cold-start.sh needs jq (apt-get install jq)" >&2; exit 1; }
work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

echo "== publishing (Release; one of them ReadyToRun)"
dotnet publish "$repo/src/MockServe.Server" -c Release -o "$work/jit" --nologo -v quiet >/dev/null
dotnet publish "$repo/src/MockServe.Server" -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true \
  -o "$work/r2r" --nologo -v quiet >/dev/null
dotnet publish "$repo/loadtests/benchmarks/streaming" -c Release -o "$work/bench" --nologo -v quiet >/dev/null

start() { # BIN PORT METRICS_PORT [args...]
  local bin="$1" p="$2" m="$3"; shift 3
  dotnet "$bin/mockserve.dll" serve --http-port 0 --port "$p" --metrics-port "$m" --time-scale 1 --drain 1s "$@" >/dev/null 2>&1 &
  pids+=($!)
}

variant() { # LABEL BIN [env=value...] -- [server args...]
  local label="$1" bin="$2"; shift 2
  local envs=()
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done
  shift
  for _ in $(seq 1 "$repeats"); do
    pids=()
    start "$work/jit" "$warm_port" 9583
    env "${envs[@]}" dotnet "$bin/mockserve.dll" serve --http-port 0 --port "$port" --metrics-port 9581 --time-scale 1 --drain 1s "$@" \
      >/dev/null 2>&1 &
    pids+=($!)
    dotnet "$work/bench/mockserve-bench-streaming.dll" cold-start --warm-target "http://127.0.0.1:$warm_port" \
      --target "http://127.0.0.1:$port" --json "$work/$label.jsonl" >/dev/null
    for p in "${pids[@]}"; do kill "$p"; wait "$p" 2>/dev/null || true; done
  done
  jq -s -r --arg l "$label" '
    def median: sort | if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
    "\($l)|\(map(.firstTokenLatenessMs[0]) | median * 10 | round / 10)|\(map(.firstTokenLatenessMs[1:][]) | median * 10 | round / 10)|\(map(.firstTokenLatenessMs[0]) | min * 10 | round / 10)..\(map(.firstTokenLatenessMs[0]) | max * 10 | round / 10)"' \
    "$work/$label.jsonl"
}

echo "== $repeats starts of each variant"
{
  echo "variant|request 1: first token late (median ms)|requests 2-5 (median ms)|request 1 range (ms)"
  variant "warm-up before readiness (default)" "$work/jit" DOTNET_NOLOGO=1 --
  variant "no warm-up" "$work/jit" DOTNET_NOLOGO=1 -- --no-warmup
  variant "no warm-up, TieredPGO off" "$work/jit" DOTNET_TieredPGO=0 -- --no-warmup
  variant "no warm-up, ReadyToRun" "$work/r2r" DOTNET_NOLOGO=1 -- --no-warmup
} | column -t -s '|'
