#!/usr/bin/env bash
# Benchmarks `mockserve simulate` on the two reference workloads of one hour of model time:
#   (a) 64 users with 50K-token multi-turn sessions, yi-34b on one a100-80gb   (budget 2 s)
#   (b) 256 users with 8K-token sessions, llama-3.1-8b on one h100-sxm         (budget 60 s)
# Prints wall and CPU seconds, events simulated per CPU second and the ratio to the budget.
# With a git ref (e.g. `simulate.sh HEAD~3`), builds that ref too and runs it side by side as the baseline.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
trap 'git -C "$repo" worktree remove --force "$work/base" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

build() { # build DIR OUT
  dotnet publish "$1/src/MockServe.Server" -c Release -o "$2" --nologo -v quiet >/dev/null
}

field() { grep -o "\"$2\": *[0-9.eE+-]*" "$1" | tail -n 1 | sed 's/.*: *//'; }

run() { # run BIN_DIR LABEL NAME BUDGET ARGS...
  local bin="$1" label="$2" name="$3" budget="$4"; shift 4
  local out="$work/$label-$name.json" start end
  start=$(date +%s.%N)
  dotnet "$bin/mockserve.dll" simulate "$@" --duration 1h --format json >"$out"
  end=$(date +%s.%N)
  local process wall cpu events steps eps
  process=$(echo "$end - $start" | bc -l)
  wall=$(field "$out" wallSeconds); cpu=$(field "$out" cpuSeconds)
  events=$(field "$out" events); steps=$(field "$out" steps)
  eps=$(field "$out" eventsPerCpuSecond)
  printf '%-9s %-3s %8.2f %9.3f %9.3f %12d %10d %14.0f %10.1f\n' \
    "$label" "$name" "$process" "$wall" "$cpu" "$events" "$steps" "$eps" "$(echo "$budget / $process" | bc -l)"
  echo "$process" >"$work/$label-$name.time"
}

build "$repo" "$work/head"
labels=(head)
if [ $# -ge 1 ]; then
  git -C "$repo" worktree add --detach "$work/base" "$1" >/dev/null 2>&1
  build "$work/base" "$work/base-bin"
  labels=(base head)
fi

printf '%-9s %-3s %8s %9s %9s %12s %10s %14s %10s\n' build run process_s sim_wall_s sim_cpu_s events steps events/cpu_s under_budget_x
for label in "${labels[@]}"; do
  bin="$work/head"; [ "$label" = base ] && bin="$work/base-bin"
  run "$bin" "$label" a 2 --users 64 --context 50000
  run "$bin" "$label" b 60 --model llama-3.1-8b --gpu h100-sxm --users 256 --context 8000
done

if [ "${#labels[@]}" -eq 2 ]; then
  for name in a b; do
    printf 'run %s: head is %.2fx the speed of %s\n' "$name" \
      "$(echo "$(cat "$work/base-$name.time") / $(cat "$work/head-$name.time")" | bc -l)" "$1"
  done
fi
