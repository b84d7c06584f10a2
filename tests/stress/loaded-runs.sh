#!/usr/bin/env bash
# Runs the server test assembly RUNS times in a row (default 20) while one CPU burner per core keeps the machine
# busy, and stops at the first failure. Not part of CI: it shows that the tests which touch wall-clock time keep
# bounds that hold on a loaded machine. Usage: tests/stress/loaded-runs.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/../.."
runs="${1:-20}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

dotnet build tests/MockServe.Server.Tests -v quiet --nologo >/dev/null
burners=()
trap 'kill "${burners[@]}" 2>/dev/null || true' EXIT
for _ in $(seq 1 "$(nproc)"); do
  # A busy loop at normal priority, as another build or test job would be.
  (while :; do :; done) &
  burners+=($!)
done

passed=0
for run in $(seq 1 "$runs"); do
  start=$SECONDS
  if out=$(dotnet test tests/MockServe.Server.Tests --no-build 2>&1); then
    passed=$((passed + 1))
    echo "run $run: passed in $((SECONDS - start)) s ($(grep -o 'Passed: *[0-9]*' <<<"$out" | tail -1))"
  else
    echo "run $run: FAILED after $((SECONDS - start)) s"
    grep -E '^\s+Failed |Error Message' -A4 <<<"$out" | head -40
    exit 1
  fi
done
echo "$passed of $runs runs passed beside $(nproc) CPU burners"
