#!/usr/bin/env bash
# CI's observability stage: proves the Grafana dashboard and the Prometheus rules against a real Prometheus, here,
# without Docker. promtool checks the shipped configuration and runs the rules' unit tests; then a mockserve server
# and a short mockserve-load run on loopback are scraped by Prometheus started with the shipped configuration
# (its targets pointed at loopback, a 1 s scrape and rule interval), every query of every dashboard panel is
# evaluated through Prometheus's HTTP API and must return data (a panel that returns nothing fails, named), and
# the dashboard renderer draws the dashboard from that Prometheus into HTML that headless Chromium must render.
# Self-contained; called from .ci/run. OBS_OUT=DIR keeps the rendered dashboard there.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
started=$SECONDS

step() { echo "== observability: $*"; }
fail() { echo "FAILED: $*" >&2; exit 1; }

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
missing=()
command -v promtool >/dev/null && command -v prometheus >/dev/null || missing+=(prometheus)
command -v jq >/dev/null || missing+=(jq)
command -v curl >/dev/null || missing+=(curl)
command -v chromium >/dev/null || missing+=(chromium)
command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)
if [ "${#missing[@]}" -gt 0 ]; then
  step "apt-get install -y ${missing[*]}"
  $sudo apt-get update
  $sudo apt-get install -y "${missing[@]}"
fi

dashboard="$root/grafana/dashboards/mockserve.json"
config="$root/grafana/prometheus/prometheus.yml"
[ -f "$dashboard" ] || fail "no $dashboard"
[ -f "$config" ] || fail "no $config"

step "promtool check config, check rules, test rules"
promtool check config "$config"
promtool check rules "$root"/grafana/prometheus/rules/*.yml
promtool test rules "$root"/grafana/prometheus/tests/*.yml

step "dotnet build the server and the driver (Release)"
dotnet build "$root/src/MockServe.Server" -c Release --nologo -v quiet
dotnet build "$root/loadtests/MockServe.LoadTests" -c Release --nologo -v quiet
server_dll="$root/src/MockServe.Server/bin/Release/net10.0/mockserve.dll"
load_dll="$root/loadtests/MockServe.LoadTests/bin/Release/net10.0/mockserve-load.dll"

# A port is free when nothing accepts a connection on it; start at a random point so parallel jobs rarely race.
# Below Linux's ephemeral ports (32768-60999), which outgoing connections take without accepting anything.
taken=" "
free_port() {
  local port=$((20000 + RANDOM % 12000))
  for _ in $(seq 1 200); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && [[ "$taken" != *" $port "* ]]; then
      taken="$taken$port "
      echo "$port"
      return 0
    fi
    port=$((port + 1))
  done
  return 1
}
grpc_port=$(free_port) && metrics_port=$(free_port) && load_port=$(free_port) && prom_port=$(free_port) \
  || fail "no free loopback ports in 20000-32199"
taken="$taken$grpc_port $metrics_port $load_port $prom_port "

work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

wait_for() { # URL SECONDS WHAT
  local deadline=$((SECONDS + $2))
  until curl -fsS --max-time 2 "$1" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || fail "$3 did not answer $1 in $2 s"
    sleep 0.5
  done
}

step "start mockserve serve on 127.0.0.1:$grpc_port (metrics $metrics_port), time scale 0.02"
dotnet "$server_dll" serve --http-port 0 --port "$grpc_port" --metrics-port "$metrics_port" --time-scale 0.02 >"$work/server.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$metrics_port/metrics" 60 "the server"

# The shipped configuration with its targets on loopback, every interval 1 s, and absolute rule paths.
step "start prometheus on 127.0.0.1:$prom_port with grafana/prometheus/prometheus.yml, targets on loopback"
sed -E \
  -e "s#mockserve:9464#127.0.0.1:$metrics_port#g" \
  -e "s#mockserve-load:9465#127.0.0.1:$load_port#g" \
  -e "s#(scrape_interval|evaluation_interval): *[0-9]+[a-z]+#\1: 1s#g" \
  -e "s#^( *- *)(rules/)#\1$root/grafana/prometheus/\2#" \
  "$config" >"$work/prometheus.yml"
grep -q "127.0.0.1:$metrics_port" "$work/prometheus.yml" || fail "prometheus.yml has no mockserve:9464 target to point at loopback"
promtool check config "$work/prometheus.yml" >/dev/null
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="127.0.0.1:$prom_port" >"$work/prometheus.log" 2>&1 &
pids+=($!)
prom="http://127.0.0.1:$prom_port"
wait_for "$prom/-/ready" 60 "prometheus"

# 40 s of wall time: long-context-chat users queue, swap and decode, so every panel has something to show.
step "mockserve-load run --scenario long-context-chat --duration 2000s (40 s of wall time at 0.02), metrics on $load_port"
from=$(date +%s)
timeout -k 10 150 dotnet "$load_dll" run --target "http://127.0.0.1:$grpc_port" --scenario long-context-chat \
  --users 4 --duration 2000s --metrics-port "$load_port" --progress none >"$work/load.log" 2>&1 &
load_pid=$!
pids+=("$load_pid")
wait_for "http://127.0.0.1:$load_port/metrics" 60 "the load driver's metrics"
sleep 30
to=$(date +%s)

step "every query of every panel returns data (query_range over the run so far, step 2 s)"
# Template variables as Grafana's "All" (.*, which also matches a series without the label, as replica is absent on a
# single-engine server); Grafana's interval macros as a window the 1 s scrape fills.
jq -r '[.. | objects | select(has("targets") and (.targets | type == "array"))] | .[] | . as $p
       | .targets[] | select(.expr != null and .expr != "") | [($p.id | tostring), $p.title, .expr] | @tsv' "$dashboard" \
  >"$work/queries.tsv"
queries=$(wc -l <"$work/queries.tsv")
[ "$queries" -gt 0 ] || fail "the dashboard has no queries"
empty=0
while IFS=$'\t' read -r id title expr; do
  q=$(sed -E -e 's/\$\{?(instance|model|gpu|replica)(:[a-z]+)?\}?/.*/g' -e 's/\$__rate_interval|\$__interval|\$\{__rate_interval\}/30s/g' \
    -e 's/\$__range/5m/g' <<<"$expr")
  answer=$(curl -fsS --max-time 10 "$prom/api/v1/query_range" --data-urlencode "query=$q" \
    --data-urlencode "start=$from" --data-urlencode "end=$to" --data-urlencode "step=2") \
    || { echo "FAIL panel $id \"$title\": Prometheus refused $q"; empty=$((empty + 1)); continue; }
  series=$(jq '.data.result | length' <<<"$answer")
  if [ "$series" -eq 0 ]; then
    echo "FAIL panel $id \"$title\": no data for $q"
    empty=$((empty + 1))
  else
    echo "ok   panel $id \"$title\": $series series for $q"
  fi
done <"$work/queries.tsv"
[ "$empty" -eq 0 ] || { tail -n 20 "$work/load.log" >&2; fail "$empty of $queries panel queries returned no data"; }
echo "$queries queries, all with data"

step "mockserve-load dashboard: the dashboard drawn from that Prometheus, rendered in headless Chromium"
timeout -k 10 120 dotnet "$load_dll" dashboard --prometheus "$prom" --dashboard "$dashboard" \
  --from "$from" --to "$to" --step 2s --scrape-interval 1s --require-data --out "$work/dashboard"
(cd "$root/loadtests/report-render" && npm ci --ignore-scripts --no-audit --no-fund >/dev/null)
panels=$(jq '[.. | objects | select(has("targets") and (.targets | type == "array"))] | length' "$dashboard")
node "$root/loadtests/report-render/render.mjs" "$work/dashboard/dashboard.html" --min-charts "$panels" \
  || fail "dashboard.html did not render cleanly"

if [ -n "${OBS_OUT:-}" ]; then mkdir -p "$OBS_OUT" && cp -r "$work/dashboard/." "$OBS_OUT/"; fi

wait "$load_pid" || fail "mockserve-load exited with status $? (see above)"
echo "observability passed in $((SECONDS - started)) s"
