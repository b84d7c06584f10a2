#!/usr/bin/env bash
# The reliability suites against the real server, one process each (see README.md beside this script).
#
#   loadtests/reliability/run.sh SUITE|all [--smoke] [SUITE OPTIONS...]
#
# SUITE is fuzz, frames, overload, storm, flood, soak or sigterm; `all` runs them one after the other and goes on
# past a failing one. Builds the server and the suites (Release) first. Exits 0 when every suite run passed, 1 when
# a check failed, 2 when a suite could not run.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
suites=(fuzz frames overload storm flood soak sigterm)

[ $# -ge 1 ] || { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
which="$1"; shift
if [ "$which" = all ]; then
  run=("${suites[@]}")
elif [[ " ${suites[*]} " == *" $which "* ]]; then
  run=("$which")
else
  echo "unknown suite '$which': expected one of ${suites[*]} or all" >&2
  exit 2
fi

began=$SECONDS
echo "== building the server and the suites (Release)"
dotnet build "$repo/src/MockServe.Server" -c Release --nologo -v quiet >/dev/null
dotnet build "$repo/loadtests/reliability/MockServe.Reliability" -c Release --nologo -v quiet >/dev/null
bin="$repo/loadtests/reliability/MockServe.Reliability/bin/Release/net10.0/mockserve-reliability.dll"
dll="$repo/src/MockServe.Server/bin/Release/net10.0/mockserve.dll"

status=0 passed=0 failed=0 summary=()
for suite in "${run[@]}"; do
  start=$SECONDS
  code=0
  dotnet "$bin" "$suite" --server-dll "$dll" "$@" || code=$?
  if [ "$code" -eq 0 ]; then
    passed=$((passed + 1)); summary+=("$suite: passed in $((SECONDS - start)) s")
  else
    failed=$((failed + 1)); summary+=("$suite: FAILED (exit $code) in $((SECONDS - start)) s")
    [ "$code" -gt "$status" ] && status=$code
  fi
  echo
done

echo "== reliability suites, $((SECONDS - began)) s in all (build included)"
printf '%s\n' "${summary[@]}"
echo "reliability: $passed passed, $failed failed"
exit "$status"
