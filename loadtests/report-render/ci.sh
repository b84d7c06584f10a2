#!/usr/bin/env bash
# CI's report-render stage: builds mockserve-load, runs long-context-chat end to end against the embedded server,
# checks the four report files (requests.jsonl line by line, later turns that found their history hot or on the host, report.csv's
# header), opens report.html in headless Chromium with render.mjs, then checks that a broken --slo exits 1 and
# names its threshold. Self-contained; called from .ci/run.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
started=$SECONDS

step() { echo "== report-render: $*"; }
fail() { echo "FAILED: $*" >&2; exit 1; }

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
updated=""
apt_install() {
  if [ -z "$updated" ]; then $sudo apt-get update; updated=1; fi
  $sudo apt-get install -y "$@"
}

step "node, npm and chromium"
if ! command -v npm >/dev/null || ! command -v node >/dev/null; then apt_install nodejs npm; fi
# Debian's own chromium, not Playwright's download: npm ci skips install scripts and no browser is fetched.
if [ ! -x /usr/bin/chromium ]; then apt_install chromium; fi
echo "node $(node --version), npm $(npm --version), $(/usr/bin/chromium --version 2>/dev/null | head -n 1)"

step "npm ci (versions from package-lock.json)"
(cd "$here" && npm ci --ignore-scripts --no-audit --no-fund)

step "dotnet build loadtests/MockServe.LoadTests -c Release"
dotnet build "$root/loadtests/MockServe.LoadTests" -c Release --nologo -v quiet
dll="$root/loadtests/MockServe.LoadTests/bin/Release/net10.0/mockserve-load.dll"
[ -f "$dll" ] || fail "the build produced no $dll"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# A run outlives --duration by its users' last think times and its start-up; 120 s bounds a hung one.
load() { timeout -k 10 120 dotnet "$dll" run --scenario long-context-chat --time-scale 0.01 --metrics-port 0 "$@"; }

# Two users hold 50K-token conversations: their prefills queue behind each other, and a turn finds its history
# hot, swapped to host, or dropped. The driver keeps the server's clock: 800 s of model time are 8 s of wall time at
# 0.01, where a 50K prefill (about 12 s of model time) takes about 0.12 s.
report="$work/report"
step "mockserve-load run --scenario long-context-chat --duration 800s --users 2 --time-scale 0.01 --report-dir DIR"
status=0
load --duration 800s --users 2 --report-dir "$report" >"$work/run.out" 2>&1 || status=$?
if [ "$status" -ne 0 ]; then
  tail -n 40 "$work/run.out" >&2
  fail "the run exited with status $status, expected 0"
fi
grep -v '^\[' "$work/run.out" | head -n 4
echo "exit 0"

step "report files"
for file in report.md report.csv requests.jsonl report.html; do
  [ -s "$report/$file" ] || fail "the run wrote no $file (or an empty one)"
done
header="$(head -n 1 "$report/report.csv")"
[ "$header" = "scenario,metric,count,p50,p90,p95,p99,p999,max,unit" ] \
  || fail "report.csv's header is '$header', expected scenario,metric,count,p50,p90,p95,p99,p999,max,unit"
echo "report.md, report.csv (header ok), requests.jsonl, report.html"

# Field names as Reports/RequestLog.cs writes them; turn counts from 0, cache_state is new, hot, host or miss.
node - "$report/requests.jsonl" <<'EOF' || fail "requests.jsonl is not as expected"
const lines = require('node:fs').readFileSync(process.argv[2], 'utf8').split('\n').filter((l) => l.length > 0);
const states = {};
let reused = 0;
lines.forEach((line, i) => {
  let request;
  try {
    request = JSON.parse(line);
  } catch (error) {
    console.error(`line ${i + 1} is not JSON: ${error.message}`);
    process.exit(1);
  }
  for (const field of ['scenario', 'turn', 'ok', 'ttft_ms', 'cache_state']) {
    if (!(field in request)) {
      console.error(`line ${i + 1} has no ${field}`);
      process.exit(1);
    }
  }
  states[request.cache_state] = (states[request.cache_state] ?? 0) + 1;
  // One 50K user fills the HBM: a later turn finds its history hot, or swapped to host and brought back.
  if (request.turn > 0 && (request.cache_state === 'hot' || request.cache_state === 'host')) reused++;
});
console.log(`${lines.length} requests, cache states ${JSON.stringify(states)}, ${reused} later turns reused their history (hot or host)`);
if (lines.length === 0 || reused === 0) {
  console.error('expected at least one request, and one later turn that found its history hot or on the host');
  process.exit(1);
}
EOF

step "render.mjs report.html in headless Chromium"
# Six: the built-in charts of Reports/ReportCharts.cs; monitors' series add more.
node "$here/render.mjs" "$report/report.html" --min-charts 6 || fail "report.html did not render cleanly"

step "mockserve-load run ... --slo ttft-p99=1ms must exit 1 and name the threshold"
status=0
load --duration 300s --users 1 --slo ttft-p99=1ms >"$work/slo.out" 2>&1 || status=$?
if [ "$status" -ne 1 ]; then
  tail -n 40 "$work/slo.out" >&2
  fail "a broken --slo ttft-p99=1ms exited with status $status, expected 1"
fi
grep -E 'ttft-p99.*1 ?ms' "$work/slo.out" || { tail -n 20 "$work/slo.out" >&2; fail "the output does not name ttft-p99 and its limit 1ms"; }
echo "exit 1"

echo "report-render passed in $((SECONDS - started)) s"
