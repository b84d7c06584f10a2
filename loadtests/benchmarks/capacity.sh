#!/usr/bin/env bash
# Benchmarks `mockserve capacity` on its full default grid: the 5 GPU presets x the 5 model presets at 8K, 32K and
# each model's longest context below 128K (65 deployments; those that cannot hold one context are listed, not run),
# default workload, SLO and 5-minute runs. Goal: under a minute of wall time on a 2-core machine.
# Prints the table, the process's wall and CPU seconds, and the load average before the run (other work on the
# machine shares the cores, so say what else was running when quoting the figure).
#   loadtests/benchmarks/capacity.sh [--seeds N] [any other capacity flags]
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

dotnet publish "$repo/src/MockServe.Server" -c Release -o "$work/bin" --nologo -v quiet >/dev/null
echo "cores: $(nproc); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
# A first, discarded call pays the JIT and the file cache once, as a planner's second run would.
dotnet "$work/bin/mockserve.dll" capacity --model llama-3.1-8b --gpu h100-sxm --context 8k --duration 1m >/dev/null 2>&1
start=$(date +%s.%N)
/usr/bin/time -f "%e %U %S" -o "$work/time" dotnet "$work/bin/mockserve.dll" capacity "$@"
end=$(date +%s.%N)
read -r wall user sys <"$work/time"
printf 'capacity default grid: %.1f s wall, %.1f s CPU (user %s + sys %s), goal under 60 s wall\n' \
  "$(echo "$end - $start" | bc -l)" "$(echo "$user + $sys" | bc -l)" "$user" "$sys"
