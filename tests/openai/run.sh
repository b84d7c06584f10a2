#!/usr/bin/env bash
# Interop checks of MockServe's OpenAI-compatible HTTP face, with clients not written here: the npm openai SDK
# (client.mjs), client-measured TTFT and ITL against the server's cost model (timing.mjs), curl -N timestamped
# line by line (curl-stamp.mjs) and a headless locust run of locustfile.py.
# Usage: tests/openai/run.sh http://127.0.0.1:HTTP_PORT 127.0.0.1:GRPC_PORT   (after `npm ci` in tests/openai;
# locust from Debian's python3-locust). Every call is bounded in time.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
http="${1:-}"
grpc_address="${2:-}"
http="${http%/}"
if [ -z "$http" ] || [ -z "$grpc_address" ]; then
  echo "usage: $0 http://127.0.0.1:HTTP_PORT 127.0.0.1:GRPC_PORT" >&2
  exit 2
fi
step() { echo "== $*"; }
fail() { echo "FAILED: $*" >&2; exit 1; }
[ -d "$here/node_modules/openai" ] || fail "missing $here/node_modules/openai: run 'npm ci --ignore-scripts' in tests/openai first"

step "npm openai SDK: streamed chat with include_usage, chat, streamed completions, models.list, 404, x-session-id"
timeout 120 node "$here/client.mjs" "$http" || fail "client.mjs failed"

step "timing: client TTFT and ITL against the model times (gRPC Estimate) at the server's time scale"
timeout 120 node "$here/timing.mjs" "$http" "$grpc_address" || fail "timing.mjs failed"

# 40 tokens decode for 39 steps; at time scale 0.25 a Yi-34B/A100 step is ~8.5 ms of wall, ~330 ms in all. A server
# that buffered the stream would deliver every line within a millisecond or two; 150 ms is under half the model span.
step "curl -N: data: lines of a 40-token stream arrive over time"
node "$here/curl-stamp.mjs" 150 "$http/v1/chat/completions" \
  '{"messages": [{"role": "user", "content": "Tell me a story"}], "max_tokens": 40, "ignore_eos": true,
    "stream": true, "stream_options": {"include_usage": true}}' || fail "curl -N check failed"

step "locust (headless, 4 users, 10 s): streamed chat completions, status 200 and [DONE]"
command -v locust >/dev/null || fail "locust is not installed (apt-get install -y python3-locust)"
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
# locust exits 1 when any request failed; -s bounds the stop; timeout bounds the whole run.
status=0
(cd "$here" && timeout 60 locust -f locustfile.py --headless -u 4 -r 4 -t 10s -s 5 --host "$http" --only-summary \
  >"$out" 2>&1) || status=$?
read -r requests failures < <(awk '$1 == "Aggregated" { sub(/\(.*/, "", $3); print $2, $3; exit }' "$out")
if [ "$status" -ne 0 ] || [ "${requests:-0}" -eq 0 ] || [ "${failures:-1}" -ne 0 ]; then
  cat "$out" >&2
  fail "locust exited $status with ${requests:-no} requests and ${failures:-unknown} failures"
fi
echo "locust: $requests requests, $failures failures"

echo "openai interop checks passed against $http"
