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

# shellcheck source=../lib/server.sh
source "$here/../lib/server.sh"
build_server
take_port http_port
take_port grpc_port
take_port metrics_port
server_work_dir

# Time scale 0.25: a Yi-34B/A100 decode step (~34 ms) is ~8.5 ms of wall. Wall overhead per event (HTTP, timers,
# two busy cores) is a millisecond or more and is magnified by 1/scale in model terms; at 0.05 a step would be
# 1.7 ms and timing.mjs's +-50% ITL bound would flake, at 0.25 it holds with room while the stage stays short.
step "start mockserve serve: HTTP 127.0.0.1:$http_port, gRPC $grpc_port, metrics $metrics_port, time scale 0.25"
dotnet "$dll" serve --http-port "$http_port" --port "$grpc_port" --metrics-port "$metrics_port" --time-scale 0.25 \
  >"$log" 2>&1 &
server_pid=$!

step "wait for readiness (GET /health = 200, at most 60 s)"
health_ok() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$http_port/health")" = "200" ]; }
wait_ready health_ok

step "run.sh http://127.0.0.1:$http_port 127.0.0.1:$grpc_port"
"$here/run.sh" "http://127.0.0.1:$http_port" "127.0.0.1:$grpc_port" || { show_log; fail "run.sh failed"; }

step "h2c on the same port: curl --http2-prior-knowledge GET /v1/models"
got="$(curl --http2-prior-knowledge -sS -o /dev/null -w '%{http_code} HTTP/%{http_version}' --max-time 10 \
  "http://127.0.0.1:$http_port/v1/models")" || { show_log; fail "curl --http2-prior-knowledge failed"; }
[ "$got" = "200 HTTP/2" ] || { show_log; fail "h2c GET /v1/models answered '$got', not '200 HTTP/2'"; }
echo "$got"

stop_server_cleanly

echo "openai interop passed in $((SECONDS - started)) s"
