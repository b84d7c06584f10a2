#!/usr/bin/env bash
# CI's OpenAI interop stage: builds the server, starts it on free loopback ports (HTTP, gRPC, metrics), waits until
# GET /health answers 200, runs run.sh against it (npm openai SDK, timing, curl -N, locust), then stops it and
# checks it shut down cleanly. Self-contained; called from .ci/run after the gRPC interop stage.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
started=$SECONDS

step() { echo "== openai: $*"; }
fail() { echo "FAILED: $*" >&2; exit 1; }

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
step "node, npm and locust"
if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
  $sudo apt-get update
  $sudo apt-get install -y nodejs npm
fi
if ! command -v locust >/dev/null; then
  $sudo apt-get update
  $sudo apt-get install -y python3-locust
fi
echo "node $(node --version), npm $(npm --version), $(locust --version 2>&1 | head -n 1)"

step "npm ci (versions from package-lock.json)"
(cd "$here" && npm ci --ignore-scripts --no-audit --no-fund)

step "dotnet build src/MockServe.Server -c Release"
dotnet build "$root/src/MockServe.Server" -c Release --nologo -v quiet
dll="$root/src/MockServe.Server/bin/Release/net10.0/mockserve.dll"
[ -f "$dll" ] || fail "the build produced no $dll"

# A port is taken when something accepts a connection on it. Start at a random point so parallel jobs rarely
# race for the same port; ports already handed out here are skipped.
taken=" "
free_port() {
  local port=$((50000 + RANDOM % 9000)) tries
  for tries in $(seq 1 200); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && [[ "$taken" != *" $port "* ]]; then
      echo "$port"
      return 0
    fi
    port=$((port + 1))
  done
  return 1
}
http_port="$(free_port)" || fail "no free loopback port in 50000-59199"
taken+="$http_port "
grpc_port="$(free_port)" || fail "no free loopback port in 50000-59199"
taken+="$grpc_port "
metrics_port="$(free_port)" || fail "no free loopback port in 50000-59199"

work="$(mktemp -d)"
log="$work/server.log"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
show_log() { echo "--- server log (last 40 lines)" >&2; tail -n 40 "$log" >&2 || true; }

# Time scale 0.25: a Yi-34B/A100 decode step (~34 ms) is ~8.5 ms of wall. Wall overhead per event (HTTP, timers,
# two busy cores) is a millisecond or more and is magnified by 1/scale in model terms; at 0.05 a step would be
# 1.7 ms and timing.mjs's +-50% ITL bound would flake, at 0.25 it holds with room while the stage stays short.
step "start mockserve serve: HTTP 127.0.0.1:$http_port, gRPC $grpc_port, metrics $metrics_port, time scale 0.25"
dotnet "$dll" serve --http-port "$http_port" --port "$grpc_port" --metrics-port "$metrics_port" --time-scale 0.25 \
  >"$log" 2>&1 &
server_pid=$!

step "wait for readiness (GET /health = 200, at most 60 s)"
deadline=$((SECONDS + 60))
until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$http_port/health")" = "200" ]; do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    show_log
    wait "$server_pid" && status=0 || status=$?
    server_pid=""
    fail "the server exited with status $status before it was ready"
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    show_log
    fail "the server was not ready within 60 s"
  fi
  sleep 0.5
done
echo "ready after $((SECONDS - started)) s in all"

step "run.sh http://127.0.0.1:$http_port 127.0.0.1:$grpc_port"
"$here/run.sh" "http://127.0.0.1:$http_port" "127.0.0.1:$grpc_port" || { show_log; fail "run.sh failed"; }

step "stop the server (SIGTERM) and check it exits 0 within 40 s"
kill -TERM "$server_pid"
for _ in $(seq 1 80); do
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.5
done
if kill -0 "$server_pid" 2>/dev/null; then
  show_log
  fail "the server was still running 40 s after SIGTERM"
fi
wait "$server_pid" && status=0 || status=$?
server_pid=""
if [ "$status" -ne 0 ]; then
  show_log
  fail "the server exited with status $status after SIGTERM, expected 0"
fi
echo "server exited 0"

step "the server logged no handler error"
# Kestrel and grpc-dotnet write an unhandled handler exception as a "fail:" line with its stack trace.
if grep -n "fail: " "$log" >&2; then
  show_log
  fail "the server logged errors while the clients above ran"
fi
echo "no errors in the server log"

echo "openai interop passed in $((SECONDS - started)) s"
