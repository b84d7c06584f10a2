#!/usr/bin/env bash
# The load driver's own cost: mockserve-load holds LOAD_USERS (1000) concurrent streams against a mockserve server
# at a fast time scale, each in its own process, and the two goals of issue 8 are judged on what /proc and the
# driver's report say:
#   (1) the driver uses less CPU than the server (utime + stime of /proc/PID/stat over the load window);
#   (2) the driver's schedule lateness p99 (report.csv, metric `lateness`) is under 5 ms.
#
#   loadtests/benchmarks/load-driver.sh [RUNS]      (RUNS: repetitions, default 3, each on a fresh server)
#
# Each user is a long-context-chat conversation of LOAD_TURNS turns from a LOAD_CONTEXT-token first prompt
# (+300 tokens a turn), LOAD_OUTPUT tokens out (ignore_eos), no think time, so every user always has a stream
# open (closed model: a user's next turn starts when its last ends). The server: llama-3.1-8b on 4 x h200, whose
# 541 GiB of KV hold 1,343 users of the longest conversation, 1,000 + 1,000 + 300 + 1,000 = 3,300 tokens
# (`mockserve estimate --model llama-3.1-8b --gpu h200 --tp 4 --context 3300`), with a running batch and a queue
# above 1,000. At time scale 0.1 a decode step of 1,000 sequences (~14 ms of model time) is due every ~1.4 ms of
# wall time: more than 2 cores can stream, so the server runs behind and sends several tokens a message.
# Both processes run with workstation GC (DOTNET_gcServer=0: already the server's setting, see the streaming
# benchmark, and the driver's default; server GC would give each process a heap per core on 2 shared cores).
#
# The load window runs from the driver's "against" line (just before its first request) to the first line of its
# summary (the last stream has ended or was cancelled); both processes' CPU is read there, so the driver's
# start-up (JIT, channel) and report writing are outside it. "whole life" is the driver's CPU from its start to
# its last sample. Lateness is the driver's own: actual minus intended start of each request (report.csv). The
# driver lives on the target's clock, so durations and report.csv are model time: LOAD_DURATION 300s is 30 s of
# wall time at 0.1, and the lateness read from report.csv is turned back into wall milliseconds (x time scale).
#
# Environment: LOAD_USERS (1000), LOAD_DURATION (300s of model time), LOAD_TIME_SCALE (0.1), LOAD_CONTEXT (fixed:1000),
# LOAD_OUTPUT (fixed:1000), LOAD_TURNS (fixed:2), LOAD_TP (4), LOAD_PORT (50171), LOAD_METRICS_PORT (9584),
# LOAD_RATE (open model instead of LOAD_USERS: users a second), LOAD_OUT (a directory to keep the reports, logs and CPU samples in; discarded otherwise),
# LOAD_DRIVER_BIN (a published mockserve-load directory to measure instead of building the working tree's).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
runs="${1:-3}"
users="${LOAD_USERS:-1000}" duration="${LOAD_DURATION:-300s}" scale="${LOAD_TIME_SCALE:-0.1}"
context="${LOAD_CONTEXT:-fixed:1000}" output="${LOAD_OUTPUT:-fixed:1000}" turns="${LOAD_TURNS:-fixed:2}"
tp="${LOAD_TP:-4}" port="${LOAD_PORT:-50171}" metrics_port="${LOAD_METRICS_PORT:-9584}"
command -v jq >/dev/null || { echo "load-driver.sh needs jq (apt-get install jq)" >&2; exit 1; }
command -v curl >/dev/null || { echo "load-driver.sh needs curl" >&2; exit 1; }
export DOTNET_gcServer=0

work="$(mktemp -d)"
server_pid="" driver_pid="" poller_pid=""
began=$(date +%s)

stop() { # PID
  [ -n "$1" ] || return 0
  kill -TERM "$1" 2>/dev/null || true
  for _ in $(seq 50); do
    kill -0 "$1" 2>/dev/null || break
    sleep 0.2
  done
  kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
finish() {
  stop "$poller_pid"; stop "$driver_pid"; stop "$server_pid"
  if [ -n "${LOAD_OUT:-}" ]; then
    mkdir -p "$LOAD_OUT" && cp -r "$work"/run-* "$LOAD_OUT"/ 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap finish EXIT
trap 'exit 130' INT TERM

ticks=$(getconf CLK_TCK)
# utime + stime in ticks: fields 14 and 15 of /proc/PID/stat, counted after the command name, which may hold
# spaces. Bash builtins only, so sampling ten times a second costs no fork.
cpu_ticks() { # PID
  local stat rest
  { read -r stat <"/proc/$1/stat"; } 2>/dev/null || { echo -1; return; }
  rest="${stat##*) }"
  set -- $rest
  echo $(( ${12} + ${13} ))
}
seconds() { echo "scale=2; $1 / $ticks" | bc -l; }

echo "== publishing the server and the driver (Release) to $work"
dotnet publish "$repo/src/MockServe.Server" -c Release -o "$work/mock" --nologo -v quiet >/dev/null
if [ -n "${LOAD_DRIVER_BIN:-}" ]; then
  driver_dir="$LOAD_DRIVER_BIN"
else
  dotnet publish "$repo/loadtests/MockServe.LoadTests" -c Release -o "$work/load" --nologo -v quiet >/dev/null
  driver_dir="$work/load"
fi

# The workload needs the run command's workload flags: refuse to measure another workload in their absence.
help="$(dotnet "$driver_dir/mockserve-load.dll" run --help)"
for flag in --context --output --turns --think-time --ignore-eos; do
  if ! grep -q -- "^ *$flag[ ,<]" <<<"$help" && ! grep -q -- "^ *$flag\$" <<<"$help"; then
    echo "mockserve-load run does not recognise $flag: this benchmark needs the workload flags" >&2
    exit 2
  fi
done

start_server() { # LOG
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port is already in use: stop what listens there or set LOAD_PORT" >&2
    exit 1
  fi
  dotnet "$work/mock/mockserve.dll" serve --http-port 0 --port "$port" --metrics-port "$metrics_port" \
    --model llama-3.1-8b --gpu h200 --tp "$tp" --max-running 2048 --max-batched-tokens 16384 --max-waiting 10000 \
    --time-scale "$scale" --drain 2s >"$1" 2>&1 &
  server_pid=$!
  for _ in $(seq 300); do
    grep -q 'readiness reports SERVING' "$1" && return 0
    kill -0 "$server_pid" 2>/dev/null || { echo "the server exited: $(cat "$1")" >&2; exit 1; }
    sleep 0.2
  done
  echo "the server was not ready in 60 s" >&2
  exit 1
}

# Every 0.1 s while the driver lives: the load phase (0 before its "against" line, 1 during the load, 2 once the
# summary began) and both processes' CPU ticks; about once a second also the server's running and waiting
# requests from /metrics. Under a busy machine the loop runs late, which moves the window's ends, not the CPU
# figures' consistency: both processes are read at the same instants.
poll() { # DRIVER_OUT SAMPLES
  local phase=0 next=0 now metrics
  while kill -0 "$driver_pid" 2>/dev/null; do
    # One command each, no pipe: under pipefail a grep -q that stops reading early fails its pipeline.
    if [ "$phase" -eq 0 ] && grep -q ' against http' "$1"; then phase=1; fi
    if [ "$phase" -eq 1 ] && grep -q '^Summary (' "$1"; then phase=2; fi
    metrics=""
    now=${EPOCHREALTIME%.*}
    if [ "$now" -ge "$next" ]; then
      next=$(( now + 1 ))
      metrics=$(curl -s --max-time 1 "http://127.0.0.1:$metrics_port/metrics" \
        | awk '$1 == "mockserve_requests_running" { r = $2 } $1 == "mockserve_requests_waiting" { w = $2 } END { print r, w }' || true)
    fi
    echo "$phase $(cpu_ticks "$server_pid") $(cpu_ticks "$driver_pid") ${metrics:-}" >>"$2"
    sleep 0.1
  done
}

printf -v header '%-4s %9s %9s %9s %13s %12s %12s %8s %10s %10s %10s  %s' \
  run "in flight" requests tokens "server CPU s" "driver CPU s" "(whole life)" ratio "late p50" "late p99" "late max" verdict
# LOAD_RATE switches to the open model: new users a second, Poisson arrivals, each holding a whole conversation.
# There the lateness is the schedule's (a timer and the thread pool under the load); in the closed model a turn
# starts right after the last one ended, so lateness only shows the driver's own step between them.
if [ -n "${LOAD_RATE:-}" ]; then model=(--rate "$LOAD_RATE"); load="rate $LOAD_RATE/s"; else model=(--users "$users"); load="$users users"; fi
rows=()
for run in $(seq "$runs"); do
  dir="$work/run-$run"
  mkdir -p "$dir"
  echo "== run $run of $runs: $load, $duration, time scale $scale; load $(cut -d' ' -f1-3 /proc/loadavg)"
  start_server "$dir/server.log"
  dotnet "$driver_dir/mockserve-load.dll" run --target "http://127.0.0.1:$port" --scenario long-context-chat \
    "${model[@]}" --duration "$duration" --context "$context" --output "$output" --turns "$turns" \
    --think-time none --ignore-eos --metrics-port 0 --progress plain --report-dir "$dir/report" >"$dir/driver.log" 2>&1 &
  driver_pid=$!
  poll "$dir/driver.log" "$dir/samples.txt" &
  poller_pid=$!
  status=0
  wait "$driver_pid" || status=$?
  driver_pid=""
  wait "$poller_pid" || true
  poller_pid=""
  kill -0 "$server_pid" 2>/dev/null || { echo "the server died during run $run; see $dir/server.log" >&2; exit 1; }
  stop "$server_pid"; server_pid=""
  # 1 is a broken SLO, and this run sets none: anything but 0 is a failed run.
  [ "$status" -eq 0 ] || { echo "mockserve-load exited $status:" >&2; tail -n 20 "$dir/driver.log" >&2; exit 1; }

  read -r s0 d0 < <(awk '$1 == 1 { print $2, $3; exit }' "$dir/samples.txt")
  read -r s1 d1 < <(awk '$1 == 2 { print $2, $3; exit }' "$dir/samples.txt")
  dlast=$(awk '$3 >= 0 { d = $3 } END { print d }' "$dir/samples.txt")
  [ -n "${s0:-}" ] && [ -n "${s1:-}" ] || { echo "run $run: no load window in the samples (see $dir/driver.log)" >&2; exit 1; }
  server_cpu=$(seconds $(( s1 - s0 ))) driver_cpu=$(seconds $(( d1 - d0 ))) driver_life=$(seconds "$dlast")
  in_flight=$(sed -n 's/.* in flight \([0-9]*\),.*/\1/p' "$dir/driver.log" | sort -n | tail -n 1)
  requests=$(wc -l <"$dir/report/requests.jsonl")
  tokens=$(jq -s 'map(select(.ok) | .output_tokens) | add // 0' "$dir/report/requests.jsonl")
  p50="" p99="" max=""
  IFS=, read -r p50 p99 max < <(awk -F, '$2 == "lateness" { print $4 "," $7 "," $9 }' "$dir/report/report.csv") || true
  [ -n "$p99" ] || { echo "run $run: report.csv has no lateness row (see $dir/driver.log)" >&2; exit 1; }
  # report.csv is in model ms: back to wall ms, the driver's own precision.
  wall_ms() { printf '%.3f' "$(echo "$1 * $scale" | bc -l)"; }
  p50=$(wall_ms "$p50") p99=$(wall_ms "$p99") max=$(wall_ms "$max")
  ratio=$(echo "scale=3; $driver_cpu / $server_cpu" | bc -l)
  cpu_ok=$( [ "$(echo "$driver_cpu < $server_cpu" | bc -l)" -eq 1 ] && echo HELD || echo MISSED )
  late_ok=$( [ "$(echo "$p99 < 5" | bc -l)" -eq 1 ] && echo HELD || echo MISSED )
  printf -v row '%-4s %9s %9s %9s %13s %12s %12s %8s %10s %10s %10s  cpu %s, lateness %s' \
    "$run" "$in_flight" "$requests" "$tokens" "$server_cpu" "$driver_cpu" "$driver_life" "$ratio" "$p50" "$p99" "$max" "$cpu_ok" "$late_ok"
  echo "$row"
  rows+=("$row")
done

echo
echo "== results: $load (long-context-chat, context $context, output $output, turns $turns, think none)," \
  "llama-3.1-8b / h200, time scale $scale, $duration a run; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "   in flight: the most streams the driver had open at once (its progress lines); CPU over the load window;" \
  "lateness in ms; the server's running and waiting requests about once a second are in each run's samples.txt"
echo "$header"
printf '%s\n' "${rows[@]}"
echo "load-driver.sh took $(( $(date +%s) - began )) s"
