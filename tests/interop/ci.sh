#!/usr/bin/env bash
# CI's interop stage: builds the server, starts it on free loopback ports, waits until it is ready, runs
# run.sh against it, then stops it and checks it shut down cleanly. Self-contained; called from .ci/run.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
started=$SECONDS

step() { echo "== interop: $*"; }
fail() { echo "FAILED: $*" >&2; exit 1; }

step "node and npm"
if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update
  $sudo apt-get install -y nodejs npm
fi
echo "node $(node --version), npm $(npm --version)"

step "npm ci (versions from package-lock.json)"
# Install scripts are not needed: buf's bin is a Node shim that finds its platform package by itself.
(cd "$here" && npm ci --ignore-scripts --no-audit --no-fund)

# shellcheck source=../lib/server.sh
source "$here/../lib/server.sh"
build_server
take_port port
take_port metrics_port
server_work_dir

step "start mockserve serve on 127.0.0.1:$port (metrics $metrics_port)"
dotnet "$dll" serve --http-port 0 --port "$port" --metrics-port "$metrics_port" --time-scale 0.01 >"$log" 2>&1 &
server_pid=$!

step "wait for readiness (grpc.health.v1.Health/Check mockserve.v1.InferenceService = SERVING, at most 60 s)"
buf="$here/node_modules/.bin/buf"
serving() {
  "$buf" curl --protocol grpc --http2-prior-knowledge --connect-timeout 1 --timeout 2s \
    -d '{"service":"mockserve.v1.InferenceService"}' "http://127.0.0.1:$port/grpc.health.v1.Health/Check" 2>/dev/null \
    | grep -q '"SERVING"'
}
wait_ready serving

step "run.sh 127.0.0.1:$port 127.0.0.1:$metrics_port"
"$here/run.sh" "127.0.0.1:$port" "127.0.0.1:$metrics_port" || { show_log; fail "run.sh failed"; }

stop_server_cleanly

echo "interop passed in $((SECONDS - started)) s"
